"""Sending one message over SMTP with the standard library (`smtplib`, run in a worker thread so the event loop
never blocks): plain, STARTTLS or implicit TLS, optional AUTH, certificate checked against the system's CAs or
`smtp_ca_file`. The outcome says whether trying again can help."""

from __future__ import annotations

import asyncio
import base64
import smtplib
import ssl
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

    def _send_blocking(self, message: EmailMessage, to: str) -> None:
        if self.security == "tls":
            smtp: smtplib.SMTP = smtplib.SMTP_SSL(self.host, self.port, timeout=self.timeout, context=self._context())
        else:
            smtp = smtplib.SMTP(self.host, self.port, timeout=self.timeout)
        with smtp:
            if self.security == "starttls":
                smtp.starttls(context=self._context())
            if self.username:
                self._login(smtp)
            smtp.send_message(message, from_addr=self.envelope_from, to_addrs=[to])

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

    async def send(self, message: EmailMessage, to: str) -> None:
        """Raises SendFailure when the server did not take the message."""
        try:
            await asyncio.to_thread(self._send_blocking, message, to)
        except smtplib.SMTPRecipientsRefused as exc:
            codes = [code for code, _ in exc.recipients.values()]
            raise SendFailure(
                f"recipient refused: {exc.recipients}"[:500], permanent=all(c >= 500 for c in codes)
            ) from None
        except smtplib.SMTPDataError as exc:
            raise SendFailure(
                f"message refused: {exc.smtp_code} {exc.smtp_error!r}"[:500], exc.smtp_code >= 500
            ) from None
        except Exception as exc:  # noqa: BLE001 - server down, timeouts, TLS, AUTH, a bad setting: try again later
            raise SendFailure(f"{type(exc).__name__}: {exc}"[:500]) from None
