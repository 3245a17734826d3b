"""The mail as `Composer` builds it (headers encoded once, stored raw) against the same mail built entirely by the
`email` package, as compose.py did before (issue 16): parsed back with the `email` package both have the same
headers, decoded, in the same order, and the same parts with the same text — for Vietnamese and English, long
names, names with commas and quotes, long subjects. And every line is at most 78 characters, every encoded word
at most 75."""

from __future__ import annotations

import datetime as dt
import email
import email.header
import email.policy
import email.utils
import io
import re
import uuid
from email.generator import BytesGenerator
from email.headerregistry import Address
from email.message import EmailMessage
from email.utils import format_datetime
from typing import Any

import pytest

from cleanprod_applications.mail import headers
from cleanprod_applications.mail.compose import (
    _ENV,
    WORDS,
    Composer,
    NotificationView,
    Recipient,
    _notification_context,
    message_id,
)

SENDER = "Sở Công Thương Hà Nội <no-reply@sct-hanoi.example>"
PORTAL = "https://portal.sct-hanoi.example"
NOW = dt.datetime(2026, 12, 2, 3, 4, 5, tzinfo=dt.UTC)
PARAMS: dict[str, Any] = {
    "dossier_code": "000.00.01.H26-261201-0042",
    "title": "Thay lò nung tiết kiệm năng lượng và hệ thống thu hồi nhiệt khí thải của dây chuyền cán thép số 2",
    "due_on": "2027-01-14",
    "reasons": [{"code": "facility_not_active", "message": "Cơ sở chưa hoạt động"}, "Cơ sở ngoài Hà Nội"],
    "items": [{"description": "Hoá đơn điện 12 tháng"}, {"description": "Báo cáo kiểm toán năng lượng"}],
    "verdict": "verified",
    "achieved_pct": 104,
    "balance_vnd": 1_050_000_000,
    "recover_vnd": 0,
    "outcome": "approved",
    "amount_vnd": 1_500_000_000,
}
NAMES = [
    "Đỗ Mạnh Hùng",
    "Nguyễn Thị Phương Thảo Trần Hoàng Minh Châu Lê Quốc Dũng Phạm Đức Hải Vũ Thu Hương",  # longer than a line
    "John Smith",
    'Smith, John "Jack" (Finance)',  # specials: quoted
    "A" * 90,  # one ASCII word longer than a line
    "",  # no name: the address alone
]
KINDS = [("dossier_received", True), ("screening_ineligible", True), ("verification_concluded", False)]


def by_email_package(notification: NotificationView, recipient: Recipient) -> EmailMessage:
    """The mail as compose.py built it before issue 16: every header and part set through the `email` package."""
    language = recipient.locale if recipient.locale in WORDS else "vi"
    context = _notification_context(notification, language, PORTAL) | {
        "greeting": WORDS[language]["greeting"].format(name=recipient.full_name or recipient.email)
    }
    message = EmailMessage()
    message["Subject"] = context["subject"]
    message["From"] = SENDER
    username, _, domain = recipient.email.rpartition("@")
    message["To"] = Address(display_name=recipient.full_name, username=username, domain=domain)
    message["Date"] = format_datetime(NOW)
    message["Message-ID"] = message_id(notification.id, recipient.user_id, SENDER)
    message["Auto-Submitted"] = "auto-generated"
    message["X-Cleanprod-Notification"] = f"{notification.id} {notification.kind}"
    message.set_content(_ENV.get_template("mail.txt").render(context), charset="utf-8", cte="quoted-printable")
    message.add_alternative(
        _ENV.get_template("mail.html").render(context), subtype="html", charset="utf-8", cte="quoted-printable"
    )
    message["Content-Language"] = context["language"]
    return message


def wire(message: EmailMessage) -> bytes:
    """The bytes smtplib's send_message sends."""
    out = io.BytesIO()
    BytesGenerator(out).flatten(message, linesep="\r\n")
    return out.getvalue()


def read(raw: bytes) -> EmailMessage:
    return email.message_from_bytes(raw, policy=email.policy.default)  # type: ignore[return-value]


