"""Who may see and act on applications (object level; the routes check roles first).

- `enterprise` users: only applications of the enterprise whose tax code is in their token; anything else is
  answered 404 (its existence is not disclosed).
- reviewers: only applications they are assigned to (recused or not: they have seen the dossier).
- verifiers: only applications whose verification case is currently assigned to them (the verification
  service owns assignment and announces it with `verification.verifier_assigned`: verifiers/). Others: 404.
- officers, auditors, services and finance: every application. Auditors never write (no write route accepts the role).
- what a caller sees of an application it may read: officers, auditors, services and its verifier see the
  Department's view (review summary, reviews, internal history entries); enterprises and reviewers less.
- `egov` clients: none here; the e-government integration has its own lookup by dossier code.
"""

from __future__ import annotations

import uuid
from typing import Any

from sqlalchemy import ColumnElement, bindparam, false, or_
from sqlmodel import select
from sqlmodel.ext.asyncio.session import AsyncSession

from cleanprod_kit.auth import Principal
from cleanprod_kit.changes import readable_or_404
from cleanprod_kit.errors import NotFound
from cleanprod_kit.roles import Role
from cleanprod_kit.tax_codes import canonical, same_tax_code

from .applications.models import Application
from .calls.models import Call
from .reviews.models import ReviewerAssignment
from .verifiers.models import VerifierAssignment

READ_ALL_ROLES = (Role.OFFICER, Role.AUDITOR, Role.SERVICE, Role.FINANCE)
"""Roles that read every application (finance: to pay and recover; it sees the enterprise's view, no reviews)."""
DEPARTMENT_ROLES = (Role.OFFICER, Role.AUDITOR, Role.SERVICE, Role.VERIFIER)
"""Roles that see an application they may read in full (review summary, reviews, internal history)."""
READ_ROLES = (*DEPARTMENT_ROLES, Role.ENTERPRISE, Role.REVIEWER, Role.FINANCE)
"""Roles that may read some applications (which ones: `ensure_readable`, `visibility_filter`)."""


def reads_all(principal: Principal) -> bool:
    return principal.has(*READ_ALL_ROLES)


def sees_department_view(principal: Principal) -> bool:
    return principal.has(*DEPARTMENT_ROLES)


def sees_internal(principal: Principal) -> bool:
    """Internal history entries, internal messages and their attachments: the Department's staff (and services),
    never an enterprise token."""
    return sees_department_view(principal) or principal.has(Role.REVIEWER)


def owns(principal: Principal, application: Application) -> bool:
    """The caller is staff of the enterprise that filed the application."""
    return principal.has(Role.ENTERPRISE) and same_tax_code(principal.tax_code, application.enterprise_tax_code)


# The assignment table of each assigned role: (its application column, its subject column).
_ASSIGNMENTS: dict[str, tuple[Any, Any]] = {
    Role.REVIEWER: (ReviewerAssignment.application_id, ReviewerAssignment.reviewer_subject),
    Role.VERIFIER: (VerifierAssignment.application_id, VerifierAssignment.verifier_subject),
}


async def _is_assigned(session: AsyncSession, principal: Principal, role: Role, application_id: uuid.UUID) -> bool:
    """The caller has `role` and an assignment row of that role for the application."""
    if not principal.has(role):
        return False
    application_column, subject_column = _ASSIGNMENTS[role]
    statement = select(application_column).where(
        application_column == application_id, subject_column == principal.subject
    )
    return (await session.exec(statement)).first() is not None


async def is_assigned_reviewer(session: AsyncSession, principal: Principal, application_id: uuid.UUID) -> bool:
    return await _is_assigned(session, principal, Role.REVIEWER, application_id)


async def is_assigned_verifier(session: AsyncSession, principal: Principal, application_id: uuid.UUID) -> bool:
    return await _is_assigned(session, principal, Role.VERIFIER, application_id)


def _not_found(application_id: uuid.UUID) -> dict[str, str]:
    return {"application_id": str(application_id)}


async def ensure_readable(session: AsyncSession, principal: Principal, application: Application) -> None:
    if reads_all(principal):
        return
    principal.enterprise_tax_code()
    if (
        owns(principal, application)
        or await is_assigned_reviewer(session, principal, application.id)
        or await is_assigned_verifier(session, principal, application.id)
    ):
        return
    raise NotFound(code="application_not_found", params=_not_found(application.id))


