"""Verification cases: opened from the applications service's events, read by the people who may see them."""

from __future__ import annotations

import uuid
from typing import Any

from sqlmodel import select
from sqlmodel.ext.asyncio.session import AsyncSession

from cleanprod_contracts.v1 import events
from cleanprod_contracts.v1.registry import BaselinePeriod, Enterprise, Facility
from cleanprod_kit.audit import field_changes, record_audit, snapshot
from cleanprod_kit.auth import Principal
from cleanprod_kit.errors import Forbidden, NotFound
from cleanprod_kit.models import utcnow
from cleanprod_kit.outbox import emit
from cleanprod_kit.pagination import keyset_page

from ..access import ensure_readable, reads_everything
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


def service_actor(source: str | None) -> Principal:
    name = source or "applications"
    return Principal(subject=f"service:{name}", username=name, roles=frozenset({"service"}))


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
    statement = (select(VerificationCase).where(VerificationCase.application_id == application_id)
                 .with_for_update().execution_options(populate_existing=True))
    return (await session.exec(statement)).first()


async def open_case(session: AsyncSession, registry: RegistryClient, facts: ApplicationFacts, *,
                    actor: Principal, event_id: uuid.UUID | None, min_baseline_periods: int) -> VerificationCase:
    """Open the case of an approved application, freezing the facility's baseline and the claim.
    Idempotent on the application id: an existing case is returned unchanged."""
    existing = await case_for_application(session, facts.application_id)
    if existing is not None:
        return existing
    notes = list(facts.notes)
    facility = await registry.facility(facts.facility_id)
    baseline: list[dict[str, Any]] = []
    enterprise: Enterprise | None = None
    if facility is None:
        notes.append(f"the registry has no facility {facts.facility_id}; no baseline could be frozen")
    else:
        baseline = [frozen_period(p) for p in await registry.baselines(facts.facility_id)]
        if not (facts.enterprise_name and (facts.enterprise_tax_code or facility.enterprise_tax_code)):
            enterprise = await registry.enterprise(facility.enterprise_id)
    if not baseline:
        notes.append("no baseline period is recorded for the facility; savings cannot be computed without one")
    elif len(baseline) < min_baseline_periods:
        notes.append(f"the baseline has {len(baseline)} periods; a regression baseline needs at least "
                     f"{min_baseline_periods}, so savings will be computed by SEC")
    case = VerificationCase(
        application_id=facts.application_id,
        dossier_code=facts.dossier_code,
        facility_id=facts.facility_id,
        facility_name=facts.facility_name or _of(facility, "name"),
        enterprise_id=facts.enterprise_id or _of(facility, "enterprise_id"),
        enterprise_tax_code=(facts.enterprise_tax_code or _of(facility, "enterprise_tax_code")
                             or _of(enterprise, "tax_code")),
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
        baseline=baseline,
        baseline_frozen_at=utcnow(),
        baseline_note="; ".join(notes) or None,
        opened_by_event=event_id,
    )
    session.add(case)
    await session.flush()
    record_audit(session, actor, entity_type=ENTITY, entity_id=case.id, action="open",
                 to_state=CaseStatus.AWAITING_ASSIGNMENT,
                 reason=f"Application {facts.dossier_code or facts.application_id} approved; baseline of "
                        f"{len(baseline)} periods and the claim frozen.",
                 details={"application_id": str(facts.application_id), "event_id": str(event_id) if event_id else None,
                          "baseline_periods": len(baseline), "claimed_overall_pct": facts.claimed_overall_pct,
                          "notes": notes})
    emit(session, "verification.opened", aggregate_type=ENTITY, aggregate_id=case.id,
         payload=events.VerificationOpened(verification_id=case.id, application_id=case.application_id,
                                           dossier_code=case.dossier_code, status=case.status,
                                           baseline_periods=len(baseline)).payload())
    return case


def _of(record: Facility | Enterprise | None, name: str) -> Any:
    """A field of a registry record the registry may not have had (None then)."""
    return getattr(record, name) if record is not None else None


COMPLETION_FIELDS = ("completed_on", "completion_reported_at")


