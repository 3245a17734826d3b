from __future__ import annotations

import datetime as dt
import uuid
from typing import Literal

from pydantic import BaseModel, Field

from ..schemas import Flag, StrictBody
from .models import NotificationKind


class NotificationPublic(BaseModel):
    id: uuid.UUID
    kind: NotificationKind
    statutory: bool
    title: str = Field(description="In the request's language (Accept-Language; Vietnamese by default)")
    body: str
    link: str | None = Field(description="Portal path of the page this is about")
    application_id: uuid.UUID | None
    dossier_code: str | None
    created_at: dt.datetime
    read: bool = Field(description="Read by the caller")


class UnreadCount(BaseModel):
    unread: int


class PreferencePublic(BaseModel):
    kind: NotificationKind
    statutory: bool = Field(description="Cannot be switched off")
    in_app: bool
    email: bool


class PreferenceChange(StrictBody):
    kind: NotificationKind
    channel: Literal["in_app", "email"]
    enabled: Flag
