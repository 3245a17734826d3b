"""Payment bookkeeping of the tranches (docs/applications.md "Money"): a payable tranche is prepared by finance,
approved by an officer, then marked paid by finance with the treasury/bank confirmation; a recovery raised by the
settlement is collected by finance, possibly in parts. Every step locks the tranche row, checks its If-Match, and
writes an audit entry on the application and an `application.*` event (`TrancheEvent`, aggregate `application`,
so the e-government subscribers of the dossier see it) in the same transaction.

Four-eyes: the person who prepared a payment may not approve it, and the officer who approved it may not mark it
paid (a person with both roles included). The finance person who prepared it may mark it paid: recording the
treasury's confirmation is bookkeeping of what a third party did, and the approval between the two steps is the
control.
"""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Any

from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from cleanprod_contracts.v1 import events
from cleanprod_kit.audit import record_audit
from cleanprod_kit.auth import Principal
from cleanprod_kit.errors import Conflict, Forbidden, NotFound, Unprocessable, field_error
from cleanprod_kit.models import utcnow
from cleanprod_kit.outbox import emit
from cleanprod_kit.pagination import page_by_id

from ..applications.models import ENTITY, Application
from ..calls.service import today
from ..db_types import touch
from ..domain import local_date
from ..funding.models import FundingSource
from ..grants.models import RecoveryCollection, Tranche, TrancheKind, TrancheStatus
from ..grants.schemas import TranchePublic
from ..notifications import rules as notification_rules
from .schemas import CollectionBody, PaidBody, PaymentWorkItem

PAYMENTS = (TrancheKind.ADVANCE, TrancheKind.BALANCE)
EVENT_TYPES: dict[str, str] = {
    "payment_prepared": "application.payment_prepared",
    "payment_approved": "application.payment_approved",
    "paid": "application.tranche_paid",
    "recovery_collected": "application.recovery_collected",
}
"""Each bookkeeping step → its event type (libs/contracts v1 `TrancheEvent`)."""
OPEN_STEPS = (TrancheStatus.PAYABLE, TrancheStatus.PREPARED, TrancheStatus.APPROVED, TrancheStatus.RECOVERY_DUE)
"""The statuses on the payment work list by default: each waits for someone's step."""


async def work_list(
    session: AsyncSession, statuses: list[TrancheStatus], *, limit: int, cursor: str | None
) -> tuple[list[PaymentWorkItem], str | None]:
    """The tranches in `statuses` across all applications, oldest first (tranche ids are time-ordered)."""
    statement = (
        select(Tranche, Application, FundingSource)
        .join(Application, col(Application.id) == col(Tranche.application_id))
        .join(FundingSource, col(FundingSource.id) == col(Tranche.source_id))
        .where(col(Tranche.status).in_([str(s) for s in statuses]))
    )
    rows, next_cursor = await page_by_id(session, statement, Tranche.id, limit=limit, cursor=cursor)
    items = [
        PaymentWorkItem(
            application_id=application.id,
            dossier_code=application.dossier_code,
            title=application.title,
            enterprise_name=application.enterprise_name,
            source_code=source.code,
            source_name=source.name,
            tranche=TranchePublic.model_validate(tranche, from_attributes=True),
        )
        for tranche, application, source in rows
    ]
    return items, next_cursor


async def tranche_of(session: AsyncSession, application: Application, tranche_id: uuid.UUID) -> Tranche:
    tranche = await session.get(Tranche, tranche_id)
    if tranche is None or tranche.application_id != application.id:
        raise NotFound(code="tranche_not_found", params={"tranche_id": str(tranche_id)})
    return tranche


def _ensure(tranche: Tranche, step: str, kinds: tuple[TrancheKind, ...], status: TrancheStatus) -> None:
    if tranche.kind not in kinds or tranche.status != status:
        raise Conflict(
            code="payment_step_not_allowed",
            params={"kind": str(tranche.kind), "status": str(tranche.status), "step": step},
            status_now=str(tranche.status),
        )


async def _record(
    session: AsyncSession,
    principal: Principal,
    application: Application,
    tranche: Tranche,
    action: str,
    previous: str,
    *,
    details: dict[str, Any] | None = None,
    collection: dict[str, Any] | None = None,
) -> None:
    touch(tranche)
    source = await session.get(FundingSource, tranche.source_id)
    assert source is not None  # foreign key
    record_audit(
        session,
        principal,
        entity_type=ENTITY,
        entity_id=application.id,
        action=f"tranche_{action}",
        from_state=previous,
        to_state=str(tranche.status),
        details={
            "tranche_id": str(tranche.id),
            "kind": str(tranche.kind),
            "source": source.code,
            "amount_vnd": tranche.amount_vnd,
            **(details or {}),
        },
    )
    emit(
        session,
        EVENT_TYPES[action],
        aggregate_type=ENTITY,
        aggregate_id=application.id,
        payload=events.TrancheEvent(
            application_id=application.id,
            dossier_code=application.dossier_code,
            action=action,
            actor=events.Actor(subject=principal.subject, name=principal.display_name, role=principal.primary_role),
            tranche_id=tranche.id,
            kind=str(tranche.kind),
            source_code=source.code,
            tranche_status=str(tranche.status),
            previous_tranche_status=previous,
            amount_vnd=tranche.amount_vnd,
            paid_vnd=tranche.paid_vnd,
            paid_on=tranche.paid_on,
            payment_reference=tranche.payment_reference,
            collected_vnd=tranche.collected_vnd,
            version=tranche.version,
            collection=collection,
        ).payload(),
    )


