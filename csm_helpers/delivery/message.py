"""The message of one segment: subject, HTML body (``templates/csm_email``) and text body with the KPI table, the reports attached within the size limit, and ``.eml`` files for a dry run."""

from __future__ import annotations

import datetime as _dt
import email.policy
import re
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from email.headerregistry import Address
from email.message import EmailMessage
from email.utils import format_datetime, make_msgid
from pathlib import Path
from typing import Any

from csm_helpers import __version__
from csm_helpers.core.errors import CsmError
from csm_helpers.core.i18n import HTML_LANG, N_, _, language, tr
from csm_helpers.core.paths import check_output_folder
from csm_helpers.core.safety import write_bytes_atomic
from csm_helpers.delivery.addresses import DEFAULT_SENDER, parse_addresses
from csm_helpers.delivery.reports import (
    FOLLOW_UP_FILE,
    SegmentReports,
    find_segment_reports,
    report_language,
    segment_matches,
)
from csm_helpers.present.catalogue import ci_text, format_kpi, kpi_label, segment_label
from csm_helpers.present.templates import render
from csm_helpers.study.stages import STAGE_TITLES

__all__ = ["MB", "Log", "summary_html", "summary_text", "OutgoingMessage", "single_line", "build_message",
           "build_follow_up_message", "plan_messages", "write_eml"]


#: One megabyte as ``--max-size`` counts it (SI: 1,000,000 bytes).
MB = 1_000_000


#: CRLF line ends as on the wire; 7-bit transfer encodings (quoted-printable/base64), so
#: any server takes the message, with or without 8BITMIME.
_POLICY = email.policy.SMTP.clone(cte_type="7bit")


Log = Callable[[str], None]


# --------------------------------------------------------------------------- message body
_NO_SUMMARY = N_("{problem}: no KPI summary for this segment.")


_OPEN_ATTACHED = N_("Open the attached files in a web browser: each report is a self-contained page that "
                    "needs no internet connection.")


_SENT_BY = N_("Sent automatically by csm-workbook {version}.")


def _num(value: Any, kpi: str) -> str:
    if isinstance(value, bool) or (value is not None and not isinstance(value, int | float)):
        return str(value)
    return format_kpi(kpi, value, missing="—")


def _summary(metrics: Mapping[str, Any]) -> Mapping[str, Any]:
    """The report's own headline summary (``metrics.json`` ``summary``), else empty."""
    summary = metrics.get("summary")
    return summary if isinstance(summary, dict) else {}


def _text(value: Any) -> str:
    return value if isinstance(value, str) else ""


def _kpi_tiles(metrics: Mapping[str, Any]) -> list[dict[str, str]]:
    """The KPI tiles as the reports show them (the summary's text, so every number is rounded
    exactly as in the report); from ``kpis`` when the summary is missing (an older run)."""
    tiles = _summary(metrics).get("tiles")
    if isinstance(tiles, list) and tiles:
        out = []
        for t in tiles:
            if not isinstance(t, dict):
                continue
            target = _text(t.get("target"))
            status = _text(t.get("status"))
            out.append({"kpi": _text(t.get("label")), "value": _text(t.get("value")),
                        "arrow": _text(t.get("arrow")), "ci": _text(t.get("interval")),
                        "target": f"{target} · {status}" if target and status else target or status,
                        "change": _text(t.get("change")), "n": _text(t.get("n_text")),
                        "status": _text(t.get("status_class"))})
        return out
    kpis = metrics.get("kpis")
    if not isinstance(kpis, dict):
        return []
    out = []
    for key, entry in kpis.items():
        if not isinstance(entry, dict):
            continue
        label = kpi_label(str(key))
        n = _("n = {n}", n=_int(entry.get("n")))
        if entry.get("suppressed"):
            out.append({"kpi": label, "value": _("suppressed"), "arrow": "", "ci": "",
                        "target": _("fewer respondents than the minimum cell size"), "change": "", "n": n,
                        "status": "suppressed"})
            continue
        lo, hi = entry.get("ci_low"), entry.get("ci_high")
        met = entry.get("met")
        target = entry.get("target")
        status = ({True: _("met"), False: _("not met")}.get(met, "") if isinstance(met, bool | None) else str(met))
        target_text = (_("target {value}", value=_num(target, key)) if target is not None else _("no target"))
        out.append({"kpi": label, "value": _num(entry.get("value"), key), "arrow": "",
                    "ci": "" if lo is None and hi is None else _ci(entry, _num(lo, key), _num(hi, key)),
                    "target": f"{target_text} · {status}" if status else target_text, "change": "", "n": n,
                    "status": {True: "met", False: "not-met"}.get(met, "") if isinstance(met, bool | None) else ""})
    return out


