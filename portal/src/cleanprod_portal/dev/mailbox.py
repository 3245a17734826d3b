"""`/dev/mailbox`: the mail the loopback SMTP server captured (infra/mailbox.py writes one `.eml` per message into
`PORTAL_DEV_MAILBOX_DIR`), newest first — subject, to, date — and one message's text at `/dev/mailbox/{name}`.
Only when `PORTAL_DEV_MAILBOX_DIR` is set (devstack sets it; production refuses it): otherwise 404, as for a
page that does not exist. No login: the mailbox is a developer's tool and holds only captured dev mail."""

from __future__ import annotations

import email
import email.policy
import re
from dataclasses import dataclass
from datetime import datetime
from email.message import EmailMessage
from email.utils import parsedate_to_datetime
from pathlib import Path
from typing import Annotated

from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse
from starlette.exceptions import HTTPException

from ..deps import Portal, portal
from ..templating import render

router = APIRouter(prefix="/dev/mailbox", include_in_schema=False)
NAME = re.compile(r"^[0-9a-f]{32}\.eml$")  # the files infra/mailbox.py writes
SHOWN = 200  # the newest messages listed


@dataclass(frozen=True)
class Captured:
    name: str
    subject: str
    to: str
    sent_at: datetime | None
    message: EmailMessage

    @property
    def text(self) -> str:
        body = self.message.get_body(("plain", "html"))
        return body.get_content().replace("\r\n", "\n") if body is not None else ""

    @property
    def html(self) -> str | None:
        body = self.message.get_body(("html",))
        return body.get_content() if body is not None else None


def _read(path: Path) -> Captured:
    message: EmailMessage = email.message_from_bytes(path.read_bytes(), policy=email.policy.default)  # type: ignore[assignment]
    try:
        sent_at = parsedate_to_datetime(str(message["Date"])) if message["Date"] else None
    except (TypeError, ValueError):
        sent_at = None
    return Captured(path.name, str(message["Subject"] or ""), str(message["To"] or ""), sent_at, message)


def mailbox_dir(p: Annotated[Portal, Depends(portal)]) -> Path:
    """The mailbox folder, or 404 when the page is off."""
    if p.settings.dev_mailbox_dir is None:
        raise HTTPException(status_code=404)
    return p.settings.dev_mailbox_dir


Mailbox = Annotated[Path, Depends(mailbox_dir)]


@router.get("", response_class=HTMLResponse)
async def inbox(request: Request, folder: Mailbox) -> HTMLResponse:
    files = sorted(folder.glob("*.eml"), key=lambda p: p.stat().st_mtime_ns, reverse=True) if folder.is_dir() else []
    return render(request, "dev/mailbox.html", {"mails": [_read(p) for p in files[:SHOWN]], "total": len(files)})


@router.get("/{name}", response_class=HTMLResponse)
async def message(request: Request, name: str, folder: Mailbox) -> HTMLResponse:
    path = folder / name
    if not NAME.fullmatch(name) or not path.is_file():
        raise HTTPException(status_code=404)
    return render(request, "dev/mailbox_message.html", {"mail": _read(path)})
