"""Verification cases: opened from the applications service's events, read by the people who may see them."""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import func
from sqlalchemy.orm import defer, load_only
from sqlmodel import select
from sqlmodel.ext.asyncio.session import AsyncSession

from cleanprod_contracts.v1 import events
from cleanprod_contracts.v1.registry import BaselinePeriod, Enterprise, Facility
from cleanprod_kit.audit import field_changes, record_audit, snapshot
from cleanprod_kit.auth import Principal
from cleanprod_kit.changes import public_from, readable_or_404
from cleanprod_kit.models import utcnow
from cleanprod_kit.outbox import emit
from cleanprod_kit.pagination import keyset_page
from cleanprod_kit.roles import Role

from ..access import ensure_readable, visibility_filter
from ..conclusions.models import Conclusion
from ..db_types import touch
from ..registry import RegistryClient
from .events import ApplicationFacts
from .models import CaseStatus, VerificationCase
from .schemas import (
    BaselinePublic,
    CasePublic,
    ClaimPublic,
    ConclusionBrief,
    EnterpriseFacts,
    FacilityFacts,
    SupplierFacts,
    VerifierPublic,
)

ENTITY = "verification"


def audit_case(session: AsyncSession, actor: Principal, case: VerificationCase, action: str, **fields: Any) -> None:
    """The audit entry of something done to a case that leaves its status where it is (from = to = the status
    now); `fields`: what `record_audit` takes besides (reason, details, changes)."""
    record_audit(
        session,
        actor,
        entity_type=ENTITY,
        entity_id=case.id,
        action=action,
        from_state=case.status,
        to_state=case.status,
        **fields,
    )


def service_actor(source: str | None) -> Principal:
    name = source or "applications"
    return Principal(subject=f"service:{name}", username=name, roles=frozenset({Role.SERVICE}))


def frozen_period(period: BaselinePeriod) -> dict[str, Any]:
    """The part of a registry baseline period the verification needs, as the registry gave it."""
    item = period.model_dump(mode="json")
    return {
        "registry_id": item["id"],
        "period_start": item["period_start"],
        "period_end": item["period_end"],
        "production": item["production"],
        "consumption": item["consumption"],
        "cdd": item["cdd"],
        "hdd": item["hdd"],
        "estimated": item["estimated"],
        "registry_version": item["version"],
    }


async def case_for_application(session: AsyncSession, application_id: uuid.UUID) -> VerificationCase | None:
    statement = (
        select(VerificationCase)
        .where(VerificationCase.application_id == application_id)
        .with_for_update()
        .execution_options(populate_existing=True)
    )
    return (await session.exec(statement)).first()


async def case_exists(session: AsyncSession, application_id: uuid.UUID) -> bool:
    statement = select(VerificationCase.id).where(VerificationCase.application_id == application_id)
    return (await session.exec(statement)).first() is not None


@dataclass(frozen=True)
class RegistryFacts:
    """What the registry holds about the application's facility, fetched before the case's transaction opens."""

    facility: Facility | None  # None: the registry has no such facility
    baseline: list[dict[str, Any]] = field(default_factory=list)  # frozen periods (`frozen_period`)
    enterprise: Enterprise | None = None  # asked only when the event lacks the enterprise's name or tax code


async def fetch_registry_facts(registry: RegistryClient, facts: ApplicationFacts) -> RegistryFacts:
    """The facility, all its baseline periods (every page) and, if needed, its enterprise. Call it with no
    transaction open (HTTP calls; `RegistryUnavailable` fails the delivery so the sender retries)."""
    facility = await registry.facility(facts.facility_id)
    if facility is None:
        return RegistryFacts(None)
    baseline = [frozen_period(p) for p in await registry.baselines(facts.facility_id)]
    enterprise = None
    if not (facts.enterprise_name and (facts.enterprise_tax_code or facility.enterprise_tax_code)):
        enterprise = await registry.enterprise(facility.enterprise_id)
    return RegistryFacts(facility, baseline, enterprise)


