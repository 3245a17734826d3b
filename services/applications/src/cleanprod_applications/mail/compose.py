"""One notification as one e-mail to one person, in that person's language: the subject and the lead sentence are
the notification's own title and text (`notifications/texts.py`, the same words the portal's bell shows), laid out
by the Jinja templates `templates/mail.txt` (plain text) and `templates/mail.html` (the HTML alternative), with a
greeting, the lists the notification carries (reasons, items), and the link to the right portal page.

Headers: UTF-8 throughout (Vietnamese diacritics in Subject and To are RFC 2047 encoded words, the bodies UTF-8),
`Message-ID` derived from (notification id, user id) — the same on every attempt, so a copy sent again after a
crash mid-send is recognisable as the same mail — and `Auto-Submitted: auto-generated` (RFC 3834)."""

from __future__ import annotations

import datetime as dt
import hashlib
import uuid
from dataclasses import dataclass
from email.headerregistry import Address
from email.message import EmailMessage
from email.utils import format_datetime, parseaddr
from pathlib import Path
from typing import Any

from jinja2 import Environment, FileSystemLoader, StrictUndefined, select_autoescape

from ..notifications.texts import reason_text, render  # reasons said in the reader's language
from . import headers

TEMPLATES = Path(__file__).resolve().parent / "templates"
_ENV = Environment(
    loader=FileSystemLoader(TEMPLATES),
    autoescape=select_autoescape(["html"]),
    undefined=StrictUndefined,
    trim_blocks=True,
    lstrip_blocks=True,
    keep_trailing_newline=True,
)

# The words around a notification, per language (the notification's own words come from its catalogue).
WORDS: dict[str, dict[str, str]] = {
    "vi": {
        "greeting": "Kính gửi {name},",
        "open": "Xem trên cổng thông tin",
        "dossier": "Mã hồ sơ",
        "reasons": "Lý do",
        "items": "Nội dung cần bổ sung",
        "automatic": "Đây là thư tự động của Chương trình hỗ trợ sản xuất sạch hơn, Sở Công Thương Hà Nội. "
        "Vui lòng không trả lời thư này.",
        "optional": "Bạn có thể tắt loại thông báo này trong phần cài đặt thông báo trên cổng thông tin.",
    },
    "en": {
        "greeting": "Dear {name},",
        "open": "Open in the portal",
        "dossier": "Dossier code",
        "reasons": "Reasons",
        "items": "What is needed",
        "automatic": "This is an automatic message of the cleaner-production support programme of the Hanoi "
        "Department of Industry and Trade. Please do not reply to it.",
        "optional": "You can switch off this kind of notification in the portal's notification settings.",
    },
}
LIST_PARAMS = ("reasons", "items")
PREFERENCES_PATH = "/notifications/preferences"  # the portal's notification settings page (branch notify-ui)  # params that are lists, shown one entry per line


@dataclass(frozen=True)
class Recipient:
    user_id: str
    email: str
    full_name: str
    locale: str


@dataclass(frozen=True)
class NotificationView:
    id: uuid.UUID
    kind: str
    statutory: bool
    params: dict[str, Any]
    link: str | None


def message_id(notification_id: uuid.UUID, user_id: str, sender: str) -> str:
    """`<notification id>.<hash of the user id>@<the sender's domain>`: stable across attempts and replicas."""
    domain = parseaddr(sender)[1].rpartition("@")[2] or "cleanprod.invalid"
    user = hashlib.sha256(user_id.encode()).hexdigest()[:16]
    return f"<{notification_id}.{user}@{domain}>"


def _entry_text(name: str, entry: Any, language: str) -> str:
    """A list entry as one line: a reason as the bell says it, an item's description, or the value itself."""
    if name == "reasons":
        return reason_text(entry, language)
    if isinstance(entry, dict):
        for key in ("message", "description", "what", "label", "text"):
            if entry.get(key):
                return str(entry[key])
        return "; ".join(f"{k}: {v}" for k, v in entry.items())
    return str(entry)


