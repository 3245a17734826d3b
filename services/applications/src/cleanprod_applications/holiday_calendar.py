"""The Department's working calendar: Vietnam's statutory holidays from the maintained ``holidays`` library plus
the days the government announces each year (``vn_calendar_adjustments.csv`` beside this module: date, kind
off/working, reason, source document). Read once per process; a malformed file fails at first use (start-up of
any request that counts days) rather than counting wrong."""

from __future__ import annotations

import functools
from importlib import resources

import holidays

from .domain.working_days import ADJUSTMENTS_FILE, WorkingCalendar, parse_adjustments


@functools.cache
def default_calendar() -> WorkingCalendar:
    text = resources.files(__package__).joinpath(ADJUSTMENTS_FILE).read_text(encoding="utf-8")
    # country_holidays fills each year on its first look-up (lunar dates included), so any year works.
    return WorkingCalendar(holidays.country_holidays("VN"), parse_adjustments(text))
