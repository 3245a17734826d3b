"""The programme's local clock: every date shown to people or used by a rule is an Asia/Ho_Chi_Minh date
(UTC+07:00, no daylight saving since 1975). A call that closes on 28/11 is still open at 23:59 Hanoi time, which
is 16:59 UTC; a dossier filed at 2026-11-28T18:00Z belongs to 29/11. One copy for the services and the portal."""

from __future__ import annotations

from datetime import date, datetime, timedelta, timezone, tzinfo
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

LOCAL_TZ_NAME = "Asia/Ho_Chi_Minh"  # also the name PostgreSQL's timezone() takes


def _load() -> tzinfo:
    try:
        return ZoneInfo(LOCAL_TZ_NAME)
    except ZoneInfoNotFoundError:  # slim images without tzdata: the fixed offset gives the same answer
        return timezone(timedelta(hours=7), LOCAL_TZ_NAME)


LOCAL_TZ: tzinfo = _load()


def local(instant: datetime) -> datetime:
    """The instant on the Hanoi clock."""
    return instant.astimezone(LOCAL_TZ)


def local_date(instant: datetime) -> date:
    """The Asia/Ho_Chi_Minh calendar date of an aware instant. Naive datetimes are refused: guessing their zone is
    exactly the bug this module exists to prevent."""
    if not isinstance(instant, datetime):
        raise TypeError(f"expected an aware datetime, got {type(instant).__name__}")
    if instant.tzinfo is None or instant.utcoffset() is None:
        raise ValueError("naive datetime: give the instant with its time zone (e.g. UTC)")
    return instant.astimezone(LOCAL_TZ).date()
