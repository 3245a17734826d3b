"""Calls (programme rounds): created and changed by officers; read by everyone signed in."""

from __future__ import annotations

import datetime as dt
import uuid
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from sqlalchemy import func
from sqlalchemy.exc import IntegrityError
from sqlmodel import select
from sqlmodel.ext.asyncio.session import AsyncSession

from cleanprod_contracts.v1 import events
from cleanprod_kit.audit import apply_changes, record_audit
from cleanprod_kit.auth import Principal
from cleanprod_kit.changes import public_from
from cleanprod_kit.db import violated_constraint
from cleanprod_kit.errors import Conflict, NotFound, Unprocessable, field_error
from cleanprod_kit.models import utcnow
from cleanprod_kit.outbox import emit
from cleanprod_kit.pagination import page_by_id

from ..domain import CallTerms, Criterion, Rubric, local_date
from ..funding.service import add_source, implicit_city_budget, resize_sole_source
from .models import Call
from .schemas import CallCreate, CallPublic, CallUpdate, CriterionBody, CriterionPublic

if TYPE_CHECKING:
    from ..applications.models import Application


def _number(value: Decimal) -> int | float:
    """A JSON number for a rubric weight or maximum (at most 3 decimals: float round-trips it exactly)."""
    return int(value) if value == value.to_integral_value() else float(value)


def _criteria_json(criteria: list[CriterionBody]) -> list[dict[str, Any]]:
    return [
        {"code": c.code, "name": c.name, "weight": _number(c.weight), "max_score": _number(c.max_score)}
        for c in criteria
    ]


def rubric_of(call: Call) -> Rubric:
    return Rubric(tuple(Criterion(c["code"], c["name"], c["weight"], c["max_score"]) for c in call.criteria))


def terms_of(call: Call) -> CallTerms:
    return CallTerms(
        opens_on=call.opens_on,
        closes_on=call.closes_on,
        eligible_sectors=frozenset(call.eligible_sectors),
        support_rate_bp=call.support_rate_bp,
        cap_per_project_vnd=call.cap_per_project_vnd,
    )


async def call_of(session: AsyncSession, application: Application) -> Call:
    """The call an application was filed under."""
    call = await session.get(Call, application.call_id)
    assert call is not None  # foreign key
    return call


def today() -> dt.date:
    return local_date(utcnow())


def is_open(call: Call, on: dt.date | None = None) -> bool:
    on = on or today()
    return call.opens_on <= on <= call.closes_on


def to_public(call: Call) -> CallPublic:
    criteria = [
        CriterionPublic(
            code=c["code"], name=c["name"], weight=Decimal(str(c["weight"])), max_score=Decimal(str(c["max_score"]))
        )
        for c in call.criteria
    ]
    return public_from(CallPublic, call, is_open=is_open(call), criteria=criteria)


def _event_payload(call: Call) -> dict[str, Any]:
    return events.CallEvent(
        call_id=call.id,
        code=call.code,
        title=call.title,
        opens_on=call.opens_on,
        closes_on=call.closes_on,
        budget_vnd=call.budget_vnd,
        support_rate_bp=call.support_rate_bp,
        cap_per_project_vnd=call.cap_per_project_vnd,
        eligible_sectors=call.eligible_sectors,
        version=call.version,
    ).payload()


async def get_call(session: AsyncSession, call_id: uuid.UUID) -> Call:
    call = await session.get(Call, call_id)
    if call is None:
        raise NotFound(code="call_not_found", params={"call_id": str(call_id)})
    return call