def _ci(entry: Mapping[str, Any], low: str, high: str) -> str:
    """"90% CI low – high" with the level the run recorded; a ``metrics.json`` from before the
    level was recorded says only "CI" rather than assume 95 %."""
    level = entry.get("level")
    if isinstance(level, int | float) and not isinstance(level, bool) and 0 < level < 1:
        return ci_text(low, high, level)
    return _("CI {low} – {high}", low=low, high=high)


def _list(value: Any) -> list[str]:
    return [v for v in value if isinstance(v, str)] if isinstance(value, list) else []


def _segment_line(seg: SegmentReports) -> str:
    """"Region: Hanoi · 2026-H1 · n = 1,158 respondents": the segment, the reported wave and the
    base of the KPIs, as in the report header."""
    m = seg.metrics
    n = m.get("n_reported") if isinstance(m.get("n_reported"), int) else m.get("n")
    wave = _text(_summary(m).get("wave"))
    parts = [segment_label(seg.segment)]
    if wave:
        parts.append(_("wave {wave}", wave=wave))
    parts.append(_("n = {n} respondents", n=_int(n)))
    return " · ".join(parts)


def _int(value: Any) -> str:
    if isinstance(value, int) and not isinstance(value, bool):
        return f"{value:,}"
    if isinstance(value, float) and value == value and value.is_integer():
        return f"{int(value):,}"
    return "—" if value is None else str(value)


def _stage_label(path: Path) -> str:
    if path.suffix == ".csv":
        return f"{path.stem[:2]} · {_('Action register (CSV, for the team to fill in)')}"
    stem = path.stem
    title = STAGE_TITLES.get(stem)
    return f"{stem[:2]} · {tr(title)}" if title else stem


def _file_size(path: Path) -> str:
    try:
        return f" ({_size(path.stat().st_size)})"
    except OSError:
        return ""


def _size(nbytes: int) -> str:
    return f"{nbytes / MB:.2f} MB" if nbytes >= 100_000 else f"{nbytes / 1000:.0f} KB"


def summary_html(seg: SegmentReports, *, study_name: str, attached: Sequence[Path],
                 left_out: Sequence[tuple[Path, str]]) -> str:
    """The HTML body of a segment's message: inline CSS only, every value escaped.

    Parameters
    ----------
    seg : SegmentReports
        The segment (its ``metrics.json`` gives n and the KPI table).
    study_name : str
        Shown as the title.
    attached : sequence of Path
        The reports attached, in order.
    left_out : sequence of (Path, str)
        Reports not attached and why.

    Examples
    --------
    >>> from pathlib import Path
    >>> seg = SegmentReports("region=<b>x</b>", Path("r"), {"n": 12}, [Path("r/04_analysis.html")])
    >>> body = summary_html(seg, study_name="<script>alert(1)</script>", attached=seg.reports, left_out=[])
    >>> "<script" in body, "&lt;script&gt;" in body, "&lt;b&gt;x&lt;/b&gt;" in body
    (False, True, True)
    """
    lang = report_language(seg)
    with language(lang):
        return _summary_html(seg, study_name=study_name, attached=attached, left_out=left_out, lang=lang)


def _summary_html(seg: SegmentReports, *, study_name: str, attached: Sequence[Path],
                  left_out: Sequence[tuple[Path, str]], lang: str) -> str:
    summary = _summary(seg.metrics)
    return render(
        "csm_email/body.html.j2", html_lang=HTML_LANG[lang], study_name=study_name, segment=segment_label(seg.segment),
        segment_line=_segment_line(seg), problems=[_(_NO_SUMMARY, problem=p) for p in seg.problems],
        tiles=_kpi_tiles(seg.metrics), headline=_text(summary.get("headline")),
        priorities=_list(summary.get("priorities")), caveats=_list(summary.get("caveats")),
        attached=[{"stage": _stage_label(p), "name": p.name, "size": _file_size(p)} for p in attached],
        left_out=[(p.name, why) for p, why in left_out],
        t={"headline_kpis": _("Headline KPIs"), "no_kpis": _("No headline KPIs were recorded for this segment."),
           "priorities": _("Top priorities"), "caveats": _("About the data"),
           "attached": _("Attached reports"), "none_attached": _("None: no report fitted in the size limit."),
           "not_attached": _("Reports not attached"), "open_attached": tr(_OPEN_ATTACHED),
           "sent_by": _(_SENT_BY, version=__version__)},
    ) + "\n"