def _notification_context(notification: NotificationView, language: str, portal_base_url: str) -> dict[str, Any]:
    """The templates' context except the greeting (the one part that depends on the recipient)."""
    subject, lead = render(notification.kind, notification.params, language)
    words = WORDS[language]
    lists = [
        (words[name], [_entry_text(name, e, language) for e in notification.params[name]])
        for name in LIST_PARAMS
        if isinstance(notification.params.get(name), list) and notification.params[name]
    ]
    return {
        "language": language,
        "subject": subject,
        "lead": lead,
        "lists": lists,
        "dossier": (words["dossier"], notification.params["dossier_code"])
        if notification.params.get("dossier_code")
        else None,
        "link": portal_base_url.rstrip("/") + (notification.link or "/"),
        "open": words["open"],
        "automatic": words["automatic"],
        "optional": None if notification.statutory else words["optional"],
        "preferences_link": portal_base_url.rstrip("/") + PREFERENCES_PATH,
    }


class Composer:
    """Composes a batch's mails. What depends only on the notification and the language (subject, lead, lists,
    the encoded Subject header) is worked out once per (notification, language); the From header once.

    The headers are encoded here (`headers.py`: RFC 2047 encoded words, folded to 78 characters) and stored raw,
    and the bodies are encoded quoted-printable here, so flattening the message for SMTP copies text instead of
    parsing and refolding every header (the `email` package's folding was most of a mail's CPU). The result
    reads back, with the `email` package, exactly as the fully `email`-built message did (same headers decoded,
    same parts; tests/unit/test_mail_compose.py)."""

    def __init__(self, *, sender: str, portal_base_url: str) -> None:
        self.sender = sender
        self.portal_base_url = portal_base_url
        self._from = headers.address_header("From", sender)
        self._per_notification: dict[tuple[uuid.UUID, str], tuple[dict[str, Any], str | None]] = {}

    def _shared(self, notification: NotificationView, language: str) -> tuple[dict[str, Any], str | None]:
        key = (notification.id, language)
        found = self._per_notification.get(key)
        if found is None:
            context = _notification_context(notification, language, self.portal_base_url)
            found = self._per_notification[key] = (context, headers.unstructured("Subject", context["subject"]))
        return found

    def compose(
        self, notification: NotificationView, recipient: Recipient, now: dt.datetime | None = None
    ) -> EmailMessage:
        language = recipient.locale if recipient.locale in WORDS else "vi"
        shared, subject = self._shared(notification, language)
        context = shared | {"greeting": WORDS[language]["greeting"].format(name=recipient.full_name or recipient.email)}
        message = EmailMessage()
        raw = [
            ("Subject", subject),
            ("From", self._from),
            ("To", headers.recipient_header(recipient.full_name, recipient.email)),
            ("Date", format_datetime(now or dt.datetime.now(dt.UTC))),
            (
                "Message-ID",
                headers.unstructured("Message-ID", message_id(notification.id, recipient.user_id, self.sender)),
            ),
            ("Auto-Submitted", "auto-generated"),
            (
                "X-Cleanprod-Notification",
                headers.unstructured("X-Cleanprod-Notification", f"{notification.id} {notification.kind}"),
            ),
            ("MIME-Version", "1.0"),
            ("Content-Type", f'multipart/alternative;\n boundary="{headers.boundary()}"'),
            ("Content-Language", context["language"]),
        ]
        for name, value in raw:
            if value is None:  # not encodable here (e.g. a non-ASCII address): the email package does it
                message[name] = _fallback(name, recipient, self.sender, context)
            else:
                message.set_raw(name, value)
        message.set_payload(
            [
                headers.text_part("plain", _ENV.get_template("mail.txt").render(context)),
                headers.text_part("html", _ENV.get_template("mail.html").render(context), mime_version=True),
            ]
        )
        return message


def _fallback(name: str, recipient: Recipient, sender: str, context: dict[str, Any]) -> Any:
    """A header as the `email` package encodes it (parsed when set, folded when flattened)."""
    if name == "Subject":
        return context["subject"]
    if name == "From":
        return sender
    username, _, domain = recipient.email.rpartition("@")
    return Address(display_name=recipient.full_name, username=username, domain=domain)


def compose(
    notification: NotificationView,
    recipient: Recipient,
    *,
    sender: str,
    portal_base_url: str,
    now: dt.datetime | None = None,
) -> EmailMessage:
    """One mail on its own (a batch uses one `Composer` for all its mails)."""
    return Composer(sender=sender, portal_base_url=portal_base_url).compose(notification, recipient, now)
