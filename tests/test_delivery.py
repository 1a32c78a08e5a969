"""``csm send``: e-mail delivery checked against a real SMTP server (aiosmtpd) on 127.0.0.1.

Reports are small fake report folders written by the tests (no notebook runs). Every
received message is parsed with the standard ``email`` package and compared with the
files on disk and the recipients the test asked for — never with numbers the code made.
"""

from __future__ import annotations

import email
import email.policy
import html.parser
import json
import shutil
import socket
import ssl
import subprocess
from email.utils import parsedate_to_datetime
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

pytest.importorskip("aiosmtpd")
from aiosmtpd.controller import Controller  # noqa: E402
from aiosmtpd.smtp import AuthResult, LoginPassword  # noqa: E402

import csm_helpers.delivery as delivery  # noqa: E402
from csm_helpers.cli import main  # noqa: E402
from csm_helpers.core.errors import CsmError  # noqa: E402
from csm_helpers.delivery import (  # noqa: E402
    DeliveryError,
    SegmentReports,
    SmtpSettings,
    build_message,
    find_segment_reports,
    load_distribution_lists,
    parse_addresses,
    parse_smtp_address,
    plan_messages,
    resolve_password,
    send_messages,
    summary_html,
)

from .conftest import run_cli  # noqa: E402

LOOPBACK = "127.0.0.1"
PASSWORD = "pa55-Wörd-7Qz!x"


# --------------------------------------------------------------------------- SMTP server
class Collector:
    """aiosmtpd handler keeping every envelope; refuses the recipients in ``refuse``."""

    def __init__(self, refuse: set[str] | None = None, data_reply: list[str] | None = None,
                 password: str = PASSWORD) -> None:
        self.messages: list[dict] = []
        self.password = password
        self.refuse = {a.lower() for a in (refuse or set())}
        self.data_reply = list(data_reply or [])  # replies to DATA, in order; then 250
        self.logins: list[tuple[str, str]] = []

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        if address.lower() in self.refuse:
            return f"550 5.1.1 <{address}>: mailbox unavailable"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):
        if self.data_reply:
            reply = self.data_reply.pop(0)
            if not reply.startswith("250"):
                return reply
        self.messages.append({"mail_from": envelope.mail_from, "rcpt_tos": list(envelope.rcpt_tos),
                              "content": bytes(envelope.content),
                              "tls": server.transport.get_extra_info("ssl_object") is not None,
                              "authenticated": bool(session.authenticated)})
        return "250 Message accepted for delivery"

    def authenticator(self, server, session, envelope, mechanism, auth_data):
        assert isinstance(auth_data, LoginPassword)
        login, password = auth_data.login.decode(), auth_data.password.decode()
        self.logins.append((login, password))
        return AuthResult(success=(login == "reports" and password == self.password), handled=False)

    def parsed(self, i: int = 0) -> email.message.EmailMessage:
        return email.message_from_bytes(self.messages[i]["content"], policy=email.policy.default)


def free_port() -> int:
    with socket.socket() as s:
        s.bind((LOOPBACK, 0))
        return s.getsockname()[1]


@pytest.fixture
def smtp_server(request):
    """Factory: start an aiosmtpd server on 127.0.0.1 (stopped by the finaliser)."""
    started = []

    def start(handler: Collector | None = None, **kwargs):
        handler = handler or Collector()
        controller = Controller(handler, hostname=LOOPBACK, port=free_port(), **kwargs)
        controller.start()
        started.append(controller)
        return controller, handler

    def stop():
        for c in started:
            c.stop()

    request.addfinalizer(stop)
    return start


def settings_for(controller: Controller, **kw) -> SmtpSettings:
    return SmtpSettings(host=LOOPBACK, port=controller.port, timeout=10, **kw)


# --------------------------------------------------------------------------- fake reports
KPIS = {
    "csat_top2": {"value": 0.7834, "ci_low": 0.7612, "ci_high": 0.8041, "n": 2391, "target": 0.75,
                  "met": True},
    "csi": {"value": 71.26, "ci_low": 70.41, "ci_high": 72.08, "n": 2400, "target": 75.0, "met": False},
    "nps": {"value": 21.04, "ci_low": 17.3, "ci_high": 24.8, "n": 2377, "target": None, "met": None},
}