def summary_text(seg: SegmentReports, *, study_name: str, attached: Sequence[Path],
                 left_out: Sequence[tuple[Path, str]]) -> str:
    """The plain-text alternative of :func:`summary_html` (same content).

    Examples
    --------
    >>> from pathlib import Path
    >>> seg = SegmentReports("all", Path("r"), {"n": 2400, "kpis": {"nps": {"value": 21.04,
    ...     "ci_low": 15.2, "ci_high": 26.9, "n": 900, "target": 30, "met": False, "level": 0.95}}}, [])
    >>> print(summary_text(seg, study_name="Bank", attached=[], left_out=[]).splitlines()[4])
      NPS (−100 to +100): +21.0 (95% CI +15.2 – +26.9; target +30.0 · not met; n = 900)
    """
    with language(report_language(seg)):
        return _summary_text(seg, study_name=study_name, attached=attached, left_out=left_out)


def _summary_text(seg: SegmentReports, *, study_name: str, attached: Sequence[Path],
                  left_out: Sequence[tuple[Path, str]]) -> str:
    summary = _summary(seg.metrics)
    lines = [study_name, _segment_line(seg), ""]
    lines += [_(_NO_SUMMARY, problem=p) for p in seg.problems]
    tiles = _kpi_tiles(seg.metrics)
    if tiles:
        lines.append(_("Headline KPIs"))
        for r in tiles:
            details = "; ".join(x for x in (r["ci"], r["target"], r["change"], r["n"]) if x)
            lines.append(f"  {r['kpi']}: {r['value']}{' ' + r['arrow'] if r['arrow'] else ''} ({details})")
        lines.append("")
    if _text(summary.get("headline")):
        lines += [summary["headline"], ""]
    for title, items in ((_("Top priorities"), _list(summary.get("priorities"))),
                         (_("About the data"), _list(summary.get("caveats")))):
        if items:
            lines += [title] + [f"  - {item}" for item in items] + [""]
    lines.append(_("Attached reports"))
    lines += [f"  {i}. {_stage_label(p)} — {p.name}{_file_size(p)}"
              for i, p in enumerate(attached, 1)] or ["  " + _("None: no report fitted in the size limit.")]
    if left_out:
        lines += ["", _("Reports not attached")] + [f"  - {p.name}: {why}" for p, why in left_out]
    lines += ["", tr(_OPEN_ATTACHED), _(_SENT_BY, version=__version__)]
    return "\n".join(lines) + "\n"


# --------------------------------------------------------------------------- message
@dataclass
class OutgoingMessage:
    """One composed message: the segment, the message, who gets it, what is attached."""

    segment: str
    folder: Path
    message: EmailMessage
    recipients: list[Address]
    attached: list[Path]
    left_out: list[tuple[Path, str]]
    size: int

    @property
    def envelope_to(self) -> list[str]:
        """Envelope recipients (bare addresses)."""
        return [a.addr_spec for a in self.recipients]

    @property
    def sender(self) -> str:
        """Envelope sender (bare address)."""
        return self.message["From"].addresses[0].addr_spec

    def wire_bytes(self) -> bytes:
        """The message exactly as it is sent (CRLF line ends)."""
        return _wire(self.message)


def _wire(msg: EmailMessage) -> bytes:
    return msg.as_bytes(policy=_POLICY)


def single_line(text: str) -> str:
    return " ".join("".join(c if c.isprintable() else " " for c in text).split())


def _new_message(*, subject: str, sender: Address, recipients: Sequence[Address]) -> EmailMessage:
    """A message with the headers every message of ``csm send`` carries, and no body yet."""
    msg = EmailMessage(policy=_POLICY)
    msg["Subject"] = subject
    msg["From"] = sender
    msg["To"] = list(recipients)
    msg["Date"] = format_datetime(_dt.datetime.now(_dt.UTC).astimezone())
    msg["Message-ID"] = make_msgid(idstring="csm", domain=sender.domain.strip("[]") or "localhost")
    msg["Auto-Submitted"] = "auto-generated"
    msg["X-Mailer"] = f"csm-workbook {__version__}"
    return msg


