"""The programme's local calendar: every "date" in the rules is a date in Asia/Ho_Chi_Minh.

A call that closes on 28/11 is still open at 23:59 Hanoi time, which is 16:59 UTC; a dossier filed at
2026-11-28T18:00Z belongs to 29/11. Rules therefore take aware instants and convert them here, once.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta, timezone, tzinfo
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

LOCAL_TZ_NAME = "Asia/Ho_Chi_Minh"


def _load_local_tz() -> tzinfo:
    try:
        return ZoneInfo(LOCAL_TZ_NAME)
    except ZoneInfoNotFoundError:
        # Slim containers may ship without tzdata. Vietnam has kept UTC+07:00 without daylight saving
        # since 1975, so a fixed offset gives the same answer for every date this programme can see.
        return timezone(timedelta(hours=7), LOCAL_TZ_NAME)


LOCAL_TZ: tzinfo = _load_local_tz()


def local_date(instant: datetime) -> date:
    """The Asia/Ho_Chi_Minh calendar date of an aware instant.

    Naive datetimes are refused: guessing their zone is exactly the bug this module exists to prevent.
    """
    if not isinstance(instant, datetime):
        raise TypeError(f"expected an aware datetime, got {type(instant).__name__}")
    if instant.tzinfo is None or instant.utcoffset() is None:
        raise ValueError("naive datetime: give the instant with its time zone (e.g. UTC)")
    return instant.astimezone(LOCAL_TZ).date()