def report_html(title: str, filler: int = 0) -> bytes:
    return (f"<!DOCTYPE html><html><head><meta charset=\"utf-8\"><title>{title}</title></head>"
            f"<body><h1>{title} — Phân tích 分析</h1><p>{'a' * filler}</p></body></html>").encode()


def make_segment(root: Path, folder: str, *, segment: str | None = None, study: str = "Retail banking 2026",
                 n: int = 2400, kpis: dict | None = None, reports: dict[str, bytes] | None = None) -> Path:
    d = root / folder
    d.mkdir(parents=True)
    reports = reports if reports is not None else {
        "04_analysis.html": report_html("Analysis"), "01_goal_setting.html": report_html("Goal-setting")}
    for name, data in reports.items():
        (d / name).write_bytes(data)
    (d / "02_discovery_questionnaire.csv").write_text("item\nq1\n", encoding="utf-8")  # never attached
    metrics = {"study": study, "segment": segment or folder, "n": n, "suppressed": [],
               "generated_with": {"version": "0.1.0", "data_sha256": "0" * 64, "parameters": {}},
               "kpis": KPIS if kpis is None else kpis}
    (d / "metrics.json").write_text(json.dumps(metrics, ensure_ascii=False), encoding="utf-8")
    return d


@pytest.fixture
def reports(tmp_path) -> Path:
    root = tmp_path / "reports"
    make_segment(root, "all")
    make_segment(root, "region=Hanoi", n=640)
    make_segment(root, "region=Ho_Chi_Minh_City", segment="region=Ho Chi Minh City", n=810)
    (root / "index.html").write_text("<html></html>", encoding="utf-8")
    return root


def attachments(msg) -> list[tuple[str, str, bytes]]:
    return [(p.get_filename(), p.get_content_type(), p.get_payload(decode=True)) for p in msg.iter_attachments()]


def html_body(msg) -> str:
    return msg.get_body(preferencelist=("html",)).get_content()


