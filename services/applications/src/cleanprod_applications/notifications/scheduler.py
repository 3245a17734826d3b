"""Reminders and overdue checks, on a schedule: reviewers N working days before their review is due and once it is
overdue; officers M working days before a dossier's statutory due date and once it has passed.

Every replica runs the loop (started by the service's lifespan), but one pass at a time: a pass runs in one
transaction that first takes a PostgreSQL advisory lock (`pg_try_advisory_xact_lock`); a replica that does not get
it skips its turn. The lock ends with the transaction, also when a replica dies mid-pass. A pass that runs twice
anyway (after a restart, or one replica just after another) writes nothing new: each reminder's dedupe key names
its cause and the due date it is about (`review_due:{assignment}:{due_on}`), so it exists once — and a due date
that moves (the clock stopped for a supplement request) earns a new reminder.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import logging

from sqlalchemy import text
from sqlmodel import select
from sqlmodel.ext.asyncio.session import AsyncSession

from cleanprod_kit.db import Database
from cleanprod_kit.local_time import LOCAL_TZ, local_date
from cleanprod_kit.models import utcnow
from cleanprod_kit.outbox import stop_task

from ..applications.models import Application
from ..config import ApplicationsSettings
from ..domain import ApplicationStatus
from ..domain.deadlines import RUNNING_STATUSES
from ..domain.working_days import WorkingCalendar
from ..holiday_calendar import default_calendar
from ..reviews.models import ReviewerAssignment
from .models import NotificationKind as K
from .rules import officer_link, reviewer_link
from .service import OFFICERS, Audience, notify

log = logging.getLogger("cleanprod.applications.notifications")

LOCK_KEY = 0x6E6F746966790A  # "notify": the advisory lock of this service's scheduled notification pass


def _end_of(day: dt.date) -> dt.datetime:
    """A moment on `day` in Hanoi (for counting working days up to it)."""
    return dt.datetime.combine(day, dt.time(12), LOCAL_TZ)


def _window_end(calendar: WorkingCalendar, now: dt.datetime, before_days: int) -> dt.date:
    """The first day too far ahead to remind about: the (before_days + 1)-th working day after today. Due dates
    before it have at most `before_days` working days left; the query reads only those (and the overdue ones)."""
    return local_date(calendar.add_working_days(now, before_days + 1))


async def remind_reviewers(
    session: AsyncSession, calendar: WorkingCalendar, now: dt.datetime, before_days: int
) -> None:
    """Assignments still owing their review on a dossier under review (not recused, not scored)."""
    statement = (
        select(ReviewerAssignment, Application)
        .join(Application, Application.id == ReviewerAssignment.application_id)  # type: ignore[arg-type]
        .where(
            ReviewerAssignment.due_on.is_not(None),  # type: ignore[union-attr]
            ReviewerAssignment.reviewed_at.is_(None),  # type: ignore[union-attr]
            ReviewerAssignment.conflict_declared.is_not(True),  # type: ignore[union-attr]
            ReviewerAssignment.due_on < _window_end(calendar, now, before_days),  # type: ignore[operator]
            Application.status == ApplicationStatus.UNDER_REVIEW,
        )
    )
    today = local_date(now)
    for assignment, application in (await session.exec(statement)).all():
        due_on = assignment.due_on
        assert due_on is not None
        if today > due_on:
            kind, key = K.review_overdue, f"review_overdue:{assignment.id}:{due_on}"
        elif calendar.working_days_between(now, _end_of(due_on)) <= before_days:
            kind, key = K.review_due_soon, f"review_due:{assignment.id}:{due_on}"
        else:
            continue
        await notify(
            session,
            kind=kind,
            audience=Audience.user(assignment.reviewer_subject),
            params={"dossier_code": application.dossier_code, "due_on": due_on.isoformat()},
            link=reviewer_link(application.id),
            application_id=application.id,
            dedupe_key=key,
        )


async def warn_officers(session: AsyncSession, calendar: WorkingCalendar, now: dt.datetime, before_days: int) -> None:
    """Dossiers the Department still owes a result on, with their clock running (a stopped clock has no due date)."""
    statement = select(Application).where(
        Application.due_at.is_not(None),  # type: ignore[union-attr]
        Application.status.in_([str(s) for s in RUNNING_STATUSES]),  # type: ignore[attr-defined]
        Application.due_at < dt.datetime.combine(_window_end(calendar, now, before_days), dt.time(), LOCAL_TZ),  # type: ignore[operator]
    )
    for application in (await session.exec(statement)).all():
        due_at = application.due_at
        assert due_at is not None
        due_on = local_date(due_at)
        if due_at < now:
            kind, key = K.dossier_overdue, f"dossier_overdue:{application.id}:{due_on}"
        elif calendar.working_days_between(now, due_at) <= before_days:
            kind, key = K.dossier_due_soon, f"dossier_due:{application.id}:{due_on}"
        else:
            continue
        await notify(
            session,
            kind=kind,
            audience=OFFICERS,
            params={"dossier_code": application.dossier_code, "due_on": due_on.isoformat()},
            link=officer_link(application.id),
            application_id=application.id,
            dedupe_key=key,
        )


class NotificationScheduler:
    def __init__(self, db: Database, settings: ApplicationsSettings) -> None:
        self.db = db
        self.settings = settings
        self._task: asyncio.Task[None] | None = None

    async def run_once(self, now: dt.datetime | None = None) -> bool:
        """One pass; False when another replica holds the lock (this one did nothing)."""
        now = now or utcnow()
        calendar = default_calendar()
        async with self.db.session() as session:
            locked = (
                await session.exec(text("SELECT pg_try_advisory_xact_lock(:key)").bindparams(key=LOCK_KEY))
            ).scalar()  # type: ignore[call-overload]
            if not locked:
                return False
            await remind_reviewers(session, calendar, now, self.settings.review_reminder_working_days)
            await warn_officers(session, calendar, now, self.settings.dossier_reminder_working_days)
            await session.commit()
        return True

    async def _loop(self) -> None:
        while True:
            try:
                await self.run_once()
            except asyncio.CancelledError:
                raise
            except Exception:  # noqa: BLE001 - a database hiccup: log, try again next interval
                log.exception("scheduled notification pass failed")
            await asyncio.sleep(self.settings.notification_scheduler_interval_seconds)

    def start(self) -> None:
        if self._task is None:
            self._task = asyncio.create_task(self._loop(), name="notification-scheduler")

    async def stop(self) -> None:
        await stop_task(self._task)
        self._task = None
