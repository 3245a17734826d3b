"""What the dossier look-up reports to the city's one-stop systems: pure rules, no I/O.

Dates travel in the national exchange format ``yyyyMMddHHmmss`` on the Asia/Ho_Chi_Minh clock; the promised
result date (ngày hẹn trả) is the application's stored statutory due date (applications/deadlines.py: working days
on the Vietnamese public-holiday calendar, the clock stopped while a supplement is requested).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from types import MappingProxyType

from ..domain import LOCAL_TZ, ApplicationStatus, EgovStatus, egov_status

NATIONAL_FORMAT = "%Y%m%d%H%M%S"

LABELS_VI = MappingProxyType(
    {
        EgovStatus.NEW: "Mới đăng ký",
        EgovStatus.RECEIVED: "Được tiếp nhận",
        EgovStatus.REFUSED_AT_RECEPTION: "Không được tiếp nhận",
        EgovStatus.PROCESSING: "Đang xử lý",
        EgovStatus.SUPPLEMENT_REQUESTED: "Yêu cầu bổ sung giấy tờ",
        EgovStatus.WITHDRAWN: "Rút hồ sơ",
        EgovStatus.PROCESSING_STOPPED: "Dừng xử lý",
        EgovStatus.DECIDED: "Đã xử lý xong",
        EgovStatus.RESULT_DELIVERED: "Đã trả kết quả",
    }
)
"""The Vietnamese label of each TrangThaiHoSo code, as one-stop systems show it."""

DECIDED_CODES = frozenset({EgovStatus.REFUSED_AT_RECEPTION, EgovStatus.DECIDED, EgovStatus.RESULT_DELIVERED})
"""Codes for which processing has ended with an outcome (so a decided date exists)."""


def national_timestamp(instant: dt.datetime | None) -> str | None:
    """``yyyyMMddHHmmss`` in Hanoi time; None stays None. Naive datetimes are refused (their zone is unknown)."""
    if instant is None:
        return None
    if instant.tzinfo is None or instant.utcoffset() is None:
        raise ValueError("naive datetime: give the instant with its time zone")
    return instant.astimezone(LOCAL_TZ).strftime(NATIONAL_FORMAT)


@dataclass(frozen=True)
class DossierFacts:
    """What the look-up needs from an application (copied out of the row, so this module stays pure)."""

    dossier_code: str
    status: ApplicationStatus
    enterprise_name: str
    enterprise_tax_code: str
    title: str
    first_submitted_at: dt.datetime
    submitted_at: dt.datetime | None
    due_at: dt.datetime | None
    decided_at: dt.datetime | None
    verified_at: dt.datetime | None
    version: int
    supplement_requested: bool = False


@dataclass(frozen=True)
class DossierTimes:
    received: dt.datetime
    due: dt.datetime | None
    decided: dt.datetime | None
    returned: dt.datetime | None


def dossier_times(facts: DossierFacts) -> DossierTimes:
    """Reception = first submission (a resubmission keeps the dossier and its dates). Decided = when processing
    ended with an outcome: the screening for a dossier refused at reception (3), the officer's decision for 9/10,
    verification for a verified/not achieved project. Returned = when the final result reached the enterprise
    (10 only; results are delivered online the moment they exist)."""
    code = egov_status(facts.status, supplement_requested=facts.supplement_requested)
    verification_ended = facts.status in (ApplicationStatus.VERIFIED, ApplicationStatus.NOT_ACHIEVED)
    decided: dt.datetime | None = None
    if code is EgovStatus.REFUSED_AT_RECEPTION:
        decided = facts.submitted_at
    elif code in DECIDED_CODES:
        decided = facts.verified_at if verification_ended else facts.decided_at
    returned = decided if code is EgovStatus.RESULT_DELIVERED else None
    return DossierTimes(received=facts.first_submitted_at, due=facts.due_at, decided=decided, returned=returned)