class _Text(html.parser.HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.tags: list[str] = []
        self.text: list[str] = []
        self.attrs: list[tuple[str, str | None]] = []

    def handle_starttag(self, tag, attrs):
        self.tags.append(tag)
        self.attrs.extend(attrs)

    def handle_data(self, data):
        self.text.append(data)


def parse_html(body: str) -> _Text:
    p = _Text()
    p.feed(body)
    p.close()
    return p


# --------------------------------------------------------------------------- delivery end to end
def test_message_received_parsed_recipients_attachments_body(reports, smtp_server):
    controller, handler = smtp_server()
    to = parse_addresses("ceo@bank.vn, Quality Team <quality@bank.vn>")
    plans = plan_messages(reports, to=to, segments=["all"], sender="reports@bank.vn")
    results = send_messages(plans, settings_for(controller))

    assert len(handler.messages) == 1
    got = handler.messages[0]
    assert got["mail_from"] == "reports@bank.vn"
    assert got["rcpt_tos"] == ["ceo@bank.vn", "quality@bank.vn"]
    assert results[0].delivered == ["ceo@bank.vn", "quality@bank.vn"] and results[0].complete

    msg = handler.parsed()
    assert [a.addr_spec for a in msg["To"].addresses] == ["ceo@bank.vn", "quality@bank.vn"]
    assert msg["To"].addresses[1].display_name == "Quality Team"
    assert msg["From"].addresses[0].addr_spec == "reports@bank.vn"
    assert msg["Subject"] == "Retail banking 2026 — All customers — CSM reports"  # the segment's label
    assert parsedate_to_datetime(msg["Date"]).tzinfo is not None
    assert msg["Message-ID"].startswith("<") and msg["Message-ID"].endswith("@bank.vn>")
    assert msg["Message-ID"] == results[0].message_id

    # attachments: the stage reports only, in stage order, byte for byte
    folder = reports / "all"
    assert attachments(msg) == [
        ("01_goal_setting.html", "text/html", (folder / "01_goal_setting.html").read_bytes()),
        ("04_analysis.html", "text/html", (folder / "04_analysis.html").read_bytes()),
    ]
    # an HTML body and a plain-text alternative
    assert msg.get_body(preferencelist=("plain",)) is not None
    body = html_body(msg)
    parsed = parse_html(body)
    assert "script" not in parsed.tags and "style" not in parsed.tags and "link" not in parsed.tags
    assert "<script" not in body.lower()
    assert "http://" not in body and "https://" not in body
    assert not any(name in ("src", "href") for name, _ in parsed.attrs)  # nothing fetched or linked
    assert sum(name == "style" for name, _ in parsed.attrs) > 10  # inline CSS
    text = " ".join(parsed.text)
    # KPI tiles from metrics.json, by hand: CSAT 0.7834 -> 78.3 %, CI 76.1-80.4, target 75.0 %, met
    for expected in ("Retail banking 2026", "2,400 respondents", "78.3%", "76.1% – 80.4%", "target 75.0%",
                     "71.3", "70.4 – 72.1", "+21.0", "+17.3 – +24.8", "n = 2,391", "met", "not met",
                     "01_goal_setting.html", "04_analysis.html"):
        assert expected in text, expected
    assert "questionnaire" not in body


def test_hostile_study_and_segment_names_are_escaped(tmp_path, smtp_server):
    root = tmp_path / "reports"
    hostile_kpi = {"<img src=x onerror=alert(2)>": {"value": "<b>1</b>", "n": 9, "met": True}}
    make_segment(root, "region=x", segment="region=<script>alert('seg')</script>",
                 study="<script>alert(1)</script>\r\nBcc: evil@attacker.example", kpis=hostile_kpi)
    controller, handler = smtp_server()
    send_messages(plan_messages(root, to=parse_addresses("a@bank.vn")), settings_for(controller))

    got = handler.messages[0]
    assert got["rcpt_tos"] == ["a@bank.vn"]  # no header injection added a recipient
    msg = handler.parsed()
    assert msg["Bcc"] is None
    assert "\n" not in msg["Subject"] and "<script>alert(1)</script>" in msg["Subject"]  # a header, not HTML
    body = html_body(msg)
    parsed = parse_html(body)
    assert "script" not in parsed.tags and "img" not in parsed.tags and "b" not in parsed.tags
    assert "<script" not in body.lower() and "<img" not in body.lower()
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in body
    assert "Region: &lt;script&gt;alert(&#39;seg&#39;)&lt;/script&gt;" in body  # Jinja's autoescape
    assert "&lt;img src=x onerror=alert(2)&gt;" in body


def test_non_ascii_subject_and_display_names_are_encoded(tmp_path, smtp_server):
    root = tmp_path / "reports"
    study = "Khảo sát sự hài lòng 2026 · 满意度调查"
    make_segment(root, "region=Đà_Nẵng", segment="region=Đà Nẵng", study=study)
    controller, handler = smtp_server()
    to = parse_addresses(["Nguyễn Văn An <an.nguyen@bank.vn>", "张伟 <zhang.wei@bank.cn>",
                          '"Lê, Thị Hà" <ha.le@bank.vn>'])
    send_messages(plan_messages(root, to=to, sender="Báo cáo CSM <csm@bank.vn>"), settings_for(controller))

    raw = handler.messages[0]["content"]
    raw.decode("ascii")  # 7-bit clean on the wire: RFC 2047 headers, QP/base64 bodies
    msg = handler.parsed()
    assert msg["Subject"] == f"{study} — Region: Đà Nẵng — CSM reports"
    assert [(a.display_name, a.addr_spec) for a in msg["To"].addresses] == [
        ("Nguyễn Văn An", "an.nguyen@bank.vn"), ("张伟", "zhang.wei@bank.cn"), ("Lê, Thị Hà", "ha.le@bank.vn")]
    assert msg["From"].addresses[0].display_name == "Báo cáo CSM"
    assert handler.messages[0]["rcpt_tos"] == ["an.nguyen@bank.vn", "zhang.wei@bank.cn", "ha.le@bank.vn"]
    assert study in html_body(msg)
    assert attachments(msg)[0][2] == (root / "region=Đà_Nẵng" / "01_goal_setting.html").read_bytes()


def test_size_limit_leaves_out_reports_that_do_not_fit(tmp_path, smtp_server, capsys):
    root = tmp_path / "reports"
    # encoded (base64, 76-char lines + CRLF) sizes about 55 KB, 406 KB, 55 KB; limit 200 KB
    files = {"01_goal_setting.html": report_html("Goal", 40_000),
             "03_measurement.html": report_html("Measurement", 300_000),
             "05_action_progress.html": report_html("Action", 40_000)}
    make_segment(root, "all", reports=files)
    controller, handler = smtp_server()
    rc = main(["send", "--reports", str(root), "--to", "ceo@bank.vn", "--max-size", "0.2",
               "--smtp", f"{LOOPBACK}:{controller.port}"])
    out, err = capsys.readouterr()
    assert rc == 0, err
    content = handler.messages[0]["content"]
    assert len(content) <= 200_000
    msg = handler.parsed()
    # the big one is left out; the later, smaller one still fits (stage order kept)
    assert [(n, data) for n, _, data in attachments(msg)] == [
        ("01_goal_setting.html", files["01_goal_setting.html"]),
        ("05_action_progress.html", files["05_action_progress.html"])]
    body = " ".join(parse_html(html_body(msg)).text)
    assert "Reports not attached" in body and "03_measurement.html" in body and "0.2 MB limit" in body
    assert "03_measurement.html left out" in err and "0.2 MB limit" in err
    assert "03_measurement.html" in msg.get_body(preferencelist=("plain",)).get_content()


def test_size_limit_unit(tmp_path):
    root = tmp_path / "reports"
    make_segment(root, "all", reports={"01_goal_setting.html": report_html("G", 5_000)})
    seg = find_segment_reports(root)[0]
    to = parse_addresses("a@bank.vn")
    roomy = build_message(seg, recipients=to, max_bytes=10**6)
    assert [p.name for p in roomy.attached] == ["01_goal_setting.html"] and roomy.left_out == []
    assert roomy.size == len(roomy.wire_bytes())
    # room for the summary but not the 5 KB report (base64 makes it about 6.8 KB)
    bare = len(build_message(seg, recipients=to, max_bytes=10**6).wire_bytes()) - 6_000
    tight = build_message(seg, recipients=to, max_bytes=bare)
    assert tight.attached == [] and [p.name for p, _ in tight.left_out] == ["01_goal_setting.html"]
    assert tight.size <= bare
    with pytest.raises(CsmError, match=r"summary message alone is .* over --max-size"):
        build_message(seg, recipients=to, max_bytes=1_000)


def test_distribution_lists_send_region_reports_only_to_that_region(reports, tmp_path, smtp_server, capsys):
    lists = tmp_path / "lists.yaml"
    lists.write_text(
        "all: [ceo@bank.vn]\n"
        "region=Hanoi: [\"Trần Minh <hn.manager@bank.vn>\", hn.ops@bank.vn]\n"
        "region=Ho Chi Minh City: hcm.manager@bank.vn\n"  # matched by the metrics.json name
        "region=Nowhere: [lost@bank.vn]\n", encoding="utf-8")
    controller, handler = smtp_server()
    rc = main(["send", "--reports", str(reports), "--to", "boss@bank.vn", "--lists", str(lists),
               "--smtp", f"{LOOPBACK}:{controller.port}"])
    assert rc == 0
    assert "distribution list 'region=Nowhere' matches no segment" in capsys.readouterr().err
    by_segment = {}
    for i, got in enumerate(handler.messages):
        msg = handler.parsed(i)
        segment = msg["Subject"].split(" — ")[1]  # the label: "Region: Hanoi"
        by_segment[segment] = set(got["rcpt_tos"])
        assert {a.addr_spec for a in msg["To"].addresses} == set(got["rcpt_tos"])  # headers = envelope
    assert by_segment == {
        "All customers": {"boss@bank.vn", "ceo@bank.vn"},
        "Region: Hanoi": {"boss@bank.vn", "hn.manager@bank.vn", "hn.ops@bank.vn"},
        "Region: Ho Chi Minh City": {"boss@bank.vn", "hcm.manager@bank.vn"},
    }


def test_lists_only_segments_without_a_list_are_not_sent(reports, capsys):
    plans = plan_messages(reports, lists={"region=Hanoi": parse_addresses("hn@bank.vn")},
                          log=lambda m: print(m))
    assert [(p.segment, p.envelope_to) for p in plans] == [("region=Hanoi", ["hn@bank.vn"])]
    out = capsys.readouterr().out
    assert "segment all: no recipients" in out and "segment region=Ho Chi Minh City: no recipients" in out


def test_refused_recipient_is_reported_with_who_got_it(reports, smtp_server, capsys):
    controller, handler = smtp_server(Collector(refuse={"gone@bank.vn"}))
    plans = plan_messages(reports, to=parse_addresses("ok1@bank.vn, gone@bank.vn, ok2@bank.vn"),
                          segments=["all", "region=Hanoi"])
    with pytest.raises(DeliveryError) as info:
        send_messages(plans, settings_for(controller))
    err = info.value
    assert [m["rcpt_tos"] for m in handler.messages] == [["ok1@bank.vn", "ok2@bank.vn"]] * 2
    assert [(r.segment, r.delivered, list(r.refused)) for r in err.results] == [
        ("all", ["ok1@bank.vn", "ok2@bank.vn"], ["gone@bank.vn"]),
        ("region=Hanoi", ["ok1@bank.vn", "ok2@bank.vn"], ["gone@bank.vn"])]
    assert err.results[0].refused["gone@bank.vn"].startswith("550 5.1.1")
    text = str(err)
    assert "segment all: delivered to ok1@bank.vn, ok2@bank.vn; NOT delivered to gone@bank.vn" in text
    assert "550 5.1.1" in text and f"{LOOPBACK}:{controller.port}" in text

    # the CLI: exit 1, the per-message lines on stdout, the error on stderr, no traceback
    rc = main(["send", "--reports", str(reports), "--to", "ok1@bank.vn,gone@bank.vn",
               "--segments", "all", "--smtp", f"{LOOPBACK}:{controller.port}"])
    out, errtext = capsys.readouterr()
    assert rc == 1
    assert "segment all: sent to ok1@bank.vn" in out and "refused: gone@bank.vn" in out
    assert "NOT delivered to gone@bank.vn" in errtext and "Traceback" not in errtext


def test_every_recipient_refused_and_later_segments_still_reported(reports, smtp_server):
    controller, handler = smtp_server(Collector(refuse={"gone@bank.vn"}))
    lists = {"all": parse_addresses("gone@bank.vn"), "region=Hanoi": parse_addresses("hn@bank.vn")}
    with pytest.raises(DeliveryError) as info:
        send_messages(plan_messages(reports, lists=lists), settings_for(controller))
    assert [(r.segment, r.delivered) for r in info.value.results] == [
        ("all", []), ("region=Hanoi", ["hn@bank.vn"])]
    assert [m["rcpt_tos"] for m in handler.messages] == [["hn@bank.vn"]]
    assert "segment all: delivered to nobody; NOT delivered to gone@bank.vn" in str(info.value)


def test_server_closing_midway_says_what_was_delivered(reports, smtp_server):
    controller, handler = smtp_server(Collector(data_reply=["250", "421 4.3.2 shutting down"]))
    plans = plan_messages(reports, to=parse_addresses("ceo@bank.vn"))
    with pytest.raises(DeliveryError) as info:
        send_messages(plans, settings_for(controller))
    assert len(handler.messages) == 1
    text = str(info.value)
    assert "segment all: delivered to ceo@bank.vn" in text
    assert "segment region=Hanoi: delivered to nobody; NOT sent" in text and "421" in text
    assert "not tried: segment region=Ho Chi Minh City" in text


def test_ctrl_c_while_sending_says_who_has_the_reports(reports, smtp_server, monkeypatch, capsys):
    """A Ctrl-C (or SIGTERM) while the second message goes out: csm stops with exit 130 and
    says which segment was delivered, which may or may not have gone out, and which were not
    tried, so the user knows what to send again."""
    import smtplib

    controller, handler = smtp_server()
    real = smtplib.SMTP.sendmail
    calls = []

    def sendmail(self, *args, **kwargs):
        calls.append(1)
        if len(calls) == 2:
            raise KeyboardInterrupt
        return real(self, *args, **kwargs)

    monkeypatch.setattr(smtplib.SMTP, "sendmail", sendmail)
    rc = main(["send", "--reports", str(reports), "--to", "ceo@bank.vn", "--smtp", f"{LOOPBACK}:{controller.port}"])
    out, err = capsys.readouterr()
    assert rc == 130 and len(handler.messages) == 1
    assert "interrupted; what happened so far:" in out
    assert "segment all: delivered to ceo@bank.vn" in out
    assert "segment region=Hanoi: being sent when interrupted — it may or may not have gone out" in out
    assert "not tried: segment region=Ho Chi Minh City" in out
    assert "what was sent is listed above" in err and "Traceback" not in err


def test_connection_refused_exits_1_with_clear_message(reports):
    port = free_port()  # nothing listens there
    proc = run_cli("send", "--reports", str(reports), "--to", "ceo@bank.vn", "--smtp", f"{LOOPBACK}:{port}")
    assert proc.returncode == 1
    assert "Traceback" not in proc.stderr
    assert f"could not connect to the SMTP server {LOOPBACK}:{port}: connection refused" in proc.stderr
    assert "--smtp" in proc.stderr


def test_dry_run_writes_parseable_eml_files_and_contacts_no_server(reports, tmp_path, capsys):
    out_dir = tmp_path / "outbox"
    rc = main(["send", "--reports", str(reports), "--to", "ceo@bank.vn", "--dry-run", str(out_dir),
               "--smtp", f"{LOOPBACK}:{free_port()}", "--user", "reports"])  # no server, no password needed
    out, err = capsys.readouterr()
    assert rc == 0, err
    files = sorted(p.name for p in out_dir.iterdir())
    assert files == ["all.eml", "region=Hanoi.eml", "region=Ho_Chi_Minh_City.eml"]
    for name in files:
        msg = email.message_from_bytes((out_dir / name).read_bytes(), policy=email.policy.default)
        assert [a.addr_spec for a in msg["To"].addresses] == ["ceo@bank.vn"]
        folder = reports / name.removesuffix(".eml")
        assert [(n, data) for n, _, data in attachments(msg)] == [
            (p, (folder / p).read_bytes()) for p in ("01_goal_setting.html", "04_analysis.html")]
        segment = {"all.eml": "all"}.get(name, name.removesuffix(".eml").replace("_", " "))
        assert f"would send segment {segment} to ceo@bank.vn" in out
    assert not list(out_dir.glob(".*.tmp"))


# --------------------------------------------------------------------------- TLS and login
def self_signed_cert(folder: Path) -> tuple[Path, Path]:
    openssl = shutil.which("openssl")
    if openssl is None:
        pytest.skip("no openssl command to make a self-signed certificate (and cryptography is not a dependency)")
    cert, key = folder / "cert.pem", folder / "key.pem"
    proc = subprocess.run([openssl, "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1",
                           "-keyout", str(key), "-out", str(cert), "-subj", "/CN=127.0.0.1",
                           "-addext", "subjectAltName=IP:127.0.0.1,DNS:localhost"],
                          capture_output=True, text=True, timeout=60)
    if proc.returncode != 0:
        pytest.skip(f"openssl could not make a self-signed certificate: {proc.stderr.strip()[:200]}")
    return cert, key


def test_starttls_with_trusted_self_signed_certificate(reports, tmp_path, smtp_server):
    cert, key = self_signed_cert(tmp_path)
    server_ctx = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    server_ctx.load_cert_chain(cert, key)
    controller, handler = smtp_server(tls_context=server_ctx, require_starttls=True)
    client_ctx = ssl.create_default_context(cafile=str(cert))
    plans = plan_messages(reports, to=parse_addresses("ceo@bank.vn"), segments=["all"])
    send_messages(plans, settings_for(controller, starttls=True, ssl_context=client_ctx))
    assert handler.messages[0]["tls"] is True
    assert handler.messages[0]["rcpt_tos"] == ["ceo@bank.vn"]

    # the default context does not trust the self-signed certificate: a clear error, nothing sent
    with pytest.raises(CsmError, match=r"TLS with the SMTP server .* certificate is not trusted"):
        send_messages(plans, settings_for(controller, starttls=True))
    # without --starttls this server refuses to take mail: a clear error, nothing sent
    with pytest.raises(DeliveryError, match=r"NOT sent"):
        send_messages(plans, settings_for(controller))
    assert len(handler.messages) == 1


def test_implicit_tls_ssl(reports, tmp_path, smtp_server):
    cert, key = self_signed_cert(tmp_path)
    server_ctx = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    server_ctx.load_cert_chain(cert, key)
    controller, handler = smtp_server(ssl_context=server_ctx)
    plans = plan_messages(reports, to=parse_addresses("ceo@bank.vn"), segments=["all"])
    client_ctx = ssl.create_default_context(cafile=str(cert))
    send_messages(plans, settings_for(controller, ssl=True, ssl_context=client_ctx))
    assert handler.messages[0]["tls"] is True


def auth_server(smtp_server, password: str = PASSWORD, exclude: tuple[str, ...] = ()):
    handler = Collector(password=password)
    controller, _ = smtp_server(handler, authenticator=handler.authenticator, auth_require_tls=False,
                                auth_required=True,  # AUTH without TLS: allowed on loopback only
                                auth_exclude_mechanism=list(exclude))
    return controller, handler


@pytest.mark.filterwarnings("ignore:Requiring AUTH while not requiring TLS")
@pytest.mark.parametrize(("password", "exclude"), [
    (PASSWORD, ()),  # non-ASCII: sent as UTF-8 with AUTH PLAIN (smtplib.login cannot)
    (PASSWORD, ("PLAIN",)),  # non-ASCII with AUTH LOGIN
    ("ascii-Only-Pass-123", ()),  # smtplib.login
])
def test_password_from_environment_used_and_never_printed(reports, smtp_server, monkeypatch, capsys,
                                                          password, exclude):
    controller, handler = auth_server(smtp_server, password, exclude)
    monkeypatch.setenv("CSM_SMTP_PASSWORD", password)
    rc = main(["send", "--reports", str(reports), "--to", "ceo@bank.vn", "--segments", "all",
               "--user", "reports", "--smtp", f"{LOOPBACK}:{controller.port}"])
    out, err = capsys.readouterr()
    assert rc == 0, err
    assert handler.logins == [("reports", password)]
    assert handler.messages[0]["authenticated"] is True
    assert password not in out and password not in err
    assert password not in repr(SmtpSettings(user="reports", password=password))


@pytest.mark.filterwarnings("ignore:Requiring AUTH while not requiring TLS")
def test_wrong_password_clear_error_nothing_sent_password_not_shown(reports, smtp_server, monkeypatch):
    controller, handler = auth_server(smtp_server)
    wrong = "not-the-Password-93"
    monkeypatch.setenv("CSM_SMTP_PASSWORD", wrong)  # inherited by the subprocess
    proc = run_cli("send", "--reports", str(reports), "--to", "ceo@bank.vn", "--user", "reports",
                   "--smtp", f"{LOOPBACK}:{controller.port}")
    assert proc.returncode == 1
    assert "Traceback" not in proc.stderr
    assert f"the SMTP server {LOOPBACK}:{controller.port} refused the login of user 'reports': 535" in proc.stderr
    assert "CSM_SMTP_PASSWORD" in proc.stderr
    assert wrong not in proc.stderr and wrong not in proc.stdout
    assert handler.messages == []


def test_password_sources():
    assert resolve_password(None, env={"CSM_SMTP_PASSWORD": "x"}) is None  # no user, no login
    assert resolve_password("u", env={"CSM_SMTP_PASSWORD": "from-env"}, interactive=True,
                            prompt=lambda _p: "typed") == "from-env"
    asked = []
    assert resolve_password("u", env={}, interactive=True, where="mail:587",
                            prompt=lambda p: asked.append(p) or "typed") == "typed"
    assert asked == ["SMTP password for u at mail:587: "]
    with pytest.raises(CsmError, match="set the environment variable CSM_SMTP_PASSWORD"):
        resolve_password("u", env={}, interactive=False)


def test_there_is_no_password_option(reports, capsys):
    with pytest.raises(SystemExit) as info:
        main(["send", "--reports", str(reports), "--to", "a@bank.vn", "--password", "s3cret"])
    assert info.value.code == 2


# --------------------------------------------------------------------------- input checks
@pytest.mark.parametrize("bad", ["ceo", "ceo@", "@bank.vn", "ceo@bank..vn", "two words@bank.vn",
                                 "ceo@bank.vn junk", "ceo@-bank.vn", "Bob <ceo@bank.vn",
                                 "ceo@bank.vn\nBcc: x@evil.example", "tên@bank.vn"])
def test_bad_addresses_are_named(bad):
    with pytest.raises(CsmError, match=r"^--to: .* is not a valid e-mail address"):
        parse_addresses(f"ok@bank.vn, {bad}")
    try:
        parse_addresses(f"ok@bank.vn, {bad}")
    except CsmError as exc:
        assert repr(bad.strip()) in str(exc)


def test_good_addresses():
    got = parse_addresses('a@bank.vn, "Doe, Jane" <jane@bank.vn>; <b@x.example>, A@BANK.VN, ops@localhost')
    assert [(a.display_name, a.addr_spec) for a in got] == [
        ("", "a@bank.vn"), ("Doe, Jane", "jane@bank.vn"), ("", "b@x.example"), ("", "ops@localhost")]


def test_distribution_list_file_errors(tmp_path):
    p = tmp_path / "lists.yaml"
    p.write_text("region=Hanoi: [ok@bank.vn, 'hanoi manager@bank']\n", encoding="utf-8")
    with pytest.raises(CsmError, match=r"lists.yaml, segment 'region=Hanoi': 'hanoi manager@bank' is not a valid"):
        load_distribution_lists(p)
    p.write_text("- a@bank.vn\n", encoding="utf-8")
    with pytest.raises(CsmError, match=r"expected a mapping of segment -> list of addresses, found list"):
        load_distribution_lists(p)
    p.write_text("all: {a: b}\n", encoding="utf-8")
    with pytest.raises(CsmError, match=r"segment 'all': expected a list of addresses, found dict"):
        load_distribution_lists(p)
    with pytest.raises(CsmError, match="not found"):
        load_distribution_lists(tmp_path / "missing.yaml")


def test_segment_selection_and_missing_folder(reports, tmp_path):
    segs = find_segment_reports(reports, segments=["region=Ho Chi Minh City", "all"])
    assert [s.folder.name for s in segs] == ["region=Ho_Chi_Minh_City", "all"]
    with pytest.raises(CsmError, match=r"no reports for segment 'region=Nowhere' .* available: all, "):
        find_segment_reports(reports, segments=["region=Nowhere"])
    with pytest.raises(CsmError, match="run 'csm run --out"):
        find_segment_reports(tmp_path / "nothing")


def test_cli_needs_recipients(reports, capsys):
    assert main(["send", "--reports", str(reports)]) == 1
    assert "needs recipients" in capsys.readouterr().err


def test_parse_smtp_address():
    assert parse_smtp_address("mail.bank.vn:2525") == ("mail.bank.vn", 2525)
    assert parse_smtp_address("mail.bank.vn") == ("mail.bank.vn", 25)
    assert parse_smtp_address("mail.bank.vn", starttls=True) == ("mail.bank.vn", 587)
    assert parse_smtp_address("mail.bank.vn", use_ssl=True) == ("mail.bank.vn", 465)
    assert parse_smtp_address("[::1]:2525") == ("::1", 2525)
    for bad in ("mail:port", "a:b:c", "mail:0", "mail:70000"):
        with pytest.raises(CsmError, match="--smtp"):
            parse_smtp_address(bad)


@settings(max_examples=60, deadline=None)
@given(study=st.text(min_size=1, max_size=40), segment=st.text(min_size=1, max_size=40))
def test_any_names_render_as_text_never_as_markup(study, segment):
    from csm_helpers.present.catalogue import segment_label

    seg = SegmentReports(segment=segment, folder=Path("r"), metrics={"n": 10, "kpis": KPIS}, reports=[])
    body = summary_html(seg, study_name=study, attached=[], left_out=[])
    parsed = parse_html(body)
    allowed = {"html", "head", "meta", "title", "body", "h1", "h2", "p", "div", "strong", "table", "thead",
               "tbody", "tr", "th", "td", "ol", "ul", "li", "br", "span"}
    assert set(parsed.tags) <= allowed
    text = "".join(parsed.text)
    # the names come back as text (HTMLParser un-escapes; CR/LF normalisation aside)
    def norm(t):
        return t.replace("\r\n", "\n").replace("\r", "\n")
    assert norm(study) in norm(text) and norm(segment_label(segment)) in norm(text)


def test_module_public_names():
    for name in delivery.__all__:
        assert hasattr(delivery, name), name


def test_e_mail_of_a_run_without_summary_gives_the_recorded_level_and_never_assumes_95():
    """The fallback tiles (a metrics.json without ``summary``) label the interval with the level
    the run recorded in ``kpis``; an older file without a level says only "CI"."""
    from csm_helpers.delivery.message import summary_text
    from csm_helpers.delivery.reports import SegmentReports

    entry = {"value": 21.04, "ci_low": 15.2, "ci_high": 26.9, "n": 900, "target": 30, "met": False}
    text_90 = summary_text(SegmentReports("all", Path("r"), {"n": 2400, "kpis": {"nps": {**entry, "level": 0.9}}},
                                          []), study_name="Bank", attached=[], left_out=[])
    assert "(90% CI +15.2 – +26.9;" in text_90 and "95%" not in text_90
    text_old = summary_text(SegmentReports("all", Path("r"), {"n": 2400, "kpis": {"nps": entry}}, []),
                            study_name="Bank", attached=[], left_out=[])
    assert "(CI +15.2 – +26.9;" in text_old and "95%" not in text_old
