"""Assigning a verifier (officers) and the verifier's declaration of independence from the enterprise and its
technology supplier. A declared conflict blocks the assignment: the case waits in `conflict` until an officer
assigns someone else, and the conflicted verifier can never be assigned to that case again."""

from __future__ import annotations

from typing import Any

from sqlmodel import select
from sqlmodel.ext.asyncio.session import AsyncSession

from cleanprod_contracts.v1 import events
from cleanprod_kit.audit import field_changes, record_audit, snapshot
from cleanprod_kit.auth import Principal
from cleanprod_kit.changes import public_from
from cleanprod_kit.errors import Conflict, Forbidden, field_error
from cleanprod_kit.models import utcnow
from cleanprod_kit.outbox import emit

from ..access import is_assigned_verifier
from ..cases.models import CaseStatus, VerificationCase
from ..cases.service import ENTITY
from ..db_types import touch
from .models import AssignmentStatus, VerifierAssignment
from .schemas import AssignmentBody, AssignmentPublic, AssignmentState, DeclarationBody

# What an assignment changes on the case (its audit entry carries them old → new).
ASSIGNED_FIELDS = ("verifier_subject", "verifier_username", "status")


async def assignments_of(session: AsyncSession, case_id: object) -> list[VerifierAssignment]:
    order: list[Any] = [VerifierAssignment.assigned_at, VerifierAssignment.id]
    rows = await session.exec(select(VerifierAssignment).where(VerifierAssignment.case_id == case_id).order_by(*order))
    return list(rows.all())


def _current(case: VerificationCase, rows: list[VerifierAssignment]) -> VerifierAssignment | None:
    for row in reversed(rows):
        if row.replaced_at is None and row.verifier_subject == case.verifier_subject:
            return row
    return None


def to_public(row: VerifierAssignment) -> AssignmentPublic:
    return public_from(AssignmentPublic, row, assigned_by=row.assigned_by_name or row.assigned_by_subject)


async def state(session: AsyncSession, case: VerificationCase) -> AssignmentState:
    rows = await assignments_of(session, case.id)
    current = _current(case, rows)
    return AssignmentState(
        case_id=case.id,
        case_status=case.status,
        case_version=case.version,
        current=to_public(current) if current else None,
        history=[to_public(r) for r in rows],
    )


async def assign(session: AsyncSession, principal: Principal, case: VerificationCase, body: AssignmentBody) -> None:
    """Assign (or replace) the case's verifier. `case` is row-locked and its If-Match already checked."""
    if case.status == CaseStatus.CONCLUDED:
        raise Conflict("The verification is concluded; its verifier can no longer change.", slug="case-concluded")
    rows = await assignments_of(session, case.id)
    if any(r.verifier_subject == body.verifier_subject and r.status == AssignmentStatus.CONFLICT for r in rows):
        raise Conflict(
            code="verifier_declared_conflict",
            params={"verifier": body.verifier_username},
            errors=[
                field_error("verifier_subject", None, "verifier_declared_conflict", verifier=body.verifier_username)
            ],
        )
    current = _current(case, rows)
    if current is not None and current.verifier_subject == body.verifier_subject:
        raise Conflict(
            code="verifier_already_assigned",
            params={"verifier": body.verifier_username},
            errors=[
                field_error("verifier_subject", None, "verifier_already_assigned", verifier=body.verifier_username)
            ],
        )
    now = utcnow()
    if current is not None:
        current.replaced_at = now
        if current.status != AssignmentStatus.CONFLICT:
            current.status = AssignmentStatus.REPLACED
    previous_status = case.status
    before = snapshot(case, ASSIGNED_FIELDS)
    row = VerifierAssignment(
        case_id=case.id,
        verifier_subject=body.verifier_subject,
        verifier_username=body.verifier_username,
        note=body.note,
        assigned_by_subject=principal.subject,
        assigned_by_name=principal.full_name or principal.display_name,
        assigned_at=now,
    )
    session.add(row)
    case.verifier_subject = body.verifier_subject
    case.verifier_username = body.verifier_username
    case.status = CaseStatus.ASSIGNED
    touch(case)
    replaced = f"; replaces {current.verifier_username}" if current is not None else ""
    record_audit(
        session,
        principal,
        entity_type=ENTITY,
        entity_id=case.id,
        action="assign_verifier",
        from_state=previous_status,
        to_state=case.status,
        reason=(body.note or f"Verifier {body.verifier_username} assigned") + replaced,
        details={
            "verifier_subject": body.verifier_subject,
            "verifier_username": body.verifier_username,
            "replaced": current.verifier_subject if current is not None else None,
        },
        changes=field_changes(before, snapshot(case, ASSIGNED_FIELDS)),
    )
    emit(
        session,
        "verification.verifier_assigned",
        aggregate_type=ENTITY,
        aggregate_id=case.id,
        payload=events.VerifierAssigned(  # the applications service grants the verifier read access by it
            verification_id=str(case.id),
            application_id=case.application_id,
            verifier_subject=body.verifier_subject,
            verifier_username=body.verifier_username,
            replaced_subject=current.verifier_subject if current is not None else None,
            status=case.status,
        ).payload(),
    )


def ensure_declarer(principal: Principal, case: VerificationCase) -> None:
    if not is_assigned_verifier(principal, case):
        raise Forbidden(
            "Only the verifier assigned to this case can make its declaration of independence.",
            code="not_assigned_verifier",
        )


async def declare(session: AsyncSession, principal: Principal, case: VerificationCase, body: DeclarationBody) -> None:
    """The assigned verifier's declaration. `case` is row-locked and its If-Match already checked."""
    ensure_declarer(principal, case)
    if case.status != CaseStatus.ASSIGNED:
        raise Conflict(
            f"The case is '{case.status}': the declaration for this assignment was already made.",
            slug="already-declared",
        )
    row = _current(case, await assignments_of(session, case.id))
    if row is None:  # the case names a verifier without an assignment row: data written outside this service
        raise Conflict(code="no_open_assignment")
    row.independent = body.independent
    row.statement = body.statement
    row.declared_at = utcnow()
    row.declared_against = {
        "enterprise": {"tax_code": case.enterprise_tax_code, "name": case.enterprise_name},
        "supplier": (
            {"tax_code": case.supplier_tax_code, "name": case.supplier_name}
            if case.supplier_name or case.supplier_tax_code
            else None
        ),
    }
    row.status = AssignmentStatus.INDEPENDENT if body.independent else AssignmentStatus.CONFLICT
    previous_status = case.status
    case.status = CaseStatus.MEASURING if body.independent else CaseStatus.CONFLICT
    touch(case)
    record_audit(
        session,
        principal,
        entity_type=ENTITY,
        entity_id=case.id,
        action="declare_independence" if body.independent else "declare_conflict",
        from_state=previous_status,
        to_state=case.status,
        reason=body.statement,
        details={
            "assignment_id": str(row.id),
            "independent": body.independent,
            "declared_against": row.declared_against,
        },
    )
    emit(
        session,
        "verification.verifier_declared",
        aggregate_type=ENTITY,
        aggregate_id=case.id,
        payload=events.VerifierDeclared(
            verification_id=case.id,
            application_id=case.application_id,
            independent=body.independent,
            status=case.status,
        ).payload(),
    )