async def readable_application(session: AsyncSession, principal: Principal, application_id: uuid.UUID) -> Application:
    """The application if the caller may read it; 404 `application_not_found` otherwise, as for a missing one.
    A change locks it afterwards (`cleanprod_kit.changes`), so strangers never queue behind a row they cannot see."""
    return await readable_or_404(
        session,
        Application,
        application_id,
        lambda application: ensure_readable(session, principal, application),
        code="application_not_found",
        params=_not_found(application_id),
    )


_CALLS_READ = "cleanprod_applications.calls_read"
# Built once (SQLAlchemy memoises a statement's cache key on the statement object); `visibility_filter` is the
# rule for every other caller (`change_rule`).
_LOCKED = (
    select(Application, Call)
    .join(Call, Call.id == Application.call_id)  # type: ignore[arg-type]
    .where(Application.id == bindparam("application_id"))
    .with_for_update(of=Application)
    .execution_options(populate_existing=True)
)
_OWN = Application.enterprise_tax_code == bindparam("tax_code")
"""An enterprise's own: the same condition as its lists."""
_LOCKED_OWN = _LOCKED.where(_OWN)


def change_rule(principal: Principal) -> tuple[str, ColumnElement[bool] | None, dict[str, Any]]:
    """The access rule of a change as a WHERE clause on `applications` (None: every row), with its parameters and
    a name for the statements built on it: "all" and "own" are the same clause for every caller of that kind
    (statements built once), "assigned" is built for the caller (the assignment tables' subqueries)."""
    if reads_all(principal):
        return "all", None, {}
    if principal.roles.isdisjoint(_ASSIGNMENTS) and (tax_code := principal.enterprise_tax_code()) is not None:
        return "own", _OWN, {"tax_code": canonical(tax_code)}
    return "assigned", visibility_filter(principal), {}


def keep_call(session: AsyncSession, call: Call) -> None:
    """Keep a call read with a locked application for the session's life: the identity map holds objects weakly,
    so it would be collected before `call_of` looks for it."""
    session.info.setdefault(_CALLS_READ, []).append(call)


async def locked_application(session: AsyncSession, principal: Principal, application_id: uuid.UUID) -> Application:
    """The application locked `FOR UPDATE` for a change, in one statement: the caller's access rule is its WHERE
    clause (`visibility_filter`, the rule `ensure_readable` applies row by row), so a row the caller may not
    see is neither answered nor locked, and 404 `application_not_found` as for a missing one. Its call is read in
    the same statement (not locked): every transition needs it, and `session.get(Call, …)` then finds it in the
    session instead of asking the database (issue 16)."""
    kind, rule, params = change_rule(principal)
    params["application_id"] = application_id
    if kind == "all":
        statement = _LOCKED
    elif kind == "own":
        statement = _LOCKED_OWN
    else:
        statement = _LOCKED.where(rule)  # type: ignore[arg-type]
    found = (await session.exec(statement, params=params)).first()  # type: ignore[call-overload]
    if found is None:
        raise not_found(application_id)
    application, call = found
    keep_call(session, call)
    return application


def not_found(application_id: uuid.UUID) -> NotFound:
    """The 404 of an application the caller may not see, or that does not exist."""
    return NotFound(code="application_not_found", params=_not_found(application_id))


def visibility_filter(principal: Principal) -> ColumnElement[bool] | None:
    """A WHERE clause limiting a list to what the caller may read (None: everything)."""
    if reads_all(principal):
        return None
    conditions: list[Any] = []
    tax_code = principal.enterprise_tax_code()
    if tax_code is not None:
        conditions.append(Application.enterprise_tax_code == canonical(tax_code))
    if principal.has(Role.REVIEWER):
        assigned = select(ReviewerAssignment.application_id).where(
            ReviewerAssignment.reviewer_subject == principal.subject
        )
        conditions.append(Application.id.in_(assigned))  # type: ignore[attr-defined]
    if principal.has(Role.VERIFIER):
        verifying = select(VerifierAssignment.application_id).where(
            VerifierAssignment.verifier_subject == principal.subject
        )
        conditions.append(Application.id.in_(verifying))  # type: ignore[attr-defined]
    if not conditions:
        return false()
    return or_(*conditions)
