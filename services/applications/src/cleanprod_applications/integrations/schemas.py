from __future__ import annotations

import datetime as dt
import uuid
from typing import Annotated, Any

from pydantic import AfterValidator, BaseModel, Field

from ..schemas import Flag, PatchBody, StrictBody, Text
from .events import pattern_problem, usable_patterns
from .models import DeliveryStatus
from .signing import InvalidSecret, secret_key

NationalTimestamp = Annotated[
    str | None, Field(pattern=r"^\d{14}$", examples=["20261128093000"], description="yyyyMMddHHmmss, Asia/Ho_Chi_Minh")
]


class DossierPublic(BaseModel):
    """A dossier as the city's one-stop systems exchange it (national field names in the descriptions)."""

    dossier_code: str = Field(description="MaHoSo", examples=["000.00.01.H26-261128-0001"])
    procedure_code: str = Field(description="MaTTHC")
    procedure_name: str = Field(description="TenTTHC")
    applicant_name: str = Field(description="ChuHoSo: the enterprise's name")
    applicant_tax_code: str = Field(description="MaDoiTuong: the enterprise's tax code (mã số doanh nghiệp)")
    summary: str = Field(description="TrichYeuHoSo: the application's title")
    received_date: NationalTimestamp = Field(description="NgayTiepNhan: first submission")
    due_date: NationalTimestamp | None = Field(
        description="NgayHenTra: reception + processing_days working days (Vietnamese holidays excluded, the clock "
        "stopped during a supplement request); null while it is stopped (status 5)"
    )
    decided_date: NationalTimestamp = Field(description="NgayKetThucXuLy: processing ended with an outcome")
    returned_date: NationalTimestamp = Field(description="NgayTra: the final result reached the enterprise")
    handling_unit: str = Field(description="DonViXuLy")
    status_code: int = Field(description="TrangThaiHoSo", examples=[4])
    status_name: str = Field(examples=["processing"])
    status_label: str = Field(description="Vietnamese label of the code", examples=["Đang xử lý"])
    version: int = Field(description="The application's version: increases with every change (also in events)")


def _check_patterns(patterns: list[str] | None) -> list[str] | None:
    if patterns is None:
        return None
    problems = [f"{p!r}: {why}" for p in patterns if (why := pattern_problem(p))]
    if problems:
        raise ValueError("; ".join(problems))
    if len(set(patterns)) != len(patterns):
        raise ValueError("each pattern once")
    return patterns


def _check_secret(secret: str | None) -> str | None:
    if secret is None:
        return None
    try:
        secret_key(secret)
    except InvalidSecret as exc:
        raise ValueError(str(exc)) from None
    return secret


# The document lists the usable patterns (what _check_patterns accepts) and says each comes once.
Patterns = Annotated[
    list[Text(128, min_length=0)],
    Field(
        min_length=1,
        max_length=50,
        json_schema_extra={"uniqueItems": True, "items": {"type": "string", "enum": usable_patterns()}},
    ),
    AfterValidator(_check_patterns),
]
Url = Annotated[Text(2048), Field(examples=["https://motcua.hanoi.gov.vn/hooks/cleanprod"])]
Description = Text(300)


class SubscriptionCreate(StrictBody):
    url: Url
    event_types: Patterns = Field(
        default_factory=lambda: ["application.*"], description="Exact types or prefixes ('application.*'); '*' = all"
    )
    secret: Annotated[Text(200, strip=False) | None, AfterValidator(_check_secret)] = Field(
        default=None, description="whsec_<base64 of 24–64 random bytes>; generated when left out"
    )
    description: Description | None = None


class SubscriptionUpdate(PatchBody):
    url: Url = None
    event_types: Patterns = None
    description: Description | None = None
    active: Flag = None


class SubscriptionPublic(BaseModel):
    id: uuid.UUID
    url: str
    event_types: list[str]
    description: str | None
    active: bool
    owner_subject: str
    owner_client_id: str | None
    version: int
    created_at: dt.datetime
    updated_at: dt.datetime


class SubscriptionCreated(SubscriptionPublic):
    secret: str | None = Field(default=None, description="Shown in the first answer only; sign-checking key")


class DeliveryPublic(BaseModel):
    id: uuid.UUID
    subscription_id: uuid.UUID
    event_id: uuid.UUID
    event_seq: int
    event_type: str
    aggregate_type: str
    aggregate_id: str
    status: DeliveryStatus
    attempts: int
    next_attempt_at: dt.datetime | None
    last_attempt_at: dt.datetime | None
    last_status_code: int | None
    last_error: str | None
    delivered_at: dt.datetime | None
    dead_at: dt.datetime | None
    created_at: dt.datetime


class EventPublic(BaseModel):
    """The event envelope — the same JSON a webhook receives as its body."""

    id: uuid.UUID
    seq: int
    type: str
    aggregate_type: str
    aggregate_id: str
    occurred_at: dt.datetime
    source: str
    data: dict[str, Any]


class EventFeed(BaseModel):
    items: list[EventPublic]
    next_cursor: str = Field(description="Pass as `after` to continue; always present, also when caught up")
    has_more: bool = Field(description="More events are ready now (false: caught up, poll again later)")
