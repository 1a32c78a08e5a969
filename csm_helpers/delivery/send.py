"""E-mail delivery of the HTML reports: what ``csm send`` does.

``csm run`` writes ``DIR/<segment>/NN_stage.html`` and ``DIR/<segment>/metrics.json``;
``csm send --reports DIR`` mails them, **one message per segment folder**:

- an HTML summary body that e-mail clients render (inline ``style`` attributes only: no
  ``<style>``, no ``<script>``, no external URL), built from that segment's
  ``metrics.json``: study name, segment, n, the headline KPI table (value, 95% CI, target,
  met) and the list of attached reports. Every value is HTML-escaped (SPEC §4: study,
  segment and attribute names are untrusted). A plain-text alternative says the same;
- the stage reports themselves as ``text/html`` attachments, in stage order, as many as
  fit in the size limit (default 10 MB = 10,000,000 bytes, measured on the encoded
  message exactly as it goes over the wire). A report that does not fit is left out; the
  body and stderr say which and why.

Recipients. ``--to`` addresses get every segment; ``--lists FILE.yaml`` maps a segment
(as in ``metrics.json``, e.g. ``region=Hanoi``, or its folder name) to its own list, so a
region's managers get that region's reports only::

    all: [ceo@bank.vn]
    region=Hanoi: ["Nguyễn Văn An <an.nguyen@bank.vn>", hanoi.ops@bank.vn]

Every address is validated (``email.headerregistry``); a bad one is an error naming it.
Display names in any script (Vietnamese, Chinese) are encoded by the ``email`` package's
default policy (RFC 2047), as are non-ASCII subjects.

SMTP. ``--smtp HOST:PORT`` (default ``localhost``; port 25, or 587 with ``--starttls``,
465 with ``--ssl``). ``--starttls`` upgrades a plain connection with
``ssl.create_default_context()`` (certificates verified against the system store, or
``SSL_CERT_FILE``); ``--ssl`` connects with implicit TLS. With ``--user``, the password
comes only from the environment variable ``CSM_SMTP_PASSWORD`` or, when stdin is a
terminal, an interactive prompt — there is deliberately no option for it, so it never
lands in shell history, a config file or a process list — and it is never printed.

Failures are :class:`~csm_helpers.core.errors.CsmError` with the host, port, what the server
said and the fix (``csm`` exits 1 without a traceback). Nothing is half-sent silently:
the SMTP server's answer for every recipient of every message is recorded; a refused
recipient or rejected message is reported by name and makes the run fail after the
other messages were sent; a lost connection stops the run and the error says which
segments had already been delivered to whom (:class:`DeliveryError` carries the results).

``--dry-run OUTDIR`` writes each message as ``OUTDIR/<segment>.eml`` (atomic write,
CRLF line ends, exactly the bytes that would be sent) and prints what would be sent.

Headers: ``Subject`` defaults to ``"<study name> — <segment> — CSM reports"`` (a
``--subject`` may use ``{study}`` and ``{segment}``); ``From`` defaults to
``csm-workbook@localhost``; ``Date``, ``Message-ID`` and ``Auto-Submitted:
auto-generated`` (RFC 3834) are set.
"""

from __future__ import annotations

import base64
import contextlib
import datetime as _dt
import email.policy
import getpass
import ipaddress
import json
import os
import re
import smtplib
import socket
import ssl
import sys
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from email.headerregistry import Address, HeaderRegistry
from email.message import EmailMessage
from email.utils import format_datetime, make_msgid
from pathlib import Path
from typing import Any

from markupsafe import Markup

from csm_helpers import __version__
from csm_helpers.core.errors import CsmError
from csm_helpers.core.i18n import HTML_LANG, N_, _, language, tr
from csm_helpers.core.safety import escape, write_bytes_atomic
from csm_helpers.pipeline.plan import segment_dirname
from csm_helpers.present.catalogue import format_kpi, kpi_label
from csm_helpers.present.templates import render
from csm_helpers.study.stages import STAGE_TITLES

__all__ = [
    "MB",
    "PASSWORD_ENV",
    "DEFAULT_SENDER",
    "DeliveryError",
    "SegmentReports",
    "OutgoingMessage",
    "DeliveryResult",
    "SmtpSettings",
    "parse_addresses",
    "load_distribution_lists",
    "find_segment_reports",
    "summary_html",
    "summary_text",
    "build_message",
    "plan_messages",
    "write_eml",
    "parse_smtp_address",
    "resolve_password",
    "send_messages",
]

#: One megabyte as ``--max-size`` counts it (SI: 1,000,000 bytes).
MB = 1_000_000
#: The only place a password is read from (besides an interactive prompt).
PASSWORD_ENV = "CSM_SMTP_PASSWORD"
#: ``From`` when ``--from`` is not given.
DEFAULT_SENDER = "csm-workbook@localhost"

