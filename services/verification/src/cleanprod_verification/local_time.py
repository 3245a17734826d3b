"""Dates shown to people are Asia/Ho_Chi_Minh dates (UTC+07:00, no daylight saving since 1975)."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone, tzinfo
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

LOCAL_TZ_NAME = "Asia/Ho_Chi_Minh"


def _load() -> tzinfo:
    try:
        return ZoneInfo(LOCAL_TZ_NAME)
    except ZoneInfoNotFoundError:  # slim images without tzdata: the fixed offset gives the same answer
        return timezone(timedelta(hours=7), LOCAL_TZ_NAME)


LOCAL_TZ: tzinfo = _load()


def local(instant: datetime) -> datetime:
    return instant.astimezone(LOCAL_TZ)