def decoded(value: str) -> str:
    """A header's text as RFC 2047 reads it: unfolded, encoded words decoded, the whitespace between two encoded
    words dropped (the `email` package's address parser keeps it, for the old mails as for the new)."""
    return str(email.header.make_header(email.header.decode_header(value.replace("\r\n", ""))))


def shape(raw: bytes) -> list[tuple[str, str]]:
    """Every header of every part decoded, in order (a multipart's random boundary left out), and every part's
    type and text."""
    out = []
    headers_only = email.message_from_bytes(raw, policy=email.policy.compat32)
    for part, parsed in zip(headers_only.walk(), read(raw).walk(), strict=True):
        out.append(("part", parsed.get_content_type()))
        for name, value in part.items():
            out.append((name, re.sub(r'boundary="[^"]*"', "boundary", decoded(value))))
        if not parsed.is_multipart():
            out.append(("text", parsed.get_content()))
    return out


@pytest.mark.parametrize("locale", ["vi", "en"])
@pytest.mark.parametrize("name", NAMES)
@pytest.mark.parametrize(("kind", "statutory"), KINDS)
def test_the_mail_reads_back_as_the_email_package_built_it(locale: str, name: str, kind: str, statutory: bool) -> None:
    notification = NotificationView(uuid.uuid4(), kind, statutory, PARAMS, "/enterprise/applications/x")
    recipient = Recipient("ent-a-vi", "ke.toan@thepdonganh.example", name, locale)
    before = wire(by_email_package(notification, recipient))
    after = wire(Composer(sender=SENDER, portal_base_url=PORTAL).compose(notification, recipient, NOW))
    assert shape(after) == shape(before)
    # the text itself, not only the shape: the Vietnamese round-trips
    assert email.utils.parseaddr(dict(shape(after))["To"]) == (name, "ke.toan@thepdonganh.example")
    assert dict(shape(after))["From"] == SENDER
    for line in after.split(b"\r\n"):
        assert len(line) <= 78 or (b" " not in line.strip() and b"=?" not in line), line  # only an unbreakable word
    for word in re.findall(rb"=\?utf-8\?b\?[^?]*\?=", after):
        assert len(word) <= 75


def test_one_composer_encodes_a_notifications_subject_once_per_language() -> None:
    composer = Composer(sender=SENDER, portal_base_url=PORTAL)
    notification = NotificationView(uuid.uuid4(), "dossier_received", True, PARAMS, "/x")
    people = [Recipient(f"u{n}", f"u{n}@example.vn", f"Người {n}", "vi" if n % 2 else "en") for n in range(6)]
    mails = [composer.compose(notification, person, NOW) for person in people]
    assert len({m["Subject"] for m in mails}) == 2  # Vietnamese and English
    assert len(composer._per_notification) == 2
    assert [m["To"].addresses[0].display_name for m in mails] == [p.full_name for p in people]


@pytest.mark.parametrize(
    "text",
    [
        "Đã tiếp nhận hồ sơ 000.00.01.H26-261201-0042",
        "ế" * 200,  # three-byte characters across many words: none split
        "Tiếng Việt" + " có dấu" * 30,
        "e\u0301" * 60,  # decomposed (a base letter and a combining accent)
        "Dossier 000.00.01.H26-261201-0042 is not eligible " * 3,
        "",
    ],
)
def test_an_encoded_subject_decodes_to_its_text(text: str) -> None:
    message = EmailMessage()
    message.set_raw("Subject", headers.unstructured("Subject", text))
    message.set_content("x")
    parsed = read(wire(message))
    assert str(parsed["Subject"]) == text.rstrip(" ") or str(parsed["Subject"]) == text


def test_an_address_outside_ascii_is_left_to_the_email_package() -> None:
    assert headers.recipient_header("Người nhận", "người@ví-dụ.vn") is None
    composer = Composer(sender=SENDER, portal_base_url=PORTAL)
    notification = NotificationView(uuid.uuid4(), "dossier_received", True, PARAMS, "/x")
    mail = composer.compose(notification, Recipient("u", "người@example.vn", "Người nhận", "vi"), NOW)
    assert mail["To"].addresses[0].username == "người"