_REPORT_GLOB = "[0-9][0-9]_*.html"
_LABEL_RE = re.compile(r"^[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?$")
#: CRLF line ends as on the wire; 7-bit transfer encodings (quoted-printable/base64), so
#: any server takes the message, with or without 8BITMIME.
_POLICY = email.policy.SMTP.clone(cte_type="7bit")

Log = Callable[[str], None]


class DeliveryError(CsmError):
    """Raised when some message or recipient was not delivered (refused, rejected, or the
    connection was lost). ``results`` lists what happened to every message tried so far."""

    def __init__(self, message: str, results: list[DeliveryResult]) -> None:
        self.results = list(results)
        super().__init__(message)


# --------------------------------------------------------------------------- addresses
def _split_list(text: str) -> list[str]:
    """Split an address list on commas outside quotes and angle brackets."""
    parts, buf, quoted, angle, escaped = [], [], False, False, False
    for ch in text:
        if escaped:
            escaped = False
        elif ch == "\\" and quoted:
            escaped = True
        elif ch == '"':
            quoted = not quoted
        elif ch == "<" and not quoted:
            angle = True
        elif ch == ">" and not quoted:
            angle = False
        elif ch in ",;" and not quoted and not angle:
            parts.append("".join(buf))
            buf = []
            continue
        buf.append(ch)
    parts.append("".join(buf))
    return [p.strip() for p in parts if p.strip()]


def _parse_one(entry: str, source: str) -> Address:
    def bad(why: str) -> CsmError:
        return CsmError(f"{source}: {entry!r} is not a valid e-mail address ({why}) — "
                        "write it as name@example.com or \"Display Name <name@example.com>\"")

    if any(c in entry for c in "\r\n\0"):
        raise bad("it contains a line break")
    try:
        header = HeaderRegistry()("To", entry)
        addresses = list(header.addresses)
    except Exception as exc:  # the header parser raises several kinds on garbage
        raise bad("it cannot be parsed") from exc
    if len(addresses) != 1:
        raise bad(f"it holds {len(addresses)} addresses; separate addresses with commas")
    if header.defects:
        raise bad(str(header.defects[0]).rstrip(")"))
    addr = addresses[0]
    if not addr.username or not addr.domain:
        raise bad("it needs a name, an @ and a domain")
    if not addr.addr_spec.isascii():
        raise bad("non-ASCII addresses need SMTPUTF8, which csm send does not use; "
                  "use the ASCII (punycode) form of the domain")
    domain = addr.domain
    if domain.startswith("[") and domain.endswith("]"):
        try:
            ipaddress.ip_address(domain[1:-1].removeprefix("IPv6:"))
        except ValueError:
            raise bad(f"the domain literal {domain} is not an IP address") from None
    elif not all(_LABEL_RE.match(label) for label in domain.split(".")):
        raise bad(f"the domain {domain!r} is not a valid host name")
    return addr


def parse_addresses(addresses: str | Iterable[str], *, source: str = "--to") -> list[Address]:
    """Parse and validate e-mail addresses; duplicates (case-insensitive) are dropped.

    Parameters
    ----------
    addresses : str or iterable of str
        A comma-separated list (``a@x.vn, "Trần Thị B" <b@x.vn>``), or entries each
        holding one or more comma-separated addresses.
    source : str
        Where the addresses came from, for the error message (an option or a file and key).

    Returns
    -------
    list of email.headerregistry.Address
        ``str(a)`` is the header form, ``a.addr_spec`` the envelope address.

    Raises
    ------
    CsmError
        Naming the first invalid address, why it is invalid and how to write it.

    Examples
    --------
    >>> [a.addr_spec for a in parse_addresses('ceo@bank.vn, "Lê, Hà" <ha@bank.vn>, CEO@bank.vn')]
    ['ceo@bank.vn', 'ha@bank.vn']
    >>> parse_addresses(["张三 <zs@example.cn>"])[0].display_name
    '张三'
    >>> parse_addresses("ceo@bank..vn")
    Traceback (most recent call last):
    ...
    csm_helpers.core.errors.CsmError: --to: 'ceo@bank..vn' is not a valid e-mail address ...
    """
    entries = [addresses] if isinstance(addresses, str) else list(addresses)
    out: list[Address] = []
    seen: set[str] = set()
    for entry in entries:
        if not isinstance(entry, str):
            raise CsmError(f"{source}: {entry!r} is not an e-mail address (found "
                           f"{type(entry).__name__}) — write addresses as text")
        for part in _split_list(entry):
            addr = _parse_one(part, source)
            key = addr.addr_spec.lower()
            if key not in seen:
                seen.add(key)
                out.append(addr)
    return out


