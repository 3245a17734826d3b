"""Applications: drafts created and edited by enterprise staff, and read according to `..access`. Every
transition of the lifecycle (submission, withdrawal, start, completion, decision, verdict) is `flows.py`'s."""

from __future__ import annotations

import datetime as dt
import uuid
from dataclasses import dataclass
from typing import Any

from sqlalchemy import and_, bindparam, func, not_
from sqlalchemy.orm import load_only
from sqlmodel import select
from sqlmodel.ext.asyncio.session import AsyncSession

from cleanprod_kit.audit import audit_page, field_changes, queue_audit, snapshot
from cleanprod_kit.auth import Principal
from cleanprod_kit.changes import public_from
from cleanprod_kit.errors import Conflict, Forbidden, NotFound, Unprocessable, field_error
from cleanprod_kit.idempotency import ReadWithAnswer
from cleanprod_kit.models import AuditEntry, utcnow
from cleanprod_kit.pagination import page_by_id
from cleanprod_kit.rows import queue_row, row_of
from cleanprod_kit.search import matches_all_words
from cleanprod_kit.tax_codes import canonical, same_tax_code

from ..access import owns, sees_department_view, sees_internal, visibility_filter
from ..calls.models import Call
from ..calls.service import rubric_of, today
from ..db_types import touch
from ..domain import ApplicationStatus, allowed_actions, egov_status, summarise_reviews
from ..domain.deadlines import RUNNING_STATUSES
from ..domain.support_types import DEFAULT_SUPPORT_TYPE
from ..grants.models import Tranche
from ..grants.schemas import TranchePublic
from ..grants.service import tranches_of
from ..registry import FacilityFacts
from ..reviews.models import ReviewerAssignment
from ..reviews.service import assignments_of
from . import completeness, deadlines
from .audit import audit_application
from .models import ENTITY, Application
from .schemas import (
    REQUIRED_TO_SUBMIT,
    ApplicationCreate,
    ApplicationPublic,
    ApplicationSummary,
    ApplicationUpdate,
    CarrierClaim,
    HistoryEntry,
    ReviewSummaryPublic,
    Supplier,
)

EDITABLE = frozenset({ApplicationStatus.DRAFT, ApplicationStatus.CHANGES_REQUESTED})
INTERNAL_ACTIONS = frozenset(
    {"assign_reviewer", "declare_conflict", "submit_review", "post_internal_message", "attach_internal_document"}
)
"""History entries an enterprise does not see: who reviews its dossier and what they wrote stay internal, and so do
the Department's internal messages and their attachments."""


# ---- representation ----------------------------------------------------------------------------------------------


def review_summary(call: Call, assignments: list[ReviewerAssignment]) -> ReviewSummaryPublic:
    summary = summarise_reviews(rubric_of(call), [a.as_review() for a in assignments], call.pass_score_pct)
    return ReviewSummaryPublic(
        assigned=len(assignments),
        recused=sum(1 for a in assignments if a.recused),
        counted=summary.counted,
        min_reviews=call.min_reviews,
        mean_score_pct=float(summary.mean.percent) if summary.mean else None,
        pass_score_pct=float(call.pass_score_pct),
        passed=summary.passed,
    )


def to_public(
    application: Application, tranches: list[Tranche], summary: ReviewSummaryPublic | None = None
) -> ApplicationPublic:
    """The stored columns by name; only what is derived (e-gov code, actions, clock, completeness, …) is listed."""
    code = egov_status(application.status, supplement_requested=application.open_supplement_id is not None)
    supplier = (
        Supplier.model_construct(name=application.supplier_name, tax_code=application.supplier_tax_code)
        if application.supplier_name
        else None
    )
    return public_from(
        ApplicationPublic,
        application,
        egov_status=code.value if code is not None else None,
        allowed_actions=sorted(allowed_actions(application.status)),
        supplier=supplier,
        clock_stopped_at=deadlines.clock_stopped_since(application),
        overdue=deadlines.is_overdue(application, utcnow()),
        review_summary=summary,
        tranches=[TranchePublic.model_validate(t, from_attributes=True) for t in tranches],
        missing_fields=completeness.missing_fields(content_values(application)),
    )


