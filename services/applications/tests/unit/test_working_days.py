"""Working days on the Vietnamese calendar (holidays library + the announced swaps) and the statutory deadline
with its clock stops — checked against the days off announced for 2025 and 2026 (docs/applications.md,
"Deadlines", lists the sources)."""

from __future__ import annotations

import datetime as dt

import pytest

from cleanprod_applications.domain.deadlines import ClockStop, statutory_deadline
from cleanprod_applications.domain.working_days import DayKind, WorkingCalendar, parse_adjustments
from cleanprod_applications.holiday_calendar import default_calendar

HANOI = dt.timezone(dt.timedelta(hours=7))
CAL = default_calendar()


def at(text: str) -> dt.datetime:
    return dt.datetime.fromisoformat(text).replace(tzinfo=HANOI)


def exceptions(year: int) -> tuple[set[dt.date], set[dt.date]]:
    """(weekdays that are off, weekend days that are worked) in ``year``."""
    day, off, worked = dt.date(year, 1, 1), set(), set()
    while day.year == year:
        weekday = day.weekday() < 5
        if weekday and not CAL.is_working_day(day):
            off.add(day)
        if not weekday and CAL.is_working_day(day):
            worked.add(day)
        day += dt.timedelta(days=1)
    return off, worked


def d(*days: str) -> set[dt.date]:
    return {dt.date.fromisoformat(x) for x in days}


def test_2025_matches_the_announced_days_off() -> None:
    # Tết 25/01–02/02, Hùng Kings 07/04, 30/04–04/05 with Saturday 26/04 worked, Quốc khánh 30/08–02/09.
    off, worked = exceptions(2025)
    assert off == d(
        "2025-01-01",
        "2025-01-27",
        "2025-01-28",
        "2025-01-29",
        "2025-01-30",
        "2025-01-31",
        "2025-04-07",
        "2025-04-30",
        "2025-05-01",
        "2025-05-02",
        "2025-09-01",
        "2025-09-02",
    )
    assert worked == d("2025-04-26")


def test_2026_matches_the_announced_days_off() -> None:
    # New Year 01–04/01 with Saturday 10/01 worked, Tết 14–22/02, Hùng Kings on Sunday 26/04 → Monday 27/04,
    # 30/04–01/05, Quốc khánh 29/08–02/09 with Saturday 22/08 worked, Vietnamese Culture Day 24/11.
    off, worked = exceptions(2026)
    assert off == d(
        "2026-01-01",
        "2026-01-02",
        "2026-02-16",
        "2026-02-17",
        "2026-02-18",
        "2026-02-19",
        "2026-02-20",
        "2026-04-27",
        "2026-04-30",
        "2026-05-01",
        "2026-08-31",
        "2026-09-01",
        "2026-09-02",
        "2026-11-24",
    )
    assert worked == d("2026-01-10", "2026-08-22")


@pytest.mark.parametrize(
    ("received", "days", "due"),
    [
        ("2025-01-24T10:00", 1, "2025-02-03T10:00"),  # Friday before Tết Ất Tỵ → the Monday after it
        ("2025-04-04T08:30", 1, "2025-04-08T08:30"),  # Hùng Kings' day Monday 07/04
        ("2025-04-25T10:00", 1, "2025-04-26T10:00"),  # Saturday 26/04/2025 is a working day
        ("2025-04-25T10:00", 4, "2025-05-05T10:00"),  # Sat 26, Mon 28, Tue 29, then 30/04–04/05 off
        ("2025-08-29T16:00", 1, "2025-09-03T16:00"),  # Quốc khánh 01–02/09
        ("2025-12-31T09:00", 1, "2026-01-05T09:00"),  # New Year 2026: Thursday 01 and Friday 02/01 off
        ("2026-01-09T09:00", 1, "2026-01-10T09:00"),  # Saturday 10/01/2026 worked
        ("2026-02-13T11:00", 1, "2026-02-23T11:00"),  # Tết Bính Ngọ
        ("2026-04-24T09:00", 3, "2026-05-04T09:00"),  # Tue 28, Wed 29, (27/04 compensatory, 30/04, 01/05 off), Mon 04
        ("2026-11-23T08:00", 1, "2026-11-25T08:00"),  # 24/11 Vietnamese Culture Day
        ("2026-02-15T10:00", 1, "2026-02-23T10:00"),  # received during Tết → first working day after it
        ("2026-11-27T10:00", 1, "2026-11-30T10:00"),  # an ordinary weekend
        ("2026-11-30T09:15", 0, "2026-11-30T09:15"),
    ],
)
def test_add_working_days(received: str, days: int, due: str) -> None:
    assert CAL.add_working_days(at(received).astimezone(dt.UTC), days).astimezone(HANOI) == at(due)


