"""The statutory processing time of a dossier (thời hạn giải quyết): working days from reception, with the clock
stopped while the enterprise is asked to supplement the dossier.

The time spent supplementing a dossier is not counted in the processing time (Decree 61/2018/NĐ-CP, as amended by
Decree 107/2021/NĐ-CP): the clock stops on the day the request goes out and starts again, with the days it had
left, when the enterprise answers. Counting is in whole working days (:mod:`.working_days`): the day the clock
(re)starts never counts, the day it stops does. While the clock is stopped there is no due date — the one-stop
desk issues a new appointment date (phiếu hẹn trả) once the supplement is received.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass

from .lifecycle import ApplicationStatus
from .working_days import WorkingCalendar

CLOCK_STOPPED_STATUSES: frozenset[ApplicationStatus] = frozenset({ApplicationStatus.CHANGES_REQUESTED})
"""While in one of these the Department waits for the enterprise (e-gov 5, supplement requested)."""

RUNNING_STATUSES: frozenset[ApplicationStatus] = frozenset(
    {ApplicationStatus.SUBMITTED, ApplicationStatus.UNDER_REVIEW}
)
"""The Department owes a result: a dossier in one of these past its due date is overdue. From the decision on
(approved, rejected, ineligible, …) the statutory time limit has been met or missed for good."""


@dataclass(frozen=True)
class ClockStop:
    stopped_at: dt.datetime
    restarted_at: dt.datetime | None = None


@dataclass(frozen=True)
class Deadline:
    due_at: dt.datetime | None
    """None while the clock is stopped."""
    days_used: int
    """Working days used before the last stop (all of them once the due date is reached)."""
    stopped_since: dt.datetime | None


def statutory_deadline(
    received_at: dt.datetime, processing_days: int, stops: Sequence[ClockStop], calendar: WorkingCalendar
) -> Deadline:
    """Due date of a dossier received at ``received_at`` with ``processing_days`` working days and the clock
    stopped over ``stops`` (in order; only the last may be open). A stop after the due date moves nothing."""
    used, running_since = 0, received_at
    for stop in stops:
        if stop.stopped_at < running_since or (stop.restarted_at is not None and stop.restarted_at < stop.stopped_at):
            raise ValueError("clock stops must be in order and each restart after its stop")
        segment = calendar.working_days_between(running_since, stop.stopped_at)
        if used + segment >= processing_days:  # the due date fell before this stop: it stays
            break
        used += segment
        if stop.restarted_at is None:
            return Deadline(due_at=None, days_used=used, stopped_since=stop.stopped_at)
        running_since = stop.restarted_at
    return Deadline(
        due_at=calendar.add_working_days(running_since, processing_days - used), days_used=used, stopped_since=None
    )