async def note_completion(session: AsyncSession, case: VerificationCase, facts: ApplicationFacts, *,
                          actor: Principal, event_id: uuid.UUID | None) -> None:
    """The project is complete (post-project report filed): the case may now be concluded."""
    if case.completion_reported_at is not None:
        return
    before = snapshot(case, COMPLETION_FIELDS)
    case.completion_reported_at = utcnow()
    case.completed_on = facts.completed_on or case.completion_reported_at.date()
    touch(case)
    record_audit(session, actor, entity_type=ENTITY, entity_id=case.id, action="completion_reported",
                 from_state=case.status, to_state=case.status,
                 reason="The applications service reported the project complete; the case may be concluded.",
                 details={"event_id": str(event_id) if event_id else None,
                          "completed_on": case.completed_on.isoformat()},
                 changes=field_changes(before, snapshot(case, COMPLETION_FIELDS)))


# ---- reading --------------------------------------------------------------------------------------------------

async def get_case(session: AsyncSession, principal: Principal, case_id: uuid.UUID) -> VerificationCase:
    case = await session.get(VerificationCase, case_id)
    if case is None:
        raise NotFound(code="case_not_found", params={"case_id": str(case_id)})
    ensure_readable(principal, case)
    return case


async def conclusion_of(session: AsyncSession, case_id: uuid.UUID) -> Conclusion | None:
    return (await session.exec(select(Conclusion).where(Conclusion.case_id == case_id))).first()


def to_public(case: VerificationCase, conclusion: Conclusion | None, *, with_periods: bool) -> CasePublic:
    return CasePublic(
        id=case.id, application_id=case.application_id, dossier_code=case.dossier_code, status=case.status,
        ready_to_conclude=case.ready_to_conclude, project_title=case.project_title,
        facility=FacilityFacts(id=case.facility_id, name=case.facility_name, sector_code=case.sector_code,
                               products=list(case.products), capacity_quantity=case.capacity_quantity,
                               capacity_unit=case.capacity_unit, ward=case.ward, district=case.district),
        enterprise=EnterpriseFacts(id=case.enterprise_id, tax_code=case.enterprise_tax_code,
                                   name=case.enterprise_name),
        supplier=(SupplierFacts(name=case.supplier_name, tax_code=case.supplier_tax_code)
                  if case.supplier_name or case.supplier_tax_code else None),
        claim=ClaimPublic(overall_percent=case.claimed_overall_pct,
                          per_carrier_percent=dict(case.claimed_per_carrier)),
        approved_support_vnd=case.approved_support_vnd, implementation_start=case.implementation_start,
        implementation_end=case.implementation_end, completed_on=case.completed_on,
        completion_reported_at=case.completion_reported_at,
        baseline=BaselinePublic(frozen_at=case.baseline_frozen_at, period_count=len(case.baseline),
                                note=case.baseline_note, periods=list(case.baseline) if with_periods else None),
        verifier=(VerifierPublic(subject=case.verifier_subject, username=case.verifier_username)
                  if case.verifier_subject else None),
        conclusion=(ConclusionBrief(verdict=conclusion.verdict, verified_savings_pct=conclusion.verified_pct,
                                    achieved_ratio=conclusion.achieved_ratio, method=conclusion.method,
                                    concluded_at=conclusion.concluded_at) if conclusion is not None else None),
        version=case.version, created_at=case.created_at, updated_at=case.updated_at,
    )


async def list_cases(session: AsyncSession, principal: Principal, *, status: CaseStatus | None,
                     sector: str | None, application_id: uuid.UUID | None, limit: int,
                     cursor: str | None) -> tuple[list[tuple[VerificationCase, Conclusion | None]], str | None]:
    statement = select(VerificationCase)
    if not reads_everything(principal):
        if principal.has("verifier"):
            statement = statement.where(VerificationCase.verifier_subject == principal.subject)
        elif principal.has("enterprise"):
            if not principal.tax_code:
                raise Forbidden(code="no_enterprise_account")
            statement = statement.where(VerificationCase.enterprise_tax_code == principal.tax_code)
        else:
            raise Forbidden(code="verification_read_forbidden")
    if status is not None:
        statement = statement.where(VerificationCase.status == status)
    if sector:
        statement = statement.where(VerificationCase.sector_code == sector)
    if application_id is not None:
        statement = statement.where(VerificationCase.application_id == application_id)
    order: list[Any] = [VerificationCase.id]
    cases, next_cursor = await keyset_page(session, statement, order_by=order, key=lambda c: [c.id], limit=limit,
                                           cursor=cursor)
    conclusions: dict[uuid.UUID, Conclusion] = {}
    if cases:
        in_page = Conclusion.case_id.in_([c.id for c in cases])  # type: ignore[attr-defined]
        rows = await session.exec(select(Conclusion).where(in_page))
        conclusions = {c.case_id: c for c in rows.all()}
    return [(c, conclusions.get(c.id)) for c in cases], next_cursor