async def public_view(session: AsyncSession, principal: Principal, application: Application) -> ApplicationPublic:
    approved = application.approved_support_vnd is not None  # tranches exist only from approval on
    tranches = await tranches_of(session, application) if approved else []
    summary = None
    if sees_department_view(principal):
        call = await session.get(Call, application.call_id)
        assert call is not None  # foreign key
        summary = review_summary(call, await assignments_of(session, application.id))
    return to_public(application, tranches, summary)


# ---- drafts ------------------------------------------------------------------------------------------------------


def _claims_json(claims: list[CarrierClaim]) -> list[dict[str, Any]]:
    return [c.model_dump(mode="json", exclude_none=True) for c in claims]


def applicant_tax_code(principal: Principal) -> str:
    if not principal.tax_code:
        raise Forbidden(code="no_enterprise_account")
    return principal.tax_code


def check_facility(principal: Principal, facility_id: uuid.UUID, facts: FacilityFacts | None) -> FacilityFacts:
    if facts is None or not same_tax_code(facts.enterprise_tax_code, principal.tax_code):
        # A facility of another enterprise is answered like a missing one: its existence is not disclosed.
        raise NotFound(
            code="facility_not_yours",
            params={"facility_id": str(facility_id)},
            errors=[field_error("facility_id", None, "facility_not_yours", facility_id=str(facility_id))],
        )
    if facts.facility_status != "active":
        params = {"facility_id": str(facility_id), "facility_status": facts.facility_status}
        raise Unprocessable(
            code="facility_inactive",
            params=params,
            errors=[field_error("facility_id", None, "facility_inactive", **params)],
        )
    return facts


def content_values(application: Application) -> dict[str, Any]:
    """The dossier's content as the completeness rules read it."""
    return {name: getattr(application, name) for name in REQUIRED_TO_SUBMIT}


@dataclass(frozen=True)
class DraftCall:
    """What a new draft needs of its call."""

    id: uuid.UUID
    code: str
    closes_on: dt.date
    support_types: list[str]


DRAFT_CALL = ReadWithAnswer(
    select(Call.id, Call.code, Call.closes_on, Call.support_types).where(Call.id == bindparam("call_id"))
)
"""Read on the read pool, outside any transaction (a create is one autocommitted statement: `insert_once`), in
the same statement as the Idempotency-Key's look-up."""


def create_application(
    session: AsyncSession,
    principal: Principal,
    data: ApplicationCreate,
    facts: FacilityFacts,
    found_call: dict[str, Any] | None,
) -> Application:
    """A new draft: queued rows only (the application and its audit entry), written by the caller's one
    statement (`insert_once`); `found_call` is `DRAFT_CALL`'s row for `data.call_id` (None: no such call)."""
    call = DraftCall(**found_call) if found_call is not None else None
    if call is None:
        raise Unprocessable(
            code="unknown_call",
            params={"call_id": str(data.call_id)},
            errors=[field_error("call_id", None, "unknown_call", call_id=str(data.call_id))],
        )
    if call.closes_on < today():
        raise Unprocessable(
            code="call_closed",
            params={"call": call.code, "closes_on": call.closes_on},
            errors=[field_error("call_id", None, "call_closed", call=call.code, closes_on=call.closes_on)],
        )
    values = data.model_dump(exclude={"call_id", "facility_id", "supplier", "claimed_savings", "support_type"})
    support_type = ensure_funded_type(call, data.support_type or DEFAULT_SUPPORT_TYPE)
    application = Application(
        **values,
        support_type=support_type,
        call_id=call.id,
        facility_id=facts.facility_id,
        facility_name=facts.facility_name,
        enterprise_id=facts.enterprise_id,
        enterprise_tax_code=canonical(facts.enterprise_tax_code),
        enterprise_name=facts.enterprise_name,
        sector_code=facts.sector_code,
        ward=facts.ward,
        district=facts.district,
        supplier_name=data.supplier.name if data.supplier else None,
        supplier_tax_code=data.supplier.tax_code if data.supplier else None,
        claimed_savings=_claims_json(data.claimed_savings or []),
        created_by=principal.display_name,
    )
    # Written at commit with its audit entry (and the idempotency record) in one statement; the answer is built
    # from this object, which no query reads back (its search text is computed by PostgreSQL, and not answered).
    queue_row(session, Application.__table__, row_of(application))  # type: ignore[attr-defined]
    queue_audit(
        session,
        principal,
        entity_type=ENTITY,
        entity_id=application.id,
        action="create",
        to_state=str(application.status),
        details={
            "call_id": str(call.id),
            "facility_id": str(facts.facility_id),
            "fields": sorted(data.model_fields_set - {"call_id", "facility_id"}),
        },
    )
    return application


