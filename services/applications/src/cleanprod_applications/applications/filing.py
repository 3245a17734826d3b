"""A first submission's read in one statement (issue 16): the application locked `FOR UPDATE` under the
caller's access rule, its call, and — when it is a draft still without a dossier code whose support type needs
no document checked — the day's next dossier number, taken from the daily counter in the same statement:

    WITH locked AS (SELECT applications.* … WHERE id = :id AND <access rule> FOR UPDATE),
         numbered AS (INSERT INTO dossier_sequences … SELECT … FROM locked WHERE <a first filing>
                      ON CONFLICT … DO UPDATE SET last_value = last_value + 1 RETURNING last_value)
    SELECT locked.*, calls.*, numbered.last_value FROM locked JOIN calls … LEFT JOIN numbered ON true

Before, that was two round trips (the locked read, then the counter). The rules stay: the counter's INSERT reads
from `locked`, so the application's row is locked before the counter's (the order every submission takes, as
before); a row the caller may not see is neither locked nor numbered; the application's values are the locked
row's (the CTE's, not the statement's snapshot); and the number is the transaction's until it commits — a
submission refused afterwards (stale If-Match, incomplete dossier, …) rolls back and gives it back, so numbers
stay gap-free. A support type with documents to check is not numbered here: its documents are read after the
lock (an upload holding the lock commits first), and the number is taken after that read (`flows.py`).
"""

from __future__ import annotations

import datetime as dt
import uuid
from dataclasses import dataclass
from typing import Any

from sqlalchemy import ColumnElement, Date, Integer, Select, String, any_, bindparam, literal, true
from sqlalchemy.dialects.postgresql import array
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.orm import aliased
from sqlmodel import select
from sqlmodel.ext.asyncio.session import AsyncSession

from cleanprod_kit.auth import Principal
from cleanprod_kit.models import utcnow

from ..access import change_rule, keep_call, not_found
from ..calls.models import Call
from ..domain import ApplicationStatus, local_date
from ..domain.support_types import SUPPORT_RULES
from .models import Application, DossierSequence

_COUNTERS = DossierSequence.__table__  # type: ignore[attr-defined]
_NUMBERED_HERE = sorted(str(t) for t, rule in SUPPORT_RULES.items() if not rule.documents_to_submit)
"""Support types whose submission reads no document: numbered in the locked read."""
_FILING = "cleanprod_applications.filing"


@dataclass(frozen=True)
class Filing:
    """What the locked read of a submission took for it: the moment of the submission (the counter's day is its
    Hanoi day) and the day's number, None when it took none."""

    at: dt.datetime
    number: int | None


def _statement(rule: ColumnElement[bool] | None) -> Select[Any]:
    locked = select(Application).where(Application.id == bindparam("application_id"))
    if rule is not None:
        locked = locked.where(rule)
    locked_cte = locked.with_for_update().cte("locked")
    numbered = (
        pg_insert(_COUNTERS)
        .from_select(
            ["agency_id", "day", "last_value"],
            select(bindparam("agency_id", type_=String), bindparam("day", type_=Date), literal(1, Integer)).where(
                locked_cte.c.status == str(ApplicationStatus.DRAFT),
                locked_cte.c.dossier_code.is_(None),
                locked_cte.c.support_type == any_(array(_NUMBERED_HERE)),
            ),
        )
        .on_conflict_do_update(index_elements=["agency_id", "day"], set_={"last_value": _COUNTERS.c.last_value + 1})
        .returning(_COUNTERS.c.last_value)
        .cte("numbered")
    )
    application = aliased(Application, locked_cte)
    return (
        select(application, Call, numbered.c.last_value)
        .join(Call, Call.id == application.call_id)  # type: ignore[arg-type]
        .outerjoin(numbered, true())
        .execution_options(populate_existing=True)
    )


_BUILT: dict[str, Select[Any]] = {}


async def locked_for_filing(
    session: AsyncSession, principal: Principal, application_id: uuid.UUID, agency_id: str
) -> Application:
    """`access.locked_application` for a submission, with the day's next dossier number when it is a first one
    (module docstring); `taken` gives what it took."""
    kind, rule, params = change_rule(principal)
    statement = _BUILT.get(kind) if kind != "assigned" else None
    if statement is None:
        statement = _statement(rule)
        if kind != "assigned":
            _BUILT[kind] = statement
    at = utcnow()
    params |= {"application_id": application_id, "agency_id": agency_id, "day": local_date(at)}
    found = (await session.exec(statement, params=params)).first()  # type: ignore[call-overload]
    if found is None:
        raise not_found(application_id)
    application, call, number = found
    keep_call(session, call)
    session.info.setdefault(_FILING, {})[application.id] = Filing(at, number)
    return application


def taken(session: AsyncSession, application: Application) -> Filing | None:
    """What `locked_for_filing` took for `application` in this session (None: it was locked another way)."""
    return session.info.get(_FILING, {}).get(application.id)  # type: ignore[no-any-return]
