"""Funding sources of a call: created with the call (or added later by an officer), drawn on by approvals (rows
locked FOR UPDATE in the decision's transaction, in the call's order, so concurrent decisions take turns and a
source is never over-committed), released by settlements, and reported (committed, paid, cancelled, recovered)."""

from __future__ import annotations

import uuid
from collections import defaultdict

from sqlalchemy import func
from sqlmodel import select
from sqlmodel.ext.asyncio.session import AsyncSession

from cleanprod_kit.audit import apply_changes, record_audit
from cleanprod_kit.auth import Principal
from cleanprod_kit.changes import public_from
from cleanprod_kit.errors import Conflict, NotFound, Unprocessable, field_error
from cleanprod_kit.models import utcnow

from ..applications.models import Application
from ..calls.models import Call
from ..domain.funding import Figures, SourceBalance, SourceKind, TrancheFacts, allocate, tally
from ..grants.models import RecoveryCollection, Tranche
from .models import AwardAllocation, FundingSource
from .schemas import (
    AllocationPublic,
    ApplicationFunding,
    CallFunding,
    FundingSourceBody,
    FundingSourcePublic,
    FundingSourceReport,
    FundingSourceUpdate,
    SourceFigures,
)

CITY_BUDGET_CODE = "city-budget"


def implicit_city_budget(amount_vnd: int) -> FundingSourceBody:
    """The one source of a call created without sources (and of every call before migration 0014)."""
    return FundingSourceBody(
        code=CITY_BUDGET_CODE, name="Ngân sách thành phố", kind=SourceKind.CITY_BUDGET, amount_vnd=amount_vnd
    )


def add_source(session: AsyncSession, call: Call, body: FundingSourceBody, rank: int) -> FundingSource:
    source = FundingSource(
        call_id=call.id,
        code=body.code,
        name=body.name,
        kind=body.kind,
        rank=rank,
        amount_vnd=body.amount_vnd,
        support_types=[str(t) for t in body.support_types],
        conditions=body.conditions,
    )
    session.add(source)
    return source


async def sources_of(session: AsyncSession, call_id: uuid.UUID, *, lock: bool = False) -> list[FundingSource]:
    """The call's sources in the order awards draw on them; `lock`: FOR UPDATE (always in this order, so two
    transactions locking the same sources cannot deadlock)."""
    statement = (
        select(FundingSource).where(FundingSource.call_id == call_id).order_by(FundingSource.rank, FundingSource.id)
    )  # type: ignore[arg-type]
    if lock:
        statement = statement.with_for_update().execution_options(populate_existing=True)
    return list((await session.exec(statement)).all())


def balances(sources: list[FundingSource]) -> list[SourceBalance]:
    return [SourceBalance(s.id, s.remaining_vnd, frozenset(s.support_types)) for s in sources]


async def add_source_to_call(
    session: AsyncSession, principal: Principal, call: Call, body: FundingSourceBody
) -> FundingSource:
    """A new source for a call locked FOR UPDATE: the budget grows by its amount. 409 on a code already used,
    422 on a support type the call does not fund."""
    sources = await sources_of(session, call.id, lock=True)
    if any(s.code == body.code for s in sources):
        raise Conflict(
            code="duplicate_source_code",
            errors=[field_error("code", None, "duplicate_source_code")],
        )
    extra = sorted({str(t) for t in body.support_types} - set(call.support_types))
    if extra:
        params = {"source": body.code, "support_types": ", ".join(extra)}
        raise Unprocessable(
            code="source_type_not_in_call",
            params=params,
            errors=[field_error("support_types", None, "source_type_not_in_call", **params)],
        )
    source = add_source(session, call, body, rank=max((s.rank for s in sources), default=-1) + 1)
    call.budget_vnd += body.amount_vnd
    call.updated_at = utcnow()
    await session.flush()
    record_audit(
        session,
        principal,
        entity_type="call",
        entity_id=call.id,
        action="add_funding_source",
        details={"source": body.code, "kind": str(body.kind), "amount_vnd": body.amount_vnd},
    )
    return source


async def update_source(
    session: AsyncSession, principal: Principal, call: Call, source_id: uuid.UUID, body: FundingSourceUpdate
) -> FundingSource:
    """A source of a call locked FOR UPDATE changed: name, conditions, amount. The call's budget moves by the amount's
    difference; an amount below what the source has committed is 409 `source_below_committed` (at `amount_vnd`)."""
    sources = {s.id: s for s in await sources_of(session, call.id, lock=True)}
    source = sources.get(source_id)
    if source is None:
        raise NotFound(code="record_not_found", params={"what": f"Funding source {source_id}"})
    values = body.model_dump(exclude_unset=True)
    amount = values.get("amount_vnd", source.amount_vnd)
    if amount < source.committed_vnd:
        params = {"source": source.code, "committed": source.committed_vnd}
        raise Conflict(
            code="source_below_committed",
            params=params,
            errors=[field_error("amount_vnd", None, "source_below_committed", **params)],
        )
    call.budget_vnd += amount - source.amount_vnd
    changes = apply_changes(source, values)
    call.updated_at = utcnow()
    record_audit(
        session,
        principal,
        entity_type="call",
        entity_id=call.id,
        action="update_funding_source",
        details={"source": source.code},
        changes=changes,
    )
    return source