def ensure_funded_type(call: Call | DraftCall, support_type: str) -> str:
    """The support type, if the call funds it (422 `support_type_not_funded` otherwise)."""
    if str(support_type) not in call.support_types:
        params = {"support_type": str(support_type), "funded": ", ".join(call.support_types)}
        raise Unprocessable(
            code="support_type_not_funded",
            params=params,
            errors=[field_error("support_type", None, "support_type_not_funded", **params)],
        )
    return str(support_type)


def check_draft_body(data: ApplicationCreate | ApplicationUpdate) -> None:
    """422 before any other work: nulls where a field is not nullable, and the draft's cross-field rules among
    the fields sent (create; PATCH checks them again against the stored values)."""
    completeness.refuse(completeness.null_errors(data) + completeness.draft_errors(data.model_dump()))


async def update_application(
    session: AsyncSession, principal: Principal, application: Application, data: ApplicationUpdate
) -> None:
    if not owns(principal, application):
        raise Forbidden(code="not_your_application")
    if application.status not in EDITABLE:
        raise Conflict(
            code="not_editable",
            slug="not-editable",
            params={"status": str(application.status)},
            status_now=str(application.status),
        )
    completeness.refuse(completeness.null_errors(data))
    changes = data.model_dump(exclude_unset=True)
    if "support_type" in changes:
        call = await session.get(Call, application.call_id)
        assert call is not None  # foreign key
        changes["support_type"] = ensure_funded_type(call, changes["support_type"])
    before = snapshot(application)
    if "supplier" in changes:
        supplier = data.supplier
        application.supplier_name = supplier.name if supplier else None
        application.supplier_tax_code = supplier.tax_code if supplier else None
    if "claimed_savings" in changes:
        application.claimed_savings = _claims_json(data.claimed_savings or [])
    for name, value in changes.items():
        if name not in ("supplier", "claimed_savings"):
            setattr(application, name, value)
    completeness.refuse(completeness.draft_errors(content_values(application)))
    touch(application)
    audit_application(
        session,
        principal,
        application,
        "update",
        details={"fields": sorted(changes)},
        changes=field_changes(before, snapshot(application)),
    )


# ---- lists and history -------------------------------------------------------------------------------------------


def _list_conditions(
    principal: Principal,
    *,
    status: ApplicationStatus | None,
    call_id: uuid.UUID | None,
    enterprise_id: uuid.UUID | None,
    tax_code: str | None,
    dossier_code: str | None,
    q: str | None,
    overdue: bool | None,
    sector_code: str | None,
    ward: str | None = None,
    district: str | None = None,
) -> list[Any]:
    """The list's WHERE clauses: what the caller may read, then each filter given."""
    visible = visibility_filter(principal)
    conditions: list[Any] = [visible] if visible is not None else []
    equal_to = [
        (Application.status, status),
        (Application.call_id, call_id),
        (Application.enterprise_id, enterprise_id),
        (Application.enterprise_tax_code, canonical(tax_code) if tax_code else None),
        (Application.dossier_code, dossier_code),
        (Application.sector_code, sector_code),
    ]
    conditions += [column == value for column, value in equal_to if value]
    # A place matches whatever its accents and case ("phuong bo de" finds "Phường Bồ Đề").
    conditions += [
        func.cp_fold(column) == func.cp_fold(value)
        for column, value in ((Application.ward, ward), (Application.district, district))
        if value
    ]
    if q and (words := matches_all_words(Application.search_text, q)) is not None:
        conditions.append(words)
    if overdue is not None:
        # Two-valued (due_at IS NOT NULL first), so overdue=false is exactly the complement.
        late = and_(
            Application.status.in_([str(s) for s in RUNNING_STATUSES]),  # type: ignore[attr-defined]
            Application.due_at.is_not(None),
            Application.due_at < utcnow(),
        )  # type: ignore[union-attr,operator]
        conditions.append(late if overdue else not_(late))
    return conditions