async def open_case(
    session: AsyncSession,
    registry_facts: RegistryFacts | None,
    facts: ApplicationFacts,
    *,
    actor: Principal,
    event_id: uuid.UUID | None,
    min_baseline_periods: int,
) -> VerificationCase:
    """Open the case of an approved application, freezing the facility's baseline (`registry_facts`, fetched
    just before this transaction) and the claim. Idempotent on the application id: an existing case is returned
    unchanged (and `registry_facts` is then None or unused).

    Stale facts: the baseline frozen is the registry's as it was a moment before the transaction began; a period
    recorded in between is treated as recorded after the approval (the same as if the event had come a moment
    earlier). The case itself is re-checked here, in the transaction: if another delivery opened it meanwhile,
    that case stands and the fetched facts are dropped."""
    existing = await case_for_application(session, facts.application_id)
    if existing is not None:
        return existing
    if registry_facts is None:  # fetched only when no case existed; cases are never deleted
        raise RuntimeError(f"no registry facts were fetched for application {facts.application_id}")
    notes = _baseline_notes(facts, registry_facts, min_baseline_periods)
    case = _new_case(facts, registry_facts, notes, event_id=event_id)
    session.add(case)
    await session.flush()
    baseline = case.baseline
    record_audit(
        session,
        actor,
        entity_type=ENTITY,
        entity_id=case.id,
        action="open",
        to_state=CaseStatus.AWAITING_ASSIGNMENT,
        reason=f"Application {facts.dossier_code or facts.application_id} approved; baseline of "
        f"{len(baseline)} periods and the claim frozen.",
        details={
            "application_id": str(facts.application_id),
            "event_id": str(event_id) if event_id else None,
            "baseline_periods": len(baseline),
            "claimed_overall_pct": facts.claimed_overall_pct,
            "notes": notes,
        },
    )
    emit(
        session,
        "verification.opened",
        aggregate_type=ENTITY,
        aggregate_id=case.id,
        payload=events.VerificationOpened(
            verification_id=case.id,
            application_id=case.application_id,
            dossier_code=case.dossier_code,
            status=case.status,
            baseline_periods=len(baseline),
        ).payload(),
    )
    return case


def _baseline_notes(facts: ApplicationFacts, registry_facts: RegistryFacts, min_baseline_periods: int) -> list[str]:
    notes = list(facts.notes)
    if registry_facts.facility is None:
        notes.append(f"the registry has no facility {facts.facility_id}; no baseline could be frozen")
    periods = len(registry_facts.baseline)
    if not periods:
        notes.append("no baseline period is recorded for the facility; savings cannot be computed without one")
    elif periods < min_baseline_periods:
        notes.append(
            f"the baseline has {periods} periods; a regression baseline needs at least "
            f"{min_baseline_periods}, so savings will be computed by SEC"
        )
    return notes


def _new_case(
    facts: ApplicationFacts, registry_facts: RegistryFacts, notes: list[str], *, event_id: uuid.UUID | None
) -> VerificationCase:
    facility, enterprise = registry_facts.facility, registry_facts.enterprise
    return VerificationCase(
        application_id=facts.application_id,
        dossier_code=facts.dossier_code,
        facility_id=facts.facility_id,
        facility_name=facts.facility_name or _of(facility, "name"),
        enterprise_id=facts.enterprise_id or _of(facility, "enterprise_id"),
        enterprise_tax_code=(
            facts.enterprise_tax_code or _of(facility, "enterprise_tax_code") or _of(enterprise, "tax_code")
        ),
        enterprise_name=facts.enterprise_name or _of(enterprise, "name"),
        sector_code=_of(facility, "sector_code") or facts.sector_code,
        products=list(_of(facility, "products") or []),
        capacity_quantity=_of(facility, "capacity_quantity"),
        capacity_unit=_of(facility, "capacity_unit"),
        ward=_of(facility, "ward") or _of(enterprise, "ward"),
        district=_of(facility, "district") or _of(enterprise, "district"),
        supplier_name=facts.supplier_name,
        supplier_tax_code=facts.supplier_tax_code,
        project_title=facts.title,
        claimed_overall_pct=facts.claimed_overall_pct,
        claimed_per_carrier=dict(facts.claimed_per_carrier),
        approved_support_vnd=facts.approved_support_vnd,
        implementation_start=facts.implementation_start,
        implementation_end=facts.implementation_end,
        baseline=list(registry_facts.baseline),
        baseline_frozen_at=utcnow(),
        baseline_note="; ".join(notes) or None,
        opened_by_event=event_id,
    )


def _of(record: Facility | Enterprise | None, name: str) -> Any:
    """A field of a registry record the registry may not have had (None then)."""
    return getattr(record, name) if record is not None else None


COMPLETION_FIELDS = ("completed_on", "completion_reported_at")


async def note_completion(
    session: AsyncSession,
    case: VerificationCase,
    facts: ApplicationFacts,
    *,
    actor: Principal,
    event_id: uuid.UUID | None,
) -> None:
    """The project is complete (post-project report filed): the case may now be concluded."""
    if case.completion_reported_at is not None:
        return
    before = snapshot(case, COMPLETION_FIELDS)
    case.completion_reported_at = utcnow()
    case.completed_on = facts.completed_on or case.completion_reported_at.date()
    touch(case)
    audit_case(
        session,
        actor,
        case,
        "completion_reported",
        reason="The applications service reported the project complete; the case may be concluded.",
        details={"event_id": str(event_id) if event_id else None, "completed_on": case.completed_on.isoformat()},
        changes=field_changes(before, snapshot(case, COMPLETION_FIELDS)),
    )


# ---- reading --------------------------------------------------------------------------------------------------


async def _readable(
    session: AsyncSession, principal: Principal, case_id: uuid.UUID, *, code: str, params: dict[str, str]
) -> VerificationCase:
    return await readable_or_404(
        session, VerificationCase, case_id, lambda case: ensure_readable(principal, case), code=code, params=params
    )


