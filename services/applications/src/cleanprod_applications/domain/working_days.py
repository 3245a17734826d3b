"""Working days of the Department (Hanoi): Monday–Friday, minus Vietnam's public holidays, with the days the
government swaps or adds each year.

Two sources, one calendar:

* the statutory holidays of the Labour Code (Tết Dương lịch, Tết Nguyên đán, Giỗ Tổ Hùng Vương, 30/4, 1/5, 2/9 and
  what the law adds later) — any container of dates; the service gives the ``holidays`` library's VN calendar
  (``holiday_calendar.py``);
* adjustments: each announced day off or swapped working day (a Saturday worked so that a weekday is off) with
  its reason and the document that announced it (``vn_calendar_adjustments.csv``). They win over the statutory
  set, so a notice the library does not know yet is one line of data.

Pure: parsing takes text, counting does no I/O.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
from collections.abc import Container, Iterable, Mapping
from dataclasses import dataclass
from enum import StrEnum
from types import MappingProxyType

from cleanprod_kit.local_time import LOCAL_TZ

ADJUSTMENTS_FILE = "vn_calendar_adjustments.csv"


class DayKind(StrEnum):
    OFF = "off"
    WORKING = "working"


@dataclass(frozen=True)
class Adjustment:
    """One announced day: off (a swapped or extra day off) or working (a Saturday worked in exchange)."""

    day: dt.date
    kind: DayKind
    reason: str
    source: str


def parse_adjustments(text: str) -> list[Adjustment]:
    """Rows of the adjustments CSV (header ``date,kind,reason,source``; lines starting with ``#`` are comments).
    A malformed row raises ``ValueError`` naming its line: a broken calendar must fail at start, not count wrong."""
    lines = [line for line in text.splitlines() if line.strip() and not line.lstrip().startswith("#")]
    rows: list[Adjustment] = []
    seen: set[dt.date] = set()
    for number, row in enumerate(csv.DictReader(io.StringIO("\n".join(lines))), start=2):
        try:
            day = dt.date.fromisoformat(row["date"].strip())
            kind = DayKind(row["kind"].strip())
            reason, source = row["reason"].strip(), row["source"].strip()
        except (KeyError, ValueError, AttributeError) as exc:
            raise ValueError(f"{ADJUSTMENTS_FILE} row {number}: {exc}") from None
        if not source:
            raise ValueError(f"{ADJUSTMENTS_FILE} row {number}: every day needs its source")
        if day in seen:
            raise ValueError(f"{ADJUSTMENTS_FILE} row {number}: {day} is listed twice")
        seen.add(day)
        rows.append(Adjustment(day, kind, reason, source))
    return rows


class WorkingCalendar:
    """Which local dates are working days, and counting in working days."""

    def __init__(self, statutory: Container[dt.date], adjustments: Iterable[Adjustment] = ()) -> None:
        self.adjustments: Mapping[dt.date, Adjustment] = MappingProxyType({a.day: a for a in adjustments})
        self._statutory = statutory

    def is_working_day(self, day: dt.date) -> bool:
        adjustment = self.adjustments.get(day)
        if adjustment is not None:
            return adjustment.kind is DayKind.WORKING
        return day.weekday() < 5 and day not in self._statutory

    def add_working_days(self, start: dt.datetime, days: int) -> dt.datetime:
        """``start`` moved forward by ``days`` working days, same time of day (Hanoi). The start day itself never
        counts: received Friday + 1 → the next working day; received on a holiday + 1 → the first working day
        after it."""
        if days < 0:
            raise ValueError("days must be >= 0")
        local = _local(start)
        remaining = days
        while remaining:
            local += dt.timedelta(days=1)
            if self.is_working_day(local.date()):
                remaining -= 1
        return local

    def working_days_between(self, start: dt.datetime, end: dt.datetime) -> int:
        """Working days d with start's date < d ≤ end's date (Hanoi): the days a clock running from ``start``
        has used by ``end`` (0 when ``end`` is not after ``start``'s day)."""
        first, last = _local(start).date(), _local(end).date()
        count, day = 0, first + dt.timedelta(days=1)
        while day <= last:
            count += self.is_working_day(day)
            day += dt.timedelta(days=1)
        return count


def _local(instant: dt.datetime) -> dt.datetime:
    if instant.tzinfo is None or instant.utcoffset() is None:
        raise ValueError("naive datetime: give the instant with its time zone")
    return instant.astimezone(LOCAL_TZ)