def _equal_first(
    *, status: ApplicationStatus | None, call_id: uuid.UUID | None, enterprise_id: uuid.UUID | None
) -> list[Any]:
    """The filtered column whose `(column, id)` index should serve the page (kit `page_by_id`): the status first
    (an officer's work queue), then the call, then the enterprise."""
    for column, value in (
        (Application.status, status),
        (Application.call_id, call_id),
        (Application.enterprise_id, enterprise_id),
    ):
        if value:
            return [column]
    return []


async def _tranches_by_application(session: AsyncSession, rows: list[Application]) -> dict[uuid.UUID, list[Tranche]]:
    """Every listed application's tranches, in one query."""
    by_application: dict[uuid.UUID, list[Tranche]] = {a.id: [] for a in rows}
    if rows:
        tranches = await session.exec(
            select(Tranche)
            .where(Tranche.application_id.in_(list(by_application)))  # type: ignore[attr-defined]
            .order_by(Tranche.created_at, Tranche.kind)
        )  # type: ignore[arg-type]
        for tranche in tranches.all():
            by_application[tranche.application_id].append(tranche)
    return by_application


async def list_applications(
    session: AsyncSession,
    principal: Principal,
    *,
    status: ApplicationStatus | None,
    call_id: uuid.UUID | None,
    enterprise_id: uuid.UUID | None,
    tax_code: str | None,
    dossier_code: str | None,
    q: str | None,
    limit: int,
    cursor: str | None,
    overdue: bool | None = None,
    sector_code: str | None = None,
    ward: str | None = None,
    district: str | None = None,
) -> tuple[list[ApplicationPublic], str | None]:
    conditions = _list_conditions(
        principal,
        status=status,
        call_id=call_id,
        enterprise_id=enterprise_id,
        tax_code=tax_code,
        dossier_code=dossier_code,
        q=q,
        overdue=overdue,
        sector_code=sector_code,
        ward=ward,
        district=district,
    )
    rows, next_cursor = await page_by_id(
        session,
        select(Application).where(*conditions),
        Application.id,
        limit=limit,
        cursor=cursor,
        equal_first=_equal_first(status=status, call_id=call_id, enterprise_id=enterprise_id),
    )
    by_application = await _tranches_by_application(session, rows)
    return [to_public(a, by_application[a.id]) for a in rows], next_cursor


SUMMARY_COLUMNS = ("id", "status", "dossier_code", "facility_name", "open_supplement_id", *REQUIRED_TO_SUBMIT)
"""What a summary line reads: its fields and what `missing_fields` is computed from — no tranches, no other column."""


async def list_summaries(
    session: AsyncSession, principal: Principal, *, limit: int, cursor: str | None, **filters: Any
) -> tuple[list[ApplicationSummary], str | None]:
    """The list's rows (same filters, rights, order and cursor as `list_applications`) as summary lines."""
    conditions = _list_conditions(principal, **filters)
    statement = (
        select(Application)
        .where(*conditions)
        .options(load_only(*[getattr(Application, c) for c in SUMMARY_COLUMNS], raiseload=True))
    )
    rows, next_cursor = await page_by_id(
        session,
        statement,
        Application.id,
        limit=limit,
        cursor=cursor,
        equal_first=_equal_first(
            status=filters["status"], call_id=filters["call_id"], enterprise_id=filters["enterprise_id"]
        ),
    )
    return [
        ApplicationSummary.model_construct(
            id=a.id,
            status=ApplicationStatus(a.status),
            dossier_code=a.dossier_code,
            facility_name=a.facility_name,
            title=a.title,
            requested_support_vnd=a.requested_support_vnd,
            open_supplement_id=a.open_supplement_id,
            missing_fields=completeness.missing_fields(content_values(a)),
        )
        for a in rows
    ], next_cursor


async def history(
    session: AsyncSession, principal: Principal, application: Application, *, limit: int, cursor: str | None
) -> tuple[list[HistoryEntry], str | None]:
    condition = and_(AuditEntry.entity_type == ENTITY, AuditEntry.entity_id == str(application.id))
    if not sees_internal(principal):
        condition = and_(condition, AuditEntry.action.not_in(INTERNAL_ACTIONS))  # type: ignore[attr-defined]
    records, next_cursor = await audit_page(session, condition, limit=limit, cursor=cursor)
    return [HistoryEntry.of(r) for r in records], next_cursor