def load_distribution_lists(path: str | Path) -> dict[str, list[Address]]:
    """Read a distribution-list file: a YAML mapping of segment -> addresses.

    Keys are segments as ``metrics.json`` names them (``all``, ``region=Hanoi``) or their
    folder names; values are a list of addresses or one comma-separated string.

    Raises
    ------
    CsmError
        When the file is missing or not such a mapping, or an address is invalid (the
        message names the file, the segment key and the address).

    Examples
    --------
    >>> import tempfile, pathlib
    >>> p = pathlib.Path(tempfile.mkdtemp()) / "lists.yaml"
    >>> _ = p.write_text("all: [ceo@bank.vn]\\nregion=Hanoi: a@bank.vn, b@bank.vn\\n", encoding="utf-8")
    >>> {k: [a.addr_spec for a in v] for k, v in load_distribution_lists(p).items()}
    {'all': ['ceo@bank.vn'], 'region=Hanoi': ['a@bank.vn', 'b@bank.vn']}
    """
    import yaml

    path = Path(path)
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise CsmError(f"distribution-list file {path} not found — check --lists") from None
    except (OSError, UnicodeDecodeError, yaml.YAMLError) as exc:
        raise CsmError(f"{path}: cannot read the distribution lists ({exc}) — "
                       "it must be UTF-8 YAML like 'region=Hanoi: [a@x.vn, b@x.vn]'") from None
    if data is None:
        data = {}
    if not isinstance(data, dict):
        raise CsmError(f"{path}: expected a mapping of segment -> list of addresses, found "
                       f"{type(data).__name__} — write e.g. 'region=Hanoi: [a@x.vn, b@x.vn]'")
    lists: dict[str, list[Address]] = {}
    for key, value in data.items():
        where = f"{path.name}, segment {str(key)!r}"
        if value is None:
            value = []
        if isinstance(value, str):
            value = [value]
        if not isinstance(value, list):
            raise CsmError(f"{where}: expected a list of addresses, found {type(value).__name__} — "
                           "write e.g. [a@x.vn, b@x.vn]")
        lists[str(key)] = parse_addresses(value, source=where)
    return lists


# --------------------------------------------------------------------------- reports
@dataclass
class SegmentReports:
    """One segment folder written by ``csm run``.

    ``segment`` is the name in ``metrics.json`` (the folder name if there is none),
    ``metrics`` the parsed ``metrics.json`` (empty if missing or unreadable), ``reports``
    the stage reports in stage order.
    """

    segment: str
    folder: Path
    metrics: dict[str, Any]
    reports: list[Path]
    problems: list[str] = field(default_factory=list)


def _matches(key: str, seg: SegmentReports) -> bool:
    return key == seg.segment or key == seg.folder.name or segment_dirname(key) == seg.folder.name


def find_segment_reports(reports_dir: str | Path, *,
                         segments: Sequence[str] | None = None) -> list[SegmentReports]:
    """Every segment folder of a ``csm run`` output folder that holds stage reports.

    Parameters
    ----------
    reports_dir : str or Path
        The folder given to ``csm run --out``.
    segments : sequence of str, optional
        Only these segments (``metrics.json`` names or folder names), in the order given;
        default every one, ``all`` first, then by folder name.

    Raises
    ------
    CsmError
        The folder does not exist or holds no reports, or a requested segment is not there.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> d = pathlib.Path(tempfile.mkdtemp())
    >>> (d / "all").mkdir()
    >>> _ = (d / "all" / "01_goal_setting.html").write_text("<p>hi</p>")
    >>> [(s.segment, [r.name for r in s.reports]) for s in find_segment_reports(d)]
    [('all', ['01_goal_setting.html'])]
    """
    root = Path(reports_dir)
    if not root.is_dir():
        raise CsmError(f"reports folder {root} not found — run 'csm run --out {root}' first, "
                       "or point --reports at the folder it wrote")
    found: list[SegmentReports] = []
    for folder in sorted(p for p in root.iterdir() if p.is_dir() and not p.name.startswith(".")):
        reports = sorted(p for p in folder.glob(_REPORT_GLOB) if p.is_file())
        if not reports:
            continue
        metrics: dict[str, Any] = {}
        problems = []
        mpath = folder / "metrics.json"
        if mpath.is_file():
            try:
                loaded = json.loads(mpath.read_text(encoding="utf-8"))
                if isinstance(loaded, dict):
                    metrics = loaded
                else:
                    problems.append("metrics.json is not a JSON object")
            except (OSError, ValueError) as exc:
                problems.append(f"metrics.json could not be read ({exc})")
        else:
            problems.append("metrics.json is missing")
        segment = metrics.get("segment")
        segment = str(segment) if isinstance(segment, str) and segment.strip() else folder.name
        found.append(SegmentReports(segment=segment, folder=folder, metrics=metrics,
                                    reports=reports, problems=problems))
    if not found:
        raise CsmError(f"{root} holds no reports (no <segment>/NN_stage.html) — run "
                       f"'csm run --out {root}' first")
    found.sort(key=lambda s: (s.folder.name != "all", s.folder.name))
    if not segments:
        return found
    chosen: list[SegmentReports] = []
    for key in segments:
        match = [s for s in found if _matches(key, s)]
        if not match:
            raise CsmError(f"--segments: no reports for segment {key!r} in {root}; available: "
                           f"{', '.join(s.segment for s in found)}")
        chosen.extend(m for m in match if m not in chosen)
    return chosen