def _compose(seg: SegmentReports, *, study_name: str, recipients: Sequence[Address], sender: Address,
             subject: str, attached: Sequence[Path], left_out: Sequence[tuple[Path, str]],
             contents: Mapping[Path, bytes]) -> EmailMessage:
    msg = _new_message(subject=subject, sender=sender, recipients=recipients)
    kw = {"study_name": study_name, "attached": attached, "left_out": left_out}
    msg.set_content(summary_text(seg, **kw))
    msg.add_alternative(summary_html(seg, **kw), subtype="html")
    for path in attached:
        msg.add_attachment(contents[path], maintype="text", subtype="csv" if path.suffix == ".csv" else "html",
                           filename=path.name, params={"charset": "utf-8"})
    return msg


def build_message(seg: SegmentReports, *, recipients: Sequence[Address],
                  sender: str | Address = DEFAULT_SENDER, subject: str | None = None,
                  study_name: str | None = None, max_bytes: int = 10 * MB) -> OutgoingMessage:
    """Compose one segment's message, attaching as many reports as fit in ``max_bytes``.

    Reports are tried in stage order; one that would push the encoded message over
    ``max_bytes`` is left out (and a later, smaller one may still fit). The body lists
    what was left out and why, and the final message — body included — is measured again.

    Parameters
    ----------
    seg : SegmentReports
        From :func:`find_segment_reports`.
    recipients : sequence of Address
        From :func:`parse_addresses`; all of them go into ``To``.
    sender : str or Address
        ``From``.
    subject : str, optional
        Default ``"<study> — <segment> — CSM reports"``; ``{study}`` and ``{segment}`` are
        replaced. Line breaks and control characters are turned into spaces.
    study_name : str, optional
        Default ``metrics.json``'s ``study``, else the folder's parent's name.
    max_bytes : int
        Size limit of the encoded message (as sent: CRLF, base64 attachments).

    Raises
    ------
    CsmError
        No recipients, or the limit is too small for even the summary without attachments.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> d = pathlib.Path(tempfile.mkdtemp())
    >>> (d / "all").mkdir()
    >>> _ = (d / "all" / "01_goal_setting.html").write_text("<p>hello</p>")
    >>> seg = find_segment_reports(d)[0]
    >>> out = build_message(seg, recipients=parse_addresses("a@x.vn"), study_name="Khảo sát")
    >>> out.message["Subject"], [a.name for a in out.attached], out.size <= 10 * MB
    ('Khảo sát — All customers — CSM reports', ['01_goal_setting.html'], True)
    """
    if not recipients:
        raise CsmError(f"segment {seg.segment!r}: no recipients — give --to or a --lists entry for it")
    if isinstance(sender, str):
        sender = parse_addresses(sender, source="--from")[0]
    name = study_name or seg.metrics.get("study") or seg.folder.parent.name or "CSM study"
    name = str(name)
    lang = report_language(seg)
    wave = _text(_summary(seg.metrics).get("wave"))
    if subject is None:
        subject = tr(N_("{study} — {segment} — {wave} — CSM reports") if wave else
                     N_("{study} — {segment} — CSM reports"), lang)
    with language(lang):
        label = segment_label(seg.segment)
    fields = {"{study}": single_line(name), "{segment}": single_line(label), "{wave}": single_line(wave)}
    subject = single_line(re.sub(r"\{study\}|\{segment\}|\{wave\}", lambda m: fields[m.group(0)], subject))
    files = [*seg.reports, *seg.files]
    contents = {p: p.read_bytes() for p in files}
    common = {"study_name": name, "recipients": recipients, "sender": sender, "subject": subject,
              "contents": contents}
    limit = f"{max_bytes / MB:g} MB"

    base = _wire(_compose(seg, attached=[], left_out=[], **common))
    if len(base) > max_bytes:
        raise CsmError(f"segment {seg.segment!r}: the summary message alone is {_size(len(base))}, over "
                       f"--max-size {limit} — raise --max-size")
    attached: list[Path] = []
    left_out: list[tuple[Path, str]] = []
    for path in files:
        size = len(_wire(_compose(seg, attached=[*attached, path], left_out=left_out, **common)))
        if size <= max_bytes:
            attached.append(path)
        else:
            left_out.append((path, tr(N_("the report is {report}; attaching it would make the message {size}, "
                                         "over the {limit} limit — raise --max-size or share it another way"),
                                      lang, report=_size(len(contents[path])), size=_size(size), limit=limit)))
    while True:
        msg = _compose(seg, attached=attached, left_out=left_out, **common)
        size = len(_wire(msg))
        if size <= max_bytes or not attached:
            break
        last = attached.pop()  # the summary of what was left out made the message grow
        left_out.append((last, tr(N_("with the list of left-out reports the message would exceed the {limit} "
                                     "limit — raise --max-size"), lang, limit=limit)))
    left_out.sort(key=lambda item: files.index(item[0]))
    return OutgoingMessage(segment=seg.segment, folder=seg.folder, message=msg, recipients=list(recipients),
                           attached=list(attached), left_out=left_out, size=size)