def test_working_days_between_counts_the_end_day_not_the_start_day() -> None:
    assert CAL.working_days_between(at("2026-02-13T17:00"), at("2026-02-23T08:00")) == 1
    assert CAL.working_days_between(at("2026-02-13T08:00"), at("2026-02-13T17:00")) == 0
    assert CAL.working_days_between(at("2026-02-13T08:00"), at("2026-02-12T17:00")) == 0


def test_a_supplement_request_spanning_tet_stops_the_clock() -> None:
    received = at("2026-02-02T09:00")
    # Without a stop: 30 working days over Tết Bính Ngọ (16–20/02 off) → Monday 23/03.
    assert statutory_deadline(received, 30, [], CAL).due_at == at("2026-03-23T09:00")
    # Supplement requested Wednesday 11/02 (7 days used: 03–06, 09–11) and answered Monday 23/02 after Tết:
    asked = ClockStop(stopped_at=at("2026-02-11T15:00"))
    waiting = statutory_deadline(received, 30, [asked], CAL)
    assert waiting.due_at is None and waiting.days_used == 7 and waiting.stopped_since == asked.stopped_at
    answered = ClockStop(stopped_at=asked.stopped_at, restarted_at=at("2026-02-23T14:00"))
    # 23 days left from 23/02: 24–27/02, 02–06, 09–13, 16–20, 23–26/03 → Thursday 26/03 at the answer's time.
    assert statutory_deadline(received, 30, [answered], CAL).due_at == at("2026-03-26T14:00")


def test_several_stops_and_a_stop_after_the_due_date() -> None:
    received = at("2025-04-21T10:00")  # Monday
    stops = [
        ClockStop(at("2025-04-22T10:00"), at("2025-04-23T10:00")),  # 1 day used (22)
        ClockStop(at("2025-04-25T10:00"), at("2025-05-06T08:00")),
    ]  # 2 more (24, 25): 3 used
    # 2 left from Tuesday 06/05 → Thursday 08/05 08:00.
    assert statutory_deadline(received, 5, stops, CAL).due_at == at("2025-05-08T08:00")
    late = [ClockStop(at("2025-05-20T10:00"))]  # asked after the due date: the due date stays, no clock stop
    deadline = statutory_deadline(received, 5, late, CAL)
    assert deadline.due_at == CAL.add_working_days(received, 5) and deadline.stopped_since is None
    with pytest.raises(ValueError):
        statutory_deadline(received, 5, [ClockStop(at("2025-04-20T10:00"))], CAL)  # before reception
    with pytest.raises(ValueError):
        statutory_deadline(received, 5, [ClockStop(at("2025-04-22T10:00"), at("2025-04-22T09:00"))], CAL)


def test_the_adjustments_file_wins_over_the_library() -> None:
    calendar = WorkingCalendar(
        {dt.date(2027, 9, 2)},
        parse_adjustments(
            "date,kind,reason,source\n# comment\n2027-03-08,off,test,notice 1\n2027-09-02,working,test,notice 2\n"
        ),
    )
    assert not calendar.is_working_day(dt.date(2027, 3, 8))  # a Monday made a day off
    assert calendar.is_working_day(dt.date(2027, 9, 2))  # National Day made a working day
    assert not WorkingCalendar({dt.date(2027, 9, 2)}).is_working_day(dt.date(2027, 9, 2))


@pytest.mark.parametrize(
    ("text", "problem"),
    [
        ("date,kind,reason,source\n2027-03-08,holiday,x,y\n", "row 2"),
        ("date,kind,reason,source\n2027-13-08,off,x,y\n", "row 2"),
        ("date,kind,reason,source\n2027-03-08,off,x,\n", "source"),
        ("date,kind,reason,source\n2027-03-08,off,x,y\n2027-03-08,working,x,y\n", "twice"),
    ],
)
def test_a_broken_adjustments_file_is_refused(text: str, problem: str) -> None:
    with pytest.raises(ValueError, match=problem):
        parse_adjustments(text)


def test_every_packaged_day_has_a_reason_and_a_source() -> None:
    assert CAL.adjustments, "the packaged calendar has its rows"
    for adjustment in CAL.adjustments.values():
        assert adjustment.reason and adjustment.source and adjustment.kind in DayKind