# --------------------------------------------------------------------------- message body
_SEGMENT_LINE = N_("Segment {segment} · n = {n} respondents")
_NO_SUMMARY = N_("{problem}: no KPI summary for this segment.")
_OPEN_ATTACHED = N_("Open the attached files in a web browser: each report is a self-contained page that "
                    "needs no internet connection.")
_SENT_BY = N_("Sent automatically by csm-workbook {version}.")
_KPI_HEAD = (N_("KPI"), N_("Value"), N_("95% CI"), "n", N_("Target"), N_("Met"))



def _num(value: Any, kpi: str) -> str:
    if isinstance(value, bool) or (value is not None and not isinstance(value, int | float)):
        return str(value)
    return format_kpi(kpi, value, missing="—")


def _kpi_rows(metrics: Mapping[str, Any]) -> list[dict[str, str]]:
    kpis = metrics.get("kpis")
    if not isinstance(kpis, dict):
        return []
    rows = []
    for key, entry in kpis.items():
        if not isinstance(entry, dict):
            continue
        label = kpi_label(str(key))
        if entry.get("suppressed"):
            rows.append({"kpi": label, "value": _("suppressed"), "ci": "", "n": _int(entry.get("n")),
                         "target": _num(entry.get("target"), key), "met": "",
                         "note": _("fewer respondents than the minimum cell size")})
            continue
        lo, hi = entry.get("ci_low"), entry.get("ci_high")
        ci = "—" if lo is None and hi is None else f"{_num(lo, key)} – {_num(hi, key)}"
        met = entry.get("met")
        rows.append({"kpi": label, "value": _num(entry.get("value"), key), "ci": ci,
                     "n": _int(entry.get("n")), "target": _num(entry.get("target"), key),
                     "met": {True: _("yes"), False: _("no")}.get(met, "—") if isinstance(met, bool | None)
                     else str(met), "note": ""})
    return rows


def _int(value: Any) -> str:
    if isinstance(value, int) and not isinstance(value, bool):
        return f"{value:,}"
    if isinstance(value, float) and value == value and value.is_integer():
        return f"{int(value):,}"
    return "—" if value is None else str(value)


def _stage_label(path: Path) -> str:
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


