"""A real SMTP server on loopback for dev and tests (aiosmtpd): every message it accepts is written as an `.eml`
file into a mailbox folder, which the tests read and the portal shows at `/dev/mailbox` (dev only). No mail
leaves the machine.

The mailbox keeps one file per `Message-ID`, as a mail client does: a message sent again with the same id (the
sender retrying after a crash between the SMTP DATA and recording it as sent) is acknowledged and logged as a
duplicate but not stored twice. Every transmission — stored or duplicate — is a line of `received.jsonl`, so a
test can tell how often the sender really transmitted. STARTTLS (`cert`/`key`) and AUTH PLAIN/LOGIN (`user`/
`password`) are optional, for exercising the sender's settings.

    python -m infra.mailbox --dir .data/mailbox --port 2525      # what devstack starts
"""

from __future__ import annotations

import argparse
import datetime as dt
import email
import email.policy
import hashlib
import json
import os
import signal
import ssl
import threading
from collections.abc import Callable
from dataclasses import dataclass
from email.message import EmailMessage
from pathlib import Path
from typing import Any

from .ports import HOST

RECEIPTS = "received.jsonl"


def file_name(message_id: str) -> str:
    """The mailbox file of a Message-ID (hashed: ids carry '<', '>' and '@')."""
    return hashlib.sha256(message_id.strip().encode()).hexdigest()[:32] + ".eml"


class MailboxHandler:
    """aiosmtpd handler: stores each message once per Message-ID; `on_message(message_id)` runs after the message is
    stored and before the server answers 250 (tests use it to stop a sender in the middle of a send)."""

    def __init__(self, directory: Path, on_message: Callable[[str], None] | None = None) -> None:
        self.directory = Path(directory)
        self.directory.mkdir(parents=True, exist_ok=True)
        self.on_message = on_message
        self._lock = threading.Lock()

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:  # noqa: N802 - aiosmtpd's hook name
        raw: bytes = envelope.original_content or envelope.content
        message = email.message_from_bytes(raw, policy=email.policy.default)
        message_id = str(message.get("Message-ID") or "").strip()
        if not message_id:  # a mail without an id is stored under its content's hash
            message_id = "<" + hashlib.sha256(raw).hexdigest() + "@mailbox.invalid>"
        path = self.directory / file_name(message_id)
        with self._lock:
            duplicate = path.exists()
            if not duplicate:
                part = path.with_suffix(".part")
                part.write_bytes(raw)
                part.replace(path)
            receipt = {
                "message_id": message_id,
                "file": path.name,
                "duplicate": duplicate,
                "mail_from": envelope.mail_from,
                "rcpt_tos": list(envelope.rcpt_tos),
                "received_at": dt.datetime.now(dt.UTC).isoformat(),
            }
            with open(self.directory / RECEIPTS, "a", encoding="utf-8") as log:
                log.write(json.dumps(receipt) + "\n")
        if self.on_message is not None:
            self.on_message(message_id)
        return "250 Message accepted for delivery"


@dataclass
class MailServer:
    """The SMTP server in a thread of this process (aiosmtpd's Controller); `start()`/`stop()` may be repeated on
    the same port (the tests take the server down and bring it back)."""

    directory: Path
    port: int
    cert: Path | None = None
    key: Path | None = None
    user: str | None = None
    password: str | None = None
    on_message: Callable[[str], None] | None = None

    def __post_init__(self) -> None:
        self.handler = MailboxHandler(self.directory, self.on_message)
        self._controller: Any = None

    def _authenticator(self, server: Any, session: Any, envelope: Any, mechanism: str, auth_data: Any) -> Any:
        from aiosmtpd.smtp import AuthResult, LoginPassword

        ok = (
            isinstance(auth_data, LoginPassword)
            and auth_data.login.decode() == self.user
            and auth_data.password.decode() == self.password
        )
        return AuthResult(success=ok)

    def start(self) -> MailServer:
        from aiosmtpd.controller import Controller

        options: dict[str, Any] = {}
        if self.cert and self.key:
            context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
            context.load_cert_chain(self.cert, self.key)
            options["tls_context"] = context
        if self.user:
            # With a certificate AUTH needs STARTTLS first; without one (loopback only) it is allowed in plain text.
            tls = "tls_context" in options
            options.update(authenticator=self._authenticator, auth_required=True, auth_require_tls=tls)
        self._controller = Controller(self.handler, hostname=HOST, port=self.port, **options)
        self._controller.start()
        return self

    def stop(self) -> None:
        if self._controller is not None:
            self._controller.stop()
            self._controller = None


# ---- reading the mailbox (tests) --------------------------------------------------------------------------------
def messages(directory: Path) -> list[EmailMessage]:
    """Every stored message, oldest first."""
    files = sorted(Path(directory).glob("*.eml"), key=lambda p: (p.stat().st_mtime_ns, p.name))
    return [email.message_from_bytes(p.read_bytes(), policy=email.policy.default) for p in files]  # type: ignore[misc]


def receipts(directory: Path) -> list[dict[str, Any]]:
    """Every transmission the server accepted, duplicates included, in order."""
    path = Path(directory) / RECEIPTS
    if not path.exists():
        return []
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Loopback SMTP server writing every message into a folder.")
    parser.add_argument("--dir", required=True, type=Path)
    parser.add_argument("--port", required=True, type=int)
    parser.add_argument("--cert", type=Path, help="PEM certificate: offer STARTTLS")
    parser.add_argument("--key", type=Path)
    parser.add_argument("--user", default=os.environ.get("CLEANPROD_MAILBOX_USER"))
    parser.add_argument("--password", default=os.environ.get("CLEANPROD_MAILBOX_PASSWORD"))
    args = parser.parse_args(argv)
    server = MailServer(args.dir, args.port, args.cert, args.key, args.user, args.password).start()
    print(f"mailbox: SMTP on {HOST}:{args.port}, writing to {args.dir}", flush=True)
    stopped = threading.Event()
    for signum in (signal.SIGINT, signal.SIGTERM):
        signal.signal(signum, lambda *_: stopped.set())
    stopped.wait()
    server.stop()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
