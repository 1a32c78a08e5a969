"""Sending: the SMTP server and its password, one connection for all messages, and what happened to each."""

from __future__ import annotations

import base64
import contextlib
import getpass
import ipaddress
import os
import re
import smtplib
import socket
import ssl
import sys
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field

from csm_helpers.core.errors import CsmError
from csm_helpers.delivery.message import MB, Log, OutgoingMessage, single_line

__all__ = ["PASSWORD_ENV", "DeliveryError", "SmtpSettings", "parse_smtp_address", "resolve_password", "DeliveryResult", "send_messages"]


#: The only place a password is read from (besides an interactive prompt).
PASSWORD_ENV = "CSM_SMTP_PASSWORD"


class DeliveryError(CsmError):
    """Raised when some message or recipient was not delivered (refused, rejected, or the
    connection was lost). ``results`` lists what happened to every message tried so far."""

    def __init__(self, message: str, results: list[DeliveryResult]) -> None:
        self.results = list(results)
        super().__init__(message)


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
    return f"{exc.smtp_code} {single_line(text)}"


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


def _summary(results: Sequence[DeliveryResult], messages: Sequence[OutgoingMessage] = (), *,
             interrupted: bool = False) -> str:
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
    if interrupted and untried:
        lines.append(f"  segment {untried.pop(0)}: being sent when interrupted — it may or may not have gone out")
    if untried:
        lines.append(f"  not tried: segment {', segment '.join(untried)}")
    return "\n".join(lines)


def send_messages(messages: Sequence[OutgoingMessage], settings: SmtpSettings, *,
                  log: Log | None = None) -> list[DeliveryResult]:
    """Send the messages over one SMTP session and record every recipient's fate.

    A recipient the server refuses, or a message it rejects, does not stop the others;
    after the last message a :class:`DeliveryError` lists what was not delivered (and
    what was). A lost connection stops at once with a :class:`DeliveryError` saying which
    segments were already delivered to whom. ``log`` gets one line per message and, when
    Ctrl-C or SIGTERM stops the sending, the same account of what was delivered.

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
    except KeyboardInterrupt:  # Ctrl-C, SIGTERM: say who has the reports before csm stops
        log("interrupted; what happened so far:\n" + _summary(results, messages, interrupted=True))
        raise
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