def report_language(seg: SegmentReports) -> str:
    """The language the segment's reports were written in (``metrics.json``), else ``"en"``.

    Examples
    --------
    >>> report_language(SegmentReports("all", Path("r"), {"generated_with": {"parameters": {"language": "vi"}}}, []))
    'vi'
    >>> report_language(SegmentReports("all", Path("r"), {}, []))
    'en'
    """
    gw = seg.metrics.get("generated_with")
    params = gw.get("parameters") if isinstance(gw, dict) else None
    lang = params.get("language") if isinstance(params, dict) else None
    return lang if isinstance(lang, str) and lang in HTML_LANG else "en"


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
    segment_line = Markup(escape(tr(_SEGMENT_LINE))).format(
        segment=Markup("<strong>{}</strong>").format(seg.segment), n=_int(seg.metrics.get("n")))
    return render(
        "csm_email/body.html.j2", html_lang=HTML_LANG[lang], study_name=study_name, segment=seg.segment,
        segment_line=segment_line, problems=[_(_NO_SUMMARY, problem=p) for p in seg.problems],
        kpi_head=[tr(h) for h in _KPI_HEAD], kpi_rows=_kpi_rows(seg.metrics),
        attached=[{"stage": _stage_label(p), "name": p.name, "size": _file_size(p)} for p in attached],
        left_out=[(p.name, why) for p, why in left_out],
        t={"headline_kpis": _("Headline KPIs"), "no_kpis": _("No headline KPIs were recorded for this segment."),
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
    ...     "ci_low": 15.2, "ci_high": 26.9, "n": 900, "target": 30, "met": False}}}, [])
    >>> print(summary_text(seg, study_name="Bank", attached=[], left_out=[]).splitlines()[4])
    NPS (−100 to +100): +21.0 (95% CI +15.2 – +26.9), n 900, target +30.0, met: no
    """
    with language(report_language(seg)):
        return _summary_text(seg, study_name=study_name, attached=attached, left_out=left_out)


def _summary_text(seg: SegmentReports, *, study_name: str, attached: Sequence[Path],
                  left_out: Sequence[tuple[Path, str]]) -> str:
    lines = [study_name, _(_SEGMENT_LINE, segment=seg.segment, n=_int(seg.metrics.get("n"))), ""]
    lines += [_(_NO_SUMMARY, problem=p) for p in seg.problems]
    rows = _kpi_rows(seg.metrics)
    if rows:
        lines.append(_("Headline KPIs"))
        for r in rows:
            if r["note"]:
                lines.append(_("{kpi}: suppressed ({note}), target {target}", kpi=r["kpi"], note=r["note"],
                               target=r["target"]))
            else:
                lines.append(_("{kpi}: {value} (95% CI {ci}), n {n}, target {target}, met: {met}", **r))
        lines.append("")
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


def _one_line(text: str) -> str:
    return " ".join("".join(c if c.isprintable() else " " for c in text).split())


def _compose(seg: SegmentReports, *, study_name: str, recipients: Sequence[Address], sender: Address,
             subject: str, attached: Sequence[Path], left_out: Sequence[tuple[Path, str]],
             contents: Mapping[Path, bytes]) -> EmailMessage:
    msg = EmailMessage(policy=_POLICY)
    msg["Subject"] = subject
    msg["From"] = sender
    msg["To"] = list(recipients)
    msg["Date"] = format_datetime(_dt.datetime.now(_dt.UTC).astimezone())
    msg["Message-ID"] = make_msgid(idstring="csm", domain=sender.domain.strip("[]") or "localhost")
    msg["Auto-Submitted"] = "auto-generated"
    msg["X-Mailer"] = f"csm-workbook {__version__}"
    kw = {"study_name": study_name, "attached": attached, "left_out": left_out}
    msg.set_content(summary_text(seg, **kw))
    msg.add_alternative(summary_html(seg, **kw), subtype="html")
    for path in attached:
        msg.add_attachment(contents[path], maintype="text", subtype="html", filename=path.name,
                           params={"charset": "utf-8"})
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
    ('Khảo sát — all — CSM reports', ['01_goal_setting.html'], True)
    """
    if not recipients:
        raise CsmError(f"segment {seg.segment!r}: no recipients — give --to or a --lists entry for it")
    if isinstance(sender, str):
        sender = parse_addresses(sender, source="--from")[0]
    name = study_name or seg.metrics.get("study") or seg.folder.parent.name or "CSM study"
    name = str(name)
    lang = report_language(seg)
    subject = (subject if subject is not None else tr(N_("{study} — {segment} — CSM reports"), lang))
    fields = {"{study}": _one_line(name), "{segment}": _one_line(seg.segment)}
    subject = _one_line(re.sub(r"\{study\}|\{segment\}", lambda m: fields[m.group(0)], subject))
    contents = {p: p.read_bytes() for p in seg.reports}
    common = {"study_name": name, "recipients": recipients, "sender": sender, "subject": subject,
              "contents": contents}
    limit = f"{max_bytes / MB:g} MB"

    base = _wire(_compose(seg, attached=[], left_out=[], **common))
    if len(base) > max_bytes:
        raise CsmError(f"segment {seg.segment!r}: the summary message alone is {_size(len(base))}, over "
                       f"--max-size {limit} — raise --max-size")
    attached: list[Path] = []
    left_out: list[tuple[Path, str]] = []
    for path in seg.reports:
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
    left_out.sort(key=lambda item: seg.reports.index(item[0]))
    return OutgoingMessage(segment=seg.segment, folder=seg.folder, message=msg, recipients=list(recipients),
                           attached=list(attached), left_out=left_out, size=size)


def _merge(*groups: Iterable[Address]) -> list[Address]:
    out: dict[str, Address] = {}
    for group in groups:
        for addr in group:
            out.setdefault(addr.addr_spec.lower(), addr)
    return list(out.values())