async def prepare(session: AsyncSession, principal: Principal, application: Application, tranche: Tranche) -> None:
    """payable → prepared (finance draws up the payment order)."""
    _ensure(tranche, "prepared", PAYMENTS, TrancheStatus.PAYABLE)
    tranche.status = TrancheStatus.PREPARED
    tranche.prepared_by, tranche.prepared_by_name, tranche.prepared_at = (
        principal.subject,
        principal.display_name,
        utcnow(),
    )
    await _record(session, principal, application, tranche, "payment_prepared", str(TrancheStatus.PAYABLE))


async def approve(session: AsyncSession, principal: Principal, application: Application, tranche: Tranche) -> None:
    """prepared → approved (an officer; never the one who prepared it)."""
    _ensure(tranche, "approved", PAYMENTS, TrancheStatus.PREPARED)
    if tranche.prepared_by == principal.subject:
        raise Forbidden(code="preparer_cannot_approve")
    tranche.status = TrancheStatus.APPROVED
    tranche.approved_by, tranche.approved_by_name, tranche.approved_at = (
        principal.subject,
        principal.display_name,
        utcnow(),
    )
    await _record(session, principal, application, tranche, "payment_approved", str(TrancheStatus.PREPARED))


def _check_day(day: dt.date, name: str, earliest: dt.date | None) -> None:
    if day > today():
        raise Unprocessable(
            code="future_date",
            params={"today": today()},
            errors=[field_error(name, None, "future_date", today=today())],
        )
    if earliest is not None and day < earliest:
        params = {"approved_on": earliest}
        raise Unprocessable(
            code="paid_before_approval",
            params=params,
            errors=[field_error(name, None, "paid_before_approval", **params)],
        )


async def mark_paid(
    session: AsyncSession, principal: Principal, application: Application, tranche: Tranche, body: PaidBody
) -> None:
    """approved → paid, with the treasury/bank confirmation (finance; never the officer who approved it)."""
    _ensure(tranche, "marked paid", PAYMENTS, TrancheStatus.APPROVED)
    if tranche.approved_by == principal.subject:
        raise Forbidden(code="approver_cannot_mark_paid")
    if body.amount_vnd != tranche.amount_vnd:
        params = {"amount": tranche.amount_vnd}
        raise Unprocessable(
            code="paid_amount_mismatch",
            params=params,
            errors=[field_error("amount_vnd", None, "paid_amount_mismatch", **params)],
        )
    _check_day(body.paid_on, "paid_on", local_date(tranche.approved_at) if tranche.approved_at else None)
    tranche.status = TrancheStatus.PAID
    tranche.paid_on, tranche.paid_vnd, tranche.payment_reference = body.paid_on, body.amount_vnd, body.reference
    tranche.paid_recorded_by = principal.display_name
    await _record(
        session,
        principal,
        application,
        tranche,
        "paid",
        str(TrancheStatus.APPROVED),
        details={"paid_on": body.paid_on.isoformat(), "reference": body.reference},
    )
    await notification_rules.tranche_paid(session, application, tranche)


async def collect(
    session: AsyncSession, principal: Principal, application: Application, tranche: Tranche, body: CollectionBody
) -> RecoveryCollection:
    """A part of a recovery collected (finance); the recovery is `recovered` once collected in full."""
    _ensure(tranche, "collected", (TrancheKind.RECOVERY,), TrancheStatus.RECOVERY_DUE)
    due = (tranche.amount_vnd or 0) - tranche.collected_vnd
    if body.amount_vnd > due:
        raise Conflict(
            code="collection_exceeds_recovery",
            params={"due": due},
            errors=[field_error("amount_vnd", None, "collection_exceeds_recovery", due=due)],
        )
    _check_day(body.collected_on, "collected_on", None)
    collection = RecoveryCollection(
        tranche_id=tranche.id,
        amount_vnd=body.amount_vnd,
        collected_on=body.collected_on,
        reference=body.reference,
        recorded_by=principal.subject,
        recorded_by_name=principal.display_name,
    )
    session.add(collection)
    tranche.collected_vnd += body.amount_vnd
    if tranche.collected_vnd == tranche.amount_vnd:
        tranche.status = TrancheStatus.RECOVERED
    part = {"amount_vnd": body.amount_vnd, "collected_on": body.collected_on.isoformat(), "reference": body.reference}
    await _record(
        session,
        principal,
        application,
        tranche,
        "recovery_collected",
        str(TrancheStatus.RECOVERY_DUE),
        details=part,
        collection=part,
    )
    return collection
