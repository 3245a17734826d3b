"""Sending a batch of messages over one SMTP session with the standard library (`smtplib`, run in one worker
thread per batch so the event loop never blocks): plain, STARTTLS or implicit TLS, optional AUTH, certificate
checked against the system's CAs or `smtp_ca_file`. Each message's outcome says whether trying again can help.

One session per batch rather than a connection kept between batches: connecting, EHLO, STARTTLS, AUTH and QUIT
are paid once per batch (up to `mail_batch_size` mails) instead of once per mail, and nothing has to notice a
connection the server dropped while idle (servers close idle sessions after a few minutes, RFC 5321 4.5.3.2)."""

from __future__ import annotations

import asyncio
import base64
import smtplib
import ssl
import threading
from collections.abc import Callable, Sequence
from email.message import EmailMessage
from email.utils import parseaddr

from ..config import ApplicationsSettings


class SendFailure(Exception):
    """The mail was not accepted; `permanent` when the server refused it for good (5xx to the recipient or the
    content), so retrying cannot help."""

    def __init__(self, reason: str, permanent: bool = False) -> None:
        super().__init__(reason)
        self.reason = reason
        self.permanent = permanent


class NotTried:
    """A message of a batch that was not sent at all (the connection was lost before it, or the sender stopped)."""

    def __repr__(self) -> str:
        return "NOT_TRIED"


NOT_TRIED = NotTried()
Outcome = SendFailure | NotTried | None


class SmtpTransport:
    def __init__(self, settings: ApplicationsSettings) -> None:
        self.host = settings.smtp_host
        self.port = settings.smtp_port
        self.security = settings.smtp_security
        self.username = settings.smtp_username
        self.password = settings.smtp_password.get_secret_value()
        self.timeout = settings.smtp_timeout_seconds
        self.ca_file = settings.smtp_ca_file
        self.envelope_from = parseaddr(settings.mail_from)[1]

    def _context(self) -> ssl.SSLContext:
        return ssl.create_default_context(cafile=str(self.ca_file) if self.ca_file else None)

    def _connect(self) -> smtplib.SMTP:
        if self.security == "tls":
            smtp: smtplib.SMTP = smtplib.SMTP_SSL(self.host, self.port, timeout=self.timeout, context=self._context())
        else:
            smtp = smtplib.SMTP(self.host, self.port, timeout=self.timeout)
        try:
            if self.security == "starttls":
                smtp.starttls(context=self._context())
            if self.username:
                self._login(smtp)
        except BaseException:
            smtp.close()
            raise
        return smtp

    def _session_blocking(
        self, batch: Sequence[tuple[EmailMessage, str]], keep_going: Callable[[], bool]
    ) -> list[Outcome]:
        """One SMTP session for the whole batch (in a worker thread). A refused message does not end it: smtplib
        sends RSET after a refused sender, recipient or content, so the next message starts a clean transaction.
        A lost connection (or a 421, the server closing) ends it: that message is a failure to retry, the rest
        are NOT_TRIED. `keep_going` is asked before each message."""
        outcomes: list[Outcome] = [NOT_TRIED] * len(batch)
        try:
            smtp = self._connect()
        except Exception as exc:  # noqa: BLE001 - server down, TLS, AUTH: every message of the batch waits
            failure = failure_of(exc)
            return [failure] * len(batch)
        try:
            for position, (message, to) in enumerate(batch):
                if not keep_going():
                    break
                try:
                    smtp.send_message(message, from_addr=self.envelope_from, to_addrs=[to])
                except Exception as exc:  # noqa: BLE001 - classified: refused (go on) or connection lost (stop)
                    outcomes[position] = failure_of(exc)
                    if connection_lost(exc):
                        break
                else:
                    outcomes[position] = None
        finally:
            try:
                smtp.quit()
            except Exception:  # noqa: BLE001 - already gone
                smtp.close()
        return outcomes

    def _login(self, smtp: smtplib.SMTP) -> None:
        """smtplib's `login` sends credentials as ASCII only; a Vietnamese password goes as UTF-8 AUTH PLAIN
        (RFC 4616), which every server supporting AUTH offers."""
        if (self.username + self.password).isascii():
            smtp.login(self.username, self.password)
            return
        smtp.ehlo_or_helo_if_needed()
        token = base64.b64encode(f"\0{self.username}\0{self.password}".encode()).decode("ascii")
        code, answer = smtp.docmd("AUTH", f"PLAIN {token}")
        if code != 235:
            raise smtplib.SMTPAuthenticationError(code, answer)

    async def send_all(
        self, batch: Sequence[tuple[EmailMessage, str]], keep_going: Callable[[], bool] = lambda: True
    ) -> list[Outcome]:
        """Each (message, recipient) of the batch over one connection, one thread hand-off for all: per message
        None (the server took it), a SendFailure, or NOT_TRIED. Cancelled (a crash, as far as the caller knows),
        the thread stops before its next message."""
        cancelled = threading.Event()
        try:
            return await asyncio.to_thread(
                self._session_blocking, batch, lambda: not cancelled.is_set() and keep_going()
            )
        except asyncio.CancelledError:
            cancelled.set()
            raise


def connection_lost(exc: BaseException) -> bool:
    """The session cannot go on: disconnected, a socket error or timeout, or the server closing (421)."""
    if isinstance(exc, smtplib.SMTPRecipientsRefused):
        return any(code == 421 for code, _ in exc.recipients.values())
    if isinstance(exc, smtplib.SMTPResponseException):
        return exc.smtp_code == 421
    return isinstance(exc, smtplib.SMTPServerDisconnected) or not isinstance(exc, smtplib.SMTPException)


def failure_of(exc: BaseException) -> SendFailure:
    """What a failed send means: permanent for a 5xx to the recipient or the content, else try again later."""
    if isinstance(exc, smtplib.SMTPRecipientsRefused):
        codes = [code for code, _ in exc.recipients.values()]
        return SendFailure(f"recipient refused: {exc.recipients}"[:500], permanent=all(c >= 500 for c in codes))
    if isinstance(exc, smtplib.SMTPDataError):
        return SendFailure(f"message refused: {exc.smtp_code} {exc.smtp_error!r}"[:500], exc.smtp_code >= 500)
    # server down, timeouts, TLS, AUTH, the sender refused (a setting), a bad setting: try again later
    return SendFailure(f"{type(exc).__name__}: {exc}"[:500])