def plan_messages(reports_dir: str | Path, *, to: Sequence[Address] = (),
                  lists: Mapping[str, Sequence[Address]] | None = None,
                  segments: Sequence[str] | None = None, sender: str | Address = DEFAULT_SENDER,
                  subject: str | None = None, study_name: str | None = None,
                  max_size_mb: float = 10.0, log: Log | None = None) -> list[OutgoingMessage]:
    """Compose every message ``csm send`` would send: one per segment with recipients.

    Recipients of a segment are ``to`` plus ``lists[segment]`` (a key matches the
    ``metrics.json`` segment name or the folder name). A segment with no recipient is
    skipped, a list key matching no segment is reported, and reports left out for size
    are reported, all through ``log`` (stderr in the CLI).

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
        if not any(_matches(key, s) for s in everything):
            log(f"warning: distribution list {key!r} matches no segment in {reports_dir} "
                f"(available: {', '.join(s.segment for s in everything)}) — nobody on it gets a report")
    plans = []
    for seg in found:
        recipients = _merge(to, *(addrs for key, addrs in lists.items() if _matches(key, seg)))
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
    if not plans:
        raise CsmError("no message to send: no segment has a recipient — give --to ADDR, or --lists "
                       "with keys naming the segments")
    return plans


def write_eml(messages: Sequence[OutgoingMessage], out_dir: str | Path) -> list[Path]:
    """Write each message to ``out_dir/<segment folder>.eml`` atomically (a dry run).

    The files hold exactly the bytes that would be sent; any mail client opens them.
    """
    out = Path(out_dir)
    return [write_bytes_atomic(out / f"{m.folder.name}.eml", m.wire_bytes()) for m in messages]


# --------------------------------------------------------------------------- SMTP
@dataclass(frozen=True)
class SmtpSettings:
    """How to reach the SMTP server. ``password`` and ``ssl_context`` are kept out of ``repr``.

    ``ssl_context`` defaults to ``ssl.create_default_context()`` (system trust store).
    """

    host: str = "localhost"
    port: int = 25
    starttls: bool = False
    ssl: bool = False
    user: str | None = None
    password: str | None = field(default=None, repr=False)
    timeout: float = 30.0
    ssl_context: ssl.SSLContext | None = field(default=None, repr=False)

    @property
    def where(self) -> str:
        """``host:port`` for messages."""
        return f"[{self.host}]:{self.port}" if ":" in self.host else f"{self.host}:{self.port}"


def parse_smtp_address(text: str | None, *, use_ssl: bool = False, starttls: bool = False) -> tuple[str, int]:
    """``HOST[:PORT]`` -> ``(host, port)``; the port defaults to 465 (``--ssl``), 587
    (``--starttls``) or 25. IPv6 hosts are written in brackets.

    Examples
    --------
    >>> parse_smtp_address("mail.bank.vn:2525"), parse_smtp_address("mail.bank.vn", starttls=True)
    (('mail.bank.vn', 2525), ('mail.bank.vn', 587))
    >>> parse_smtp_address("[::1]:25"), parse_smtp_address(None, use_ssl=True)
    (('::1', 25), ('localhost', 465))
    """
    default = 465 if use_ssl else 587 if starttls else 25
    text = (text or "localhost").strip()
    m = re.fullmatch(r"\[([0-9A-Fa-f:.]+)\](?::(\d+))?|([^:\s\[\]]+)(?::(\d+))?", text)
    if not m:
        raise CsmError(f"--smtp: {text!r} is not HOST:PORT — write e.g. mail.example.com:587 "
                       "(an IPv6 address in brackets: [::1]:25)")
    host = m.group(1) or m.group(3)
    port = int(m.group(2) or m.group(4) or default)
    if not 0 < port < 65536:
        raise CsmError(f"--smtp: port {port} is outside 1-65535")
    return host, port


def resolve_password(user: str | None, *, where: str = "the SMTP server",
                     env: Mapping[str, str] | None = None, interactive: bool | None = None,
                     prompt: Callable[[str], str] = getpass.getpass) -> str | None:
    """The SMTP password for ``user``: from ``CSM_SMTP_PASSWORD``, else a prompt on a terminal.

    Returns None when there is no user (no login). Never takes the password from an
    argument list or a file.

    Raises
    ------
    CsmError
        A user but no password, and stdin is not a terminal.

    Examples
    --------
    >>> resolve_password("reports", env={"CSM_SMTP_PASSWORD": "s3cret"})
    's3cret'
    >>> resolve_password(None, env={}) is None
    True
    """
    if not user:
        return None
    env = os.environ if env is None else env
    if env.get(PASSWORD_ENV):
        return env[PASSWORD_ENV]
    if interactive is None:
        interactive = bool(sys.stdin) and sys.stdin.isatty()
    if interactive:
        password = prompt(f"SMTP password for {user} at {where}: ")
        if password:
            return password
    raise CsmError(f"no SMTP password for user {user!r}: set the environment variable {PASSWORD_ENV} "
                   "(or run csm send in a terminal to be asked for it)")


def _server_said(exc: smtplib.SMTPResponseException) -> str:
    text = exc.smtp_error.decode("utf-8", "replace") if isinstance(exc.smtp_error, bytes) else str(exc.smtp_error)
    return f"{exc.smtp_code} {_one_line(text)}"


def _is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def _login(smtp: smtplib.SMTP, user: str, password: str) -> None:
    """Log in; a non-ASCII user or password is sent as UTF-8 (RFC 4616 PLAIN, RFC 4954),
    which ``smtplib.SMTP.login`` cannot do (it encodes them as ASCII)."""
    if (user + password).isascii():
        smtp.login(user, password)
        return
    if not smtp.has_extn("auth"):
        raise smtplib.SMTPNotSupportedError("SMTP AUTH extension not supported by server.")
    mechanisms = smtp.esmtp_features["auth"].upper().split()

    def b64(text: str) -> str:
        return base64.b64encode(text.encode("utf-8")).decode("ascii")

    if "PLAIN" in mechanisms:
        code, resp = smtp.docmd("AUTH", "PLAIN " + b64(f"\0{user}\0{password}"))
    elif "LOGIN" in mechanisms:
        code, resp = smtp.docmd("AUTH", "LOGIN " + b64(user))
        if code == 334:
            code, resp = smtp.docmd(b64(password))
    else:
        raise smtplib.SMTPAuthenticationError(
            504, f"a non-ASCII user name or password needs AUTH PLAIN or LOGIN; the server offers "
                 f"{' '.join(mechanisms)}".encode())
    if code not in (235, 503):  # 503: already authenticated
        raise smtplib.SMTPAuthenticationError(code, resp)


def _connect(settings: SmtpSettings, log: Log) -> smtplib.SMTP:
    where = settings.where
    context = settings.ssl_context or ssl.create_default_context()
    smtp: smtplib.SMTP | None = None
    try:
        if settings.ssl:
            smtp = smtplib.SMTP_SSL(settings.host, settings.port, timeout=settings.timeout, context=context)
        else:
            smtp = smtplib.SMTP(settings.host, settings.port, timeout=settings.timeout)
        smtp.ehlo()
        if settings.starttls:
            if not smtp.has_extn("starttls"):
                raise CsmError(f"SMTP server {where} does not offer STARTTLS — drop --starttls, or use --ssl "
                               "if it expects TLS from the start (usually port 465)")
            smtp.starttls(context=context)
            smtp.ehlo()
        if settings.user:
            if not (settings.ssl or settings.starttls) and not _is_loopback(settings.host):
                log(f"warning: sending the SMTP password to {where} unencrypted — use --starttls or --ssl")
            _login(smtp, settings.user, settings.password or "")
        return smtp
    except BaseException as exc:
        if smtp is not None:
            with contextlib.suppress(OSError):
                smtp.close()
        if isinstance(exc, CsmError) or not isinstance(exc, Exception):
            raise
        raise _connection_error(exc, settings) from None


def _connection_error(exc: BaseException, settings: SmtpSettings) -> CsmError:
    where = settings.where
    if isinstance(exc, ConnectionRefusedError):
        return CsmError(f"could not connect to the SMTP server {where}: connection refused — check "
                        "--smtp HOST:PORT and that the server is running")
    if isinstance(exc, socket.gaierror):
        return CsmError(f"could not connect to the SMTP server {where}: unknown host ({exc.strerror}) — "
                        "check the host name in --smtp")
    if isinstance(exc, TimeoutError | socket.timeout):
        return CsmError(f"the SMTP server {where} did not answer within {settings.timeout:g} s — check "
                        "--smtp HOST:PORT and any firewall; with implicit TLS use --ssl")
    if isinstance(exc, ssl.SSLCertVerificationError):
        return CsmError(f"TLS with the SMTP server {where} failed: its certificate is not trusted "
                        f"({exc.verify_message}) — fix the server's certificate, or make this machine trust "
                        "it (e.g. SSL_CERT_FILE=ca.pem)")
    if isinstance(exc, ssl.SSLError):
        return CsmError(f"TLS with the SMTP server {where} failed ({exc.reason or exc}) — use --ssl for a "
                        "server that expects TLS from the start (port 465), --starttls for one that "
                        "upgrades a plain connection (port 587)")
    if isinstance(exc, smtplib.SMTPAuthenticationError):
        return CsmError(f"the SMTP server {where} refused the login of user {settings.user!r}: "
                        f"{_server_said(exc)} — check --user and the password in {PASSWORD_ENV}")
    if isinstance(exc, smtplib.SMTPNotSupportedError):
        return CsmError(f"the SMTP server {where} does not offer login (AUTH) on this connection — many "
                        "servers offer it only after --starttls, or drop --user")
    if isinstance(exc, smtplib.SMTPConnectError | smtplib.SMTPHeloError):
        return CsmError(f"the SMTP server {where} refused the connection: {_server_said(exc)} — check "
                        "--smtp and that this machine may send through it")
    if isinstance(exc, smtplib.SMTPResponseException):
        return CsmError(f"the SMTP server {where} answered {_server_said(exc)} — check --smtp, --user "
                        "and the server's rules")
    if isinstance(exc, smtplib.SMTPServerDisconnected):
        return CsmError(f"the SMTP server {where} closed the connection ({exc or 'no reason given'}) — "
                        "with a server expecting TLS from the start use --ssl")
    if isinstance(exc, smtplib.SMTPException | OSError):
        return CsmError(f"could not talk to the SMTP server {where}: {exc} — check --smtp HOST:PORT")
    raise exc


@dataclass
class DeliveryResult:
    """What the SMTP server did with one message.

    ``delivered``: recipients the server accepted; ``refused``: recipient -> server reply;
    ``error``: why the whole message was not sent (then ``delivered`` is empty).
    """

    segment: str
    message_id: str
    delivered: list[str]
    refused: dict[str, str] = field(default_factory=dict)
    error: str | None = None

    @property
    def complete(self) -> bool:
        """Every recipient accepted the message."""
        return not self.refused and self.error is None


def _summary(results: Sequence[DeliveryResult], messages: Sequence[OutgoingMessage] = ()) -> str:
    lines = []
    for r in results:
        got = ", ".join(r.delivered) or "nobody"
        line = f"  segment {r.segment}: delivered to {got}"
        if r.refused:
            line += "; NOT delivered to " + "; ".join(f"{a} (server said {why})" for a, why in r.refused.items())
        if r.error:
            line += f"; NOT sent: {r.error}"
        lines.append(line)
    untried = [m.segment for m in messages[len(results):]]
    if untried:
        lines.append(f"  not tried: segment {', segment '.join(untried)}")
    return "\n".join(lines)


def send_messages(messages: Sequence[OutgoingMessage], settings: SmtpSettings, *,
                  log: Log | None = None) -> list[DeliveryResult]:
    """Send the messages over one SMTP session and record every recipient's fate.

    A recipient the server refuses, or a message it rejects, does not stop the others;
    after the last message a :class:`DeliveryError` lists what was not delivered (and
    what was). A lost connection stops at once with a :class:`DeliveryError` saying which
    segments were already delivered to whom. ``log`` gets one line per message.

    Raises
    ------
    CsmError
        Connection, TLS or login failed (nothing was sent).
    DeliveryError
        Something was not delivered; ``.results`` holds every message tried.
    """
    log = log or (lambda _m: None)
    results: list[DeliveryResult] = []
    smtp = _connect(settings, log)
    try:
        for out in messages:
            msg_id = str(out.message["Message-ID"])
            to = out.envelope_to
            try:
                refused_raw = smtp.sendmail(out.sender, to, out.wire_bytes())
            except smtplib.SMTPRecipientsRefused as exc:
                refused_raw = exc.recipients
            except smtplib.SMTPSenderRefused as exc:
                results.append(DeliveryResult(out.segment, msg_id, [], error=(
                    f"the server refused the sender {out.sender}: {_server_said(exc)}")))
                raise DeliveryError(
                    f"the SMTP server {settings.where} refused the sender address {out.sender} "
                    f"({_server_said(exc)}) — set --from to an address this server lets you send from\n"
                    + _summary(results, messages), results) from None
            except smtplib.SMTPDataError as exc:
                results.append(DeliveryResult(out.segment, msg_id, [], error=(
                    f"the server rejected the message ({out.size / MB:.2f} MB): {_server_said(exc)}")))
                log(f"segment {out.segment}: NOT sent — the server rejected the message: {_server_said(exc)}")
                if smtp.sock is None:  # the server closed the connection (e.g. 421)
                    raise DeliveryError(
                        f"the SMTP server {settings.where} rejected the message of segment {out.segment} "
                        f"and closed the connection ({_server_said(exc)}); what happened so far:\n"
                        + _summary(results, messages), results) from None
                with contextlib.suppress(smtplib.SMTPException, OSError):
                    smtp.rset()
                continue
            except (smtplib.SMTPException, OSError) as exc:
                results.append(DeliveryResult(out.segment, msg_id, [], error=f"connection failed ({exc})"))
                raise DeliveryError(
                    f"sending to the SMTP server {settings.where} failed at segment {out.segment} "
                    f"({_connection_error(exc, settings)}); what happened so far:\n"
                    + _summary(results, messages), results) from None
            refused = {addr: _server_said(smtplib.SMTPResponseException(code, text))
                       for addr, (code, text) in refused_raw.items()}
            delivered = [a for a in to if a not in refused]
            result = DeliveryResult(out.segment, msg_id, delivered, refused)
            results.append(result)
            log(f"segment {out.segment}: sent to {', '.join(delivered) or 'nobody'} "
                f"({len(out.attached)} report(s), {out.size / MB:.2f} MB)"
                + (f"; refused: {', '.join(refused)}" if refused else ""))
    finally:
        try:
            smtp.quit()
        except (smtplib.SMTPException, OSError):
            smtp.close()
    if not all(r.complete for r in results):
        raise DeliveryError(
            f"not every recipient got the reports (SMTP server {settings.where}) — check the refused "
            "addresses and send those segments again with --segments:\n" + _summary(results), results)
    return results