def _merge(*groups: Iterable[Address]) -> list[Address]:
    out: dict[str, Address] = {}
    for group in groups:
        for addr in group:
            out.setdefault(addr.addr_spec.lower(), addr)
    return list(out.values())


def build_follow_up_message(seg: SegmentReports, *, recipients: Sequence[Address],
                            sender: str | Address = DEFAULT_SENDER, study_name: str | None = None,
                            max_bytes: int = 10 * MB) -> OutgoingMessage:
    """A message with only the segment's follow-up list (``follow_up.csv``, personal data).

    It goes on its own, never with the reports, to the recipients ``csm send --with-follow-up``
    names; its body says what the file holds and how to handle it.

    Raises
    ------
    CsmError
        The segment has no follow-up list, no recipients, or the message is over ``max_bytes``.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> d = pathlib.Path(tempfile.mkdtemp())
    >>> (d / "all").mkdir()
    >>> _ = (d / "all" / "05_action_progress.html").write_text("<p>hello</p>")
    >>> _ = (d / "all" / "follow_up.csv").write_text("rid,why\\nR1,detractor\\n")
    >>> seg = find_segment_reports(d)[0]
    >>> out = build_follow_up_message(seg, recipients=parse_addresses("care@x.vn"), study_name="Bank")
    >>> out.message["Subject"], [a.name for a in out.attached]
    ('Bank — All customers — follow-up list (personal data)', ['follow_up.csv'])
    """
    if seg.follow_up is None:
        raise CsmError(f"segment {seg.segment!r}: no {FOLLOW_UP_FILE} in {seg.folder} — run stage 05 of a study with "
                       "follow_up in its study.yaml first")
    if not recipients:
        raise CsmError(f"segment {seg.segment!r}: no recipients for the follow-up list")
    if isinstance(sender, str):
        sender = parse_addresses(sender, source="--from")[0]
    name = str(study_name or seg.metrics.get("study") or seg.folder.parent.name or "CSM study")
    lang = report_language(seg)
    with language(lang):
        label = segment_label(seg.segment)
        subject = _("{study} — {segment} — follow-up list (personal data)", study=single_line(name),
                    segment=single_line(label))
        body = _("The attached {file} lists the customers of {segment} who said they are dissatisfied or would not "
                 "recommend us, and agreed to be contacted: their id, lowest-rated attributes and comment. It holds "
                 "personal data: keep it to the people who call the customers back, and delete it when the calls "
                 "are done. Record on it whom you reached, whether the problem was solved and whether the customer "
                 "stayed, and return it for the next wave's report.", file=FOLLOW_UP_FILE, segment=label)
    data = seg.follow_up.read_bytes()
    msg = _new_message(subject=single_line(subject), sender=sender, recipients=recipients)
    msg["Sensitivity"] = "Private"
    msg.set_content(body)
    msg.add_attachment(data, maintype="text", subtype="csv", filename=FOLLOW_UP_FILE, params={"charset": "utf-8"})
    size = len(_wire(msg))
    if size > max_bytes:
        raise CsmError(f"segment {seg.segment!r}: the follow-up list makes a message of {_size(size)}, over "
                       f"--max-size {max_bytes / MB:g} MB — raise --max-size")
    return OutgoingMessage(segment=seg.segment, folder=seg.folder, message=msg, recipients=list(recipients),
                           attached=[seg.follow_up], left_out=[], size=size)


