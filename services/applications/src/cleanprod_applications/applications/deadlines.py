"""The statutory time limit on an application row: the clock follows the lifecycle (domain/deadlines.py says
how days are counted), and the stored due date is what every reader reports — the application itself, the
public dossier look-up and the e-government look-up."""

from __future__ import annotations

import datetime as dt
import functools

from ..domain import ApplicationStatus
from ..domain.deadlines import CLOCK_STOPPED_STATUSES, RUNNING_STATUSES, ClockStop, Deadline, statutory_deadline
from ..holiday_calendar import default_calendar
from .models import Application

Stops = tuple[tuple[str, str | None], ...]
"""The clock's stops as stored: (stopped_at, restarted_at or None), ISO instants."""


def _stored_stops(application: Application) -> Stops:
    return tuple((s["stopped_at"], s.get("restarted_at")) for s in application.clock_stops)


def _parsed(stops: Stops) -> list[ClockStop]:
    return [
        ClockStop(
            stopped_at=dt.datetime.fromisoformat(stopped),
            restarted_at=dt.datetime.fromisoformat(restarted) if restarted else None,
        )
        for stopped, restarted in stops
    ]


def stops_of(application: Application) -> list[ClockStop]:
    return _parsed(_stored_stops(application))


def deadline_of(application: Application) -> Deadline | None:
    """None before the first submission (a draft owes nothing)."""
    if application.first_submitted_at is None or application.processing_days is None:
        return None
    return _deadline(application.first_submitted_at, application.processing_days, _stored_stops(application))


@functools.lru_cache(maxsize=256)
def _deadline(first_submitted_at: dt.datetime, processing_days: int, stops: Stops) -> Deadline:
    """The deadline of these inputs (the calendar is fixed), kept: a submission's two transitions ask for the same
    one, and counting working days through the holiday calendar was ~2 % of a submission's CPU (issue 16)."""
    return statutory_deadline(first_submitted_at, processing_days, _parsed(stops), default_calendar())


def clock_is_stopped(application: Application) -> bool:
    """Waiting for the enterprise: changes requested, or a supplement request open on a dossier under review."""
    return ApplicationStatus(application.status) in CLOCK_STOPPED_STATUSES or application.open_supplement_id is not None


def follow_clock(application: Application, was_stopped: bool, at: dt.datetime) -> None:
    """After a change of status or of the supplement request: stop the clock when the dossier starts waiting for
    the enterprise, restart it when it stops waiting, and store the due date that results. Called by every
    transition (flows.apply_transition) and by the supplement requests."""
    if application.first_submitted_at is None or application.processing_days is None:
        return
    is_stopped = clock_is_stopped(application)
    stops = [dict(s) for s in application.clock_stops]
    if is_stopped and not was_stopped:
        stops.append({"stopped_at": at.isoformat(), "restarted_at": None})
    elif was_stopped and not is_stopped and stops and stops[-1].get("restarted_at") is None:
        stops[-1]["restarted_at"] = at.isoformat()
    application.clock_stops = stops
    deadline = deadline_of(application)
    application.due_at = deadline.due_at if deadline else None


def clock_stopped_since(application: Application) -> dt.datetime | None:
    if application.clock_stops and not application.clock_stops[-1].get("restarted_at"):
        return dt.datetime.fromisoformat(application.clock_stops[-1]["stopped_at"])
    return None


def is_overdue(application: Application, now: dt.datetime) -> bool:
    """The Department still owes a result and the due date has passed."""
    return (
        application.due_at is not None
        and application.due_at < now
        and ApplicationStatus(application.status) in RUNNING_STATUSES
    )
