"""Payment and recovery steps of a tranche: `POST /api/v1/applications/{id}/tranches/{tranche_id}/<step>`, If-Match =
the tranche's version (its `ETag`), answered with the tranche after the step. Each step goes through the kit's change
pipeline (`TrancheChange`: read access → the tranche locked → If-Match → the step → commit → ETag)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Query, Response

from cleanprod_kit.auth import require_roles
from cleanprod_kit.changes import Change
from cleanprod_kit.db import SessionDep
from cleanprod_kit.pagination import CursorParam, LimitParam, Page
from cleanprod_kit.roles import Role

from ..applications.models import Application
from ..deps import TrancheChange
from ..grants.models import Tranche, TrancheStatus
from ..grants.schemas import TranchePublic
from . import service
from .schemas import CollectionBody, PaidBody, PaymentWorkItem

router = APIRouter(prefix="/api/v1/applications/{application_id}/tranches/{tranche_id}", tags=["payments"])
work_list_router = APIRouter(prefix="/api/v1/applications", tags=["payments"])
STEP_RESPONSES: dict[int | str, dict[str, str]] = {
    403: {"description": "Four-eyes: the same person may not take two steps of one payment"},
    404: {"description": "No such application or tranche"},
    409: {"description": "The tranche is not at this step"},
}


async def _locked(change: Change[Tranche]) -> tuple[Application, Tranche]:
    """The tranche locked (If-Match checked) and its application (already read by the access check)."""
    tranche = await change.lock()
    application = await change.session.get(Application, tranche.application_id)
    assert application is not None  # the access check read it
    return application, tranche


@router.post(
    "/prepare",
    response_model=TranchePublic,
    dependencies=[Depends(require_roles(Role.FINANCE))],
    responses=STEP_RESPONSES,
)
async def prepare(change: TrancheChange, response: Response) -> TranchePublic:
    """payable → prepared: finance draws up the payment order."""
    application, tranche = await _locked(change)
    await service.prepare(change.session, change.principal, application, tranche)
    return await change.answer(response, TranchePublic)


@router.post(
    "/approve",
    response_model=TranchePublic,
    dependencies=[Depends(require_roles(Role.OFFICER))],
    responses=STEP_RESPONSES,
)
async def approve(change: TrancheChange, response: Response) -> TranchePublic:
    """prepared → approved: an officer other than the preparer approves the payment."""
    application, tranche = await _locked(change)
    await service.approve(change.session, change.principal, application, tranche)
    return await change.answer(response, TranchePublic)


@router.post(
    "/paid",
    response_model=TranchePublic,
    dependencies=[Depends(require_roles(Role.FINANCE))],
    responses=STEP_RESPONSES,
)
async def mark_paid(body: PaidBody, change: TrancheChange, response: Response) -> TranchePublic:
    """approved → paid, with the value date, the treasury/bank reference and the amount (the tranche's)."""
    application, tranche = await _locked(change)
    await service.mark_paid(change.session, change.principal, application, tranche, body)
    return await change.answer(response, TranchePublic)


@router.post(
    "/collections",
    response_model=TranchePublic,
    dependencies=[Depends(require_roles(Role.FINANCE))],
    responses=STEP_RESPONSES,
)
async def collect(body: CollectionBody, change: TrancheChange, response: Response) -> TranchePublic:
    """A part of a recovery collected; the recovery becomes `recovered` once collected in full."""
    application, tranche = await _locked(change)
    await service.collect(change.session, change.principal, application, tranche, body)
    return await change.answer(response, TranchePublic)


@work_list_router.get(
    "/tranches",
    response_model=Page[PaymentWorkItem],
    dependencies=[Depends(require_roles(Role.FINANCE, Role.OFFICER, Role.AUDITOR))],
)
async def payment_work_list(
    session: SessionDep,
    status: Annotated[list[TrancheStatus] | None, Query(description="Repeatable; default: every open step")] = None,
    limit: LimitParam = 50,
    cursor: CursorParam = None,
) -> Page[PaymentWorkItem]:
    """The payment work list ("Thanh toán"): tranches across all applications that wait for a step — payable
    (finance prepares), prepared (an officer approves), approved (finance marks paid), recovery_due (finance
    collects) — oldest first, with the dossier, the enterprise and the funding source."""
    items, next_cursor = await service.work_list(
        session, status or list(service.OPEN_STEPS), limit=limit, cursor=cursor
    )
    return Page(items=items, next_cursor=next_cursor)