def plan_messages(reports_dir: str | Path, *, to: Sequence[Address] = (),
                  lists: Mapping[str, Sequence[Address]] | None = None,
                  segments: Sequence[str] | None = None, sender: str | Address = DEFAULT_SENDER,
                  subject: str | None = None, study_name: str | None = None,
                  max_size_mb: float = 10.0, log: Log | None = None,
                  follow_up_lists: Mapping[str, Sequence[Address]] | None = None) -> list[OutgoingMessage]:
    """Compose every message ``csm send`` would send: one per segment with recipients.

    Recipients of a segment are ``to`` plus ``lists[segment]`` (a key matches the
    ``metrics.json`` segment name or the folder name). A segment with no recipient is
    skipped, a list key matching no segment is reported, and reports left out for size
    are reported, all through ``log`` (stderr in the CLI).

    A segment's follow-up list (``follow_up.csv``, personal data) is never attached to its
    reports: it goes in a message of its own (:func:`build_follow_up_message`), and only to
    ``follow_up_lists[segment]`` (``csm send --with-follow-up``); without a recipient there it
    is not sent, and the log says so.

    Raises
    ------
    CsmError
        Bad folder or segment, ``max_size_mb`` not positive, or no message has any recipient.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> d = pathlib.Path(tempfile.mkdtemp())
    >>> for s in ("all", "region=Hanoi"):
    ...     (d / s).mkdir()
    ...     _ = (d / s / "04_analysis.html").write_text("<p>hi</p>")
    >>> plans = plan_messages(d, lists={"region=Hanoi": parse_addresses("hn@bank.vn")}, log=lambda m: None)
    >>> [(p.segment, p.envelope_to) for p in plans]
    [('region=Hanoi', ['hn@bank.vn'])]
    """
    log = log or (lambda _m: None)
    if not max_size_mb > 0:
        raise CsmError(f"--max-size must be a positive number of MB, found {max_size_mb!r}")
    lists = dict(lists or {})
    found = find_segment_reports(reports_dir, segments=segments)
    everything = find_segment_reports(reports_dir) if segments else found
    for key in lists:
        if not any(segment_matches(key, s) for s in everything):
            log(f"warning: distribution list {key!r} matches no segment in {reports_dir} "
                f"(available: {', '.join(s.segment for s in everything)}) — nobody on it gets a report")
    plans = []
    for seg in found:
        recipients = _merge(to, *(addrs for key, addrs in lists.items() if segment_matches(key, seg)))
        if not recipients:
            log(f"segment {seg.segment}: no recipients (not in --to or --lists) — not sent")
            continue
        plan = build_message(seg, recipients=recipients, sender=sender, subject=subject,
                             study_name=study_name, max_bytes=int(max_size_mb * MB))
        for path, why in plan.left_out:
            log(f"segment {seg.segment}: {path.name} left out: {why}")
        for problem in seg.problems:
            log(f"warning: segment {seg.segment}: {problem}; the message has no KPI summary")
        plans.append(plan)
    for seg in found:
        if seg.follow_up is None:
            continue
        keep = _merge(*(addrs for key, addrs in (follow_up_lists or {}).items() if segment_matches(key, seg)))
        if not keep:
            log(f"segment {seg.segment}: {FOLLOW_UP_FILE} (personal data) not sent — name its recipients with "
                "--with-follow-up LISTS.yaml")
            continue
        plans.append(build_follow_up_message(seg, recipients=keep, sender=sender, study_name=study_name,
                                             max_bytes=int(max_size_mb * MB)))
    for key in follow_up_lists or {}:
        if not any(segment_matches(key, s) and s.follow_up is not None for s in found):
            log(f"warning: --with-follow-up list {key!r} matches no segment with a {FOLLOW_UP_FILE} in {reports_dir}")
    if not plans:
        raise CsmError("no message to send: no segment has a recipient — give --to ADDR, or --lists "
                       "with keys naming the segments")
    return plans


def write_eml(messages: Sequence[OutgoingMessage], out_dir: str | Path) -> list[Path]:
    """Write each message to ``out_dir/<segment folder>.eml`` atomically (a dry run); a
    follow-up list's message to ``<segment folder>.follow_up.eml``, readable by its owner only.

    The files hold exactly the bytes that would be sent; any mail client opens them.
    """
    out = check_output_folder(out_dir, option="--dry-run")
    return [write_bytes_atomic(out / (f"{m.folder.name}.follow_up.eml" if _is_follow_up(m) else f"{m.folder.name}.eml"),
                               m.wire_bytes(), private=_is_follow_up(m)) for m in messages]


def _is_follow_up(message: OutgoingMessage) -> bool:
    """Whether the message carries a follow-up list (personal data: its .eml is owner-only too)."""
    return any(p.name == FOLLOW_UP_FILE for p in message.attached)
