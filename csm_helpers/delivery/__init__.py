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

from csm_helpers.delivery.addresses import DEFAULT_SENDER, load_distribution_lists, parse_addresses
from csm_helpers.delivery.message import (
    MB,
    OutgoingMessage,
    build_message,
    plan_messages,
    summary_html,
    summary_text,
    write_eml,
)
from csm_helpers.delivery.reports import SegmentReports, find_segment_reports
from csm_helpers.delivery.smtp import (
    PASSWORD_ENV,
    DeliveryError,
    DeliveryResult,
    SmtpSettings,
    parse_smtp_address,
    resolve_password,
    send_messages,
)

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