async def create_call(session: AsyncSession, principal: Principal, data: CallCreate) -> Call:
    if data.closes_on < today():
        # A call is opened to take applications: one that closed before it exists takes none (issue 15). Closing
        # one early later is an update, which may move closes_on into the past.
        params = {"today": today()}
        raise Unprocessable(
            code="call_already_closed",
            params=params,
            errors=[field_error("closes_on", None, "call_already_closed", **params)],
        )
    existing = (await session.exec(select(Call.id).where(Call.code == data.code))).first()
    if existing is not None:
        raise _duplicate_code(data.code)
    values = data.model_dump(exclude={"criteria", "funding_sources", "budget_vnd", "support_types"})
    sources = data.funding_sources or [implicit_city_budget(data.budget_vnd)]
    call = Call(
        **values,
        support_types=[str(t) for t in data.support_types],
        budget_vnd=sum(s.amount_vnd for s in sources),
        criteria=_criteria_json(data.criteria),
        created_by=principal.display_name,
    )
    session.add(call)
    try:
        await session.flush()
    except IntegrityError as exc:
        if violated_constraint(exc) == "uq_calls_code":
            raise _duplicate_code(data.code) from None
        raise
    for rank, source in enumerate(sources):
        add_source(session, call, source, rank)
    await session.flush()
    record_audit(
        session,
        principal,
        entity_type="call",
        entity_id=call.id,
        action="create",
        details={"code": call.code, "budget_vnd": call.budget_vnd},
    )
    emit(session, "call.created", aggregate_type="call", aggregate_id=call.id, payload=_event_payload(call))
    return call


def _duplicate_code(code: str) -> Conflict:
    return Conflict(
        code="duplicate_call_code",
        params={"call_code": code},
        errors=[field_error("code", None, "duplicate_call_code", call_code=code)],
    )


async def _has_scored_reviews(session: AsyncSession, call_id: uuid.UUID) -> bool:
    from ..applications.models import Application
    from ..reviews.models import ReviewerAssignment

    count = (
        await session.exec(
            select(func.count())
            .select_from(ReviewerAssignment)
            .join(Application, Application.id == ReviewerAssignment.application_id)  # type: ignore[arg-type]
            .where(Application.call_id == call_id, ReviewerAssignment.scores.is_not(None))  # type: ignore[union-attr]
        )
    ).one()
    return bool(count)


async def update_call(session: AsyncSession, principal: Principal, call: Call, data: CallUpdate) -> None:
    """Apply a PATCH to a call locked FOR UPDATE (so `committed_vnd` cannot move under the budget check)."""
    changes = data.model_dump(exclude_unset=True)
    for name in list(changes):
        if changes[name] is None:  # explicit null: only `description` may be cleared
            if name != "description":
                raise Unprocessable(code="validation_failed", errors=[field_error(name, None, "null_not_allowed")])
    opens_on = changes.get("opens_on", call.opens_on)
    closes_on = changes.get("closes_on", call.closes_on)
    if closes_on < opens_on:
        raise Unprocessable(code="closes_before_opens", errors=[field_error("closes_on", None, "closes_before_opens")])
    if "budget_vnd" in changes and changes["budget_vnd"] < call.committed_vnd:
        raise Conflict(
            code="budget_below_committed",
            params={"committed": call.committed_vnd},
            errors=[field_error("budget_vnd", None, "budget_below_committed", committed=call.committed_vnd)],
        )
    if "budget_vnd" in changes:
        await resize_sole_source(session, call, changes["budget_vnd"])
    if "criteria" in changes:
        if await _has_scored_reviews(session, call.id):
            raise Conflict(code="rubric_in_use", errors=[field_error("criteria", None, "rubric_in_use")])
        changes["criteria"] = _criteria_json(data.criteria or [])
    changed = apply_changes(call, changes)
    record_audit(
        session,
        principal,
        entity_type="call",
        entity_id=call.id,
        action="update",
        details={"fields": sorted(changes)},
        changes=changed,
    )
    emit(session, "call.updated", aggregate_type="call", aggregate_id=call.id, payload=_event_payload(call))


async def list_calls(
    session: AsyncSession, *, code: str | None, open_on: dt.date | None, limit: int, cursor: str | None
) -> tuple[list[Call], str | None]:
    statement = select(Call)
    if code:
        statement = statement.where(Call.code == code)
    if open_on:
        statement = statement.where(Call.opens_on <= open_on, Call.closes_on >= open_on)
    return await page_by_id(session, statement, Call.id, limit=limit, cursor=cursor)