async def get_case(session: AsyncSession, principal: Principal, case_id: uuid.UUID) -> VerificationCase:
    """The case the caller may read (404 `case_not_found`, or the read rule's 403/404)."""
    return await _readable(session, principal, case_id, code="case_not_found", params={"case_id": str(case_id)})


async def readable_case(session: AsyncSession, principal: Principal, case_id: uuid.UUID) -> VerificationCase:
    """The case a change starts from (the pipeline's read step): as `get_case`, but a missing case is 404
    `record_not_found`, what the changes answered when they locked first."""
    return await _readable(
        session, principal, case_id, code="record_not_found", params={"what": f"Verification case {case_id}"}
    )


async def conclusion_of(session: AsyncSession, case_id: uuid.UUID) -> Conclusion | None:
    return (await session.exec(select(Conclusion).where(Conclusion.case_id == case_id))).first()


def to_public(
    case: VerificationCase, conclusion: Conclusion | None, *, with_periods: bool, period_count: int | None = None
) -> CasePublic:
    """`period_count`: the frozen baseline's number of periods when the list read that alone (not the baseline)."""
    return public_from(
        CasePublic,
        case,
        facility=FacilityFacts(
            id=case.facility_id,
            name=case.facility_name,
            sector_code=case.sector_code,
            products=list(case.products),
            capacity_quantity=case.capacity_quantity,
            capacity_unit=case.capacity_unit,
            ward=case.ward,
            district=case.district,
        ),
        enterprise=EnterpriseFacts(id=case.enterprise_id, tax_code=case.enterprise_tax_code, name=case.enterprise_name),
        supplier=(
            SupplierFacts(name=case.supplier_name, tax_code=case.supplier_tax_code)
            if case.supplier_name or case.supplier_tax_code
            else None
        ),
        claim=ClaimPublic(overall_percent=case.claimed_overall_pct, per_carrier_percent=dict(case.claimed_per_carrier)),
        baseline=BaselinePublic(
            frozen_at=case.baseline_frozen_at,
            period_count=len(case.baseline) if period_count is None else period_count,
            note=case.baseline_note,
            periods=list(case.baseline) if with_periods else None,
        ),
        verifier=(
            VerifierPublic(subject=case.verifier_subject, username=case.verifier_username)
            if case.verifier_subject
            else None
        ),
        conclusion=(
            ConclusionBrief(
                verdict=conclusion.verdict,
                verified_savings_pct=conclusion.verified_pct,
                achieved_ratio=conclusion.achieved_ratio,
                method=conclusion.method,
                concluded_at=conclusion.concluded_at,
            )
            if conclusion is not None
            else None
        ),
    )


LISTED_CONCLUSION = (Conclusion.case_id, Conclusion.verdict, Conclusion.method, Conclusion.claimed_pct,
                     Conclusion.verified_pct, Conclusion.achieved_ratio, Conclusion.savings_toe, Conclusion.savings_gj,
                     Conclusion.savings_tco2, Conclusion.concluded_at)  # fmt: skip
"""What a list line (and the results export) shows of a conclusion — not its full computation (`result`, ~28 KB),
the measurements it used or the norm."""


async def list_cases(
    session: AsyncSession,
    principal: Principal,
    *,
    status: CaseStatus | None,
    sector: str | None,
    application_id: uuid.UUID | None,
    limit: int,
    cursor: str | None,
) -> tuple[list[tuple[VerificationCase, Conclusion | None, int]], str | None]:
    """A page of cases, each with its conclusion's headline figures and its baseline's number of periods: the frozen
    baseline itself and the conclusion's computation stay in the database (docs/performance.md "Lists")."""
    periods = func.jsonb_array_length(VerificationCase.baseline).label("period_count")
    statement = select(VerificationCase, periods).options(defer(VerificationCase.baseline, raiseload=True))
    visible = visibility_filter(principal)
    if visible is not None:
        statement = statement.where(visible)
    equal_first: list[Any] = []
    if status is not None:
        statement = statement.where(VerificationCase.status == status)
        equal_first.append(VerificationCase.status)
    if sector:
        statement = statement.where(VerificationCase.sector_code == sector)
        equal_first = equal_first or [VerificationCase.sector_code]
    if application_id is not None:
        statement = statement.where(VerificationCase.application_id == application_id)
    rows, next_cursor = await keyset_page(
        session,
        statement,
        order_by=[VerificationCase.id],
        key=lambda row: [row[0].id],
        limit=limit,
        cursor=cursor,
        equal_first=equal_first,
    )
    conclusions: dict[uuid.UUID, Conclusion] = {}
    if rows:
        in_page = Conclusion.case_id.in_([case.id for case, _ in rows])  # type: ignore[attr-defined]
        listed = select(Conclusion).where(in_page).options(load_only(*LISTED_CONCLUSION, raiseload=True))
        conclusions = {c.case_id: c for c in (await session.exec(listed)).all()}
    return [(case, conclusions.get(case.id), count) for case, count in rows], next_cursor
