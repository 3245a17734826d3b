"""The dev-only mailbox page: mail captured by the real loopback SMTP server (infra/mailbox.py) listed with subject,
recipient and date, one message's text opened; 404 when the setting is off, and production refuses the setting."""

from __future__ import annotations

import smtplib
from collections.abc import Callable
from email.message import EmailMessage
from pathlib import Path
from typing import Any

import pytest
from pydantic import ValidationError

from cleanprod_portal.config import PortalSettings
from infra.mailbox import MailServer, file_name
from infra.ports import free_port


def send(port: int, subject: str, to: str, body: str, message_id: str) -> None:
    message = EmailMessage()
    message["Subject"], message["From"], message["To"] = subject, "no-reply@sct-hanoi.example", to
    message["Date"] = "Tue, 01 Dec 2026 08:30:00 +0000"
    message["Message-ID"] = message_id
    message.set_content(body)
    message.add_alternative(f"<p>{body}</p>", subtype="html")
    with smtplib.SMTP("127.0.0.1", port, timeout=10) as smtp:
        smtp.send_message(message)


async def test_lists_and_opens_captured_mail(make_client: Callable[..., Any], tmp_path: Path) -> None:
    folder = tmp_path / "mailbox"
    server = MailServer(folder, free_port()).start()
    try:
        send(
            server.port,
            "Đã tiếp nhận hồ sơ 000.00.01.H26-261201-0001",
            "Đỗ Mạnh Hùng <a@x.vn>",
            "Kính gửi <b>",
            "<m1@x>",
        )
        send(server.port, "Review assigned", "reviewer3@sct-hanoi.example", "Dear reviewer", "<m2@x>")
    finally:
        server.stop()
    async with make_client(dev_mailbox_dir=folder) as client:
        page = await client.get("/dev/mailbox")
        assert page.status_code == 200
        assert "Đã tiếp nhận hồ sơ 000.00.01.H26-261201-0001" in page.text and "Review assigned" in page.text
        assert "Đỗ Mạnh Hùng &lt;a@x.vn&gt;" in page.text
        assert "15:30 01/12/2026" in page.text  # the date in Hà Nội time
        opened = await client.get(f"/dev/mailbox/{file_name('<m1@x>')}")
        assert opened.status_code == 200
        assert "Kính gửi &lt;b&gt;" in opened.text and "&lt;m1@x&gt;" in opened.text  # the text part, escaped
        for name in ("../secrets.eml", "x" * 32 + ".eml", "received.jsonl"):
            assert (await client.get(f"/dev/mailbox/{name}")).status_code == 404


async def test_off_unless_set(make_client: Callable[..., Any]) -> None:
    async with make_client() as client:
        assert (await client.get("/dev/mailbox")).status_code == 404
        assert (await client.get(f"/dev/mailbox/{file_name('<m1@x>')}")).status_code == 404


def test_production_refuses_the_setting(settings: PortalSettings, tmp_path: Path) -> None:
    values = settings.model_dump() | {
        "environment": "production",
        "oidc_client_secret": "real-secret",
        "secret_key": "real-key",
        "dev_mailbox_dir": tmp_path,
    }
    with pytest.raises(ValidationError, match="development only"):
        PortalSettings(**values)