async def resize_sole_source(session: AsyncSession, call: Call, budget_vnd: int) -> None:
    """A PATCH of `budget_vnd`: fine while the call has one source (it takes the new amount); a budget made of
    several sources changes source by source (409 `budget_set_by_sources`)."""
    sources = await sources_of(session, call.id, lock=True)
    if len(sources) != 1:
        raise Conflict(code="budget_set_by_sources", errors=[field_error("budget_vnd", None, "budget_set_by_sources")])
    sources[0].amount_vnd = budget_vnd
    sources[0].updated_at = utcnow()


def commit_award(
    session: AsyncSession, application: Application, call: Call, sources: list[FundingSource], award_vnd: int
) -> list[tuple[FundingSource, int]]:
    """Take `award_vnd` from the call's sources (locked FOR UPDATE) in their order; records the allocations."""
    by_id = {s.id: s for s in sources}
    parts = [(by_id[i], amount) for i, amount in allocate(award_vnd, balances(sources), application.support_type)]
    for source, amount in parts:
        source.committed_vnd += amount
        source.updated_at = utcnow()
        session.add(AwardAllocation(application_id=application.id, source_id=source.id, amount_vnd=amount))
    call.committed_vnd += award_vnd
    return parts


async def allocations_of(session: AsyncSession, application_id: uuid.UUID) -> list[AwardAllocation]:
    rows = await session.exec(
        select(AwardAllocation)
        .join(FundingSource, FundingSource.id == AwardAllocation.source_id)  # type: ignore[arg-type]
        .where(AwardAllocation.application_id == application_id)
        .order_by(FundingSource.rank, FundingSource.id)  # type: ignore[arg-type]
    )
    return list(rows.all())


# ---- the books ---------------------------------------------------------------------------------------------------


def _facts(t: Tranche) -> TrancheFacts:
    return TrancheFacts(str(t.kind), str(t.status), t.planned_vnd, t.amount_vnd, t.paid_vnd, t.collected_vnd)


def figures_public(f: Figures) -> SourceFigures:
    return SourceFigures(**f.__dict__)


async def _books(
    session: AsyncSession, *, call_id: uuid.UUID | None = None, application_id: uuid.UUID | None = None
) -> dict[tuple[uuid.UUID, uuid.UUID], Figures]:
    """Figures per (application, source) for a call or an application."""
    awarded: dict[tuple[uuid.UUID, uuid.UUID], int] = {}
    statement = select(AwardAllocation).join(Application, Application.id == AwardAllocation.application_id)  # type: ignore[arg-type]
    tranches = select(Tranche).join(Application, Application.id == Tranche.application_id)  # type: ignore[arg-type]
    collections = (
        select(Tranche.application_id, Tranche.source_id, func.coalesce(func.sum(RecoveryCollection.amount_vnd), 0))
        .select_from(RecoveryCollection)
        .join(Tranche, Tranche.id == RecoveryCollection.tranche_id)  # type: ignore[arg-type]
        .join(Application, Application.id == Tranche.application_id)  # type: ignore[arg-type]
        .group_by(Tranche.application_id, Tranche.source_id)
    )
    where = Application.call_id == call_id if call_id is not None else Application.id == application_id
    for allocation in (await session.exec(statement.where(where))).all():
        awarded[(allocation.application_id, allocation.source_id)] = allocation.amount_vnd
    facts: dict[tuple[uuid.UUID, uuid.UUID], list[TrancheFacts]] = defaultdict(list)
    for tranche in (await session.exec(tranches.where(where))).all():
        facts[(tranche.application_id, tranche.source_id)].append(_facts(tranche))
    recovered = {(a, s): int(total) for a, s, total in (await session.exec(collections.where(where))).all()}
    keys = set(awarded) | set(facts)
    return {k: tally(awarded.get(k, 0), facts.get(k, []), recovered.get(k, 0)) for k in keys}


def _sum(figures: list[Figures]) -> Figures:
    total = Figures()
    for f in figures:
        total = total + f
    return total


async def call_funding(session: AsyncSession, call: Call) -> CallFunding:
    books = await _books(session, call_id=call.id)
    reports = []
    for source in await sources_of(session, call.id):
        figures = _sum([f for (_, s), f in books.items() if s == source.id])
        reports.append(
            public_from(
                FundingSourceReport, source, remaining_vnd=source.remaining_vnd, figures=figures_public(figures)
            )
        )
    return CallFunding(
        call_id=call.id,
        budget_vnd=call.budget_vnd,
        figures=figures_public(_sum(list(books.values()))),
        sources=reports,
    )


async def application_funding(session: AsyncSession, application: Application) -> ApplicationFunding:
    books = await _books(session, application_id=application.id)
    sources = {s.id: s for s in await sources_of(session, application.call_id)}
    allocations = await allocations_of(session, application.id)
    return ApplicationFunding(
        application_id=application.id,
        awarded_vnd=sum(a.amount_vnd for a in allocations),
        figures=figures_public(_sum(list(books.values()))),
        allocations=[
            AllocationPublic(source_id=a.source_id, source_code=sources[a.source_id].code, amount_vnd=a.amount_vnd)
            for a in allocations
        ],
        by_source={sources[s].code: figures_public(f) for (_, s), f in books.items()},
    )


def source_public(source: FundingSource) -> FundingSourcePublic:
    return public_from(FundingSourcePublic, source, remaining_vnd=source.remaining_vnd)
