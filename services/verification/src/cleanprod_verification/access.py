"""Who may see and act on verification cases (object level; the routes check roles first). The same vocabulary
as the other services' `access.py`: `READ_ROLES`, `reads_all`, `owns`, `ensure_readable`, `visibility_filter`.

- officers and auditors read every case; only officers assign verifiers; auditors never write;
- a verifier reads the cases currently assigned to them, and only the assigned verifier who declared
  independence may record measurements and conclude (anyone else: 403);
- enterprise users read the cases of the enterprise whose tax code is in their token (others: 404, their
  existence is not disclosed);
- services read everything (and push events to /internal/events).
"""

from __future__ import annotations

from sqlalchemy import ColumnElement

from cleanprod_kit.auth import Principal
from cleanprod_kit.errors import Forbidden, NotFound
from cleanprod_kit.roles import OVERSIGHT, Role
from cleanprod_kit.tax_codes import canonical, same_tax_code

from .cases.models import CaseStatus, VerificationCase

READ_ALL_ROLES = frozenset({Role.OFFICER, Role.AUDITOR, Role.SERVICE})
"""Roles that read every case."""
READ_ROLES = READ_ALL_ROLES | {Role.VERIFIER, Role.ENTERPRISE}
SUMMARY_ROLES = OVERSIGHT
"""Who reads the programme summary."""
RESULT_ROLES = frozenset({Role.OFFICER, Role.AUDITOR, Role.VERIFIER})
"""Who sees a result before it is concluded (the preview); an enterprise sees only the conclusion."""


def reads_all(principal: Principal) -> bool:
    return principal.has(*READ_ALL_ROLES)


def owns(principal: Principal, case: VerificationCase) -> bool:
    """The caller is staff of the enterprise whose project the case verifies."""
    return principal.has(Role.ENTERPRISE) and same_tax_code(principal.tax_code, case.enterprise_tax_code)


def is_assigned_verifier(principal: Principal, case: VerificationCase) -> bool:
    return principal.has(Role.VERIFIER) and case.verifier_subject == principal.subject


def ensure_readable(principal: Principal, case: VerificationCase) -> None:
    if reads_all(principal) or is_assigned_verifier(principal, case) or owns(principal, case):
        return
    if principal.has(Role.VERIFIER):
        raise Forbidden("You are not the verifier assigned to this verification case.", code="not_assigned_verifier")
    if principal.has(Role.ENTERPRISE):
        raise NotFound(code="case_not_found", params={"case_id": str(case.id)})
    raise Forbidden(code="verification_read_forbidden")


def visibility_filter(principal: Principal) -> ColumnElement[bool] | None:
    """A WHERE clause limiting a list to what the caller may read (None: everything)."""
    if reads_all(principal):
        return None
    if principal.has(Role.VERIFIER):
        return VerificationCase.verifier_subject == principal.subject  # type: ignore[return-value]
    tax_code = principal.enterprise_tax_code()
    if tax_code is not None:
        return VerificationCase.enterprise_tax_code == canonical(tax_code)  # type: ignore[return-value]
    raise Forbidden(code="verification_read_forbidden")


def ensure_acting_verifier(principal: Principal, case: VerificationCase) -> None:
    """The assigned verifier who declared independence; 403 for anyone else, with the reason."""
    if not principal.has(Role.VERIFIER):
        raise Forbidden("Only the verifier assigned to this case may do this.", code="not_assigned_verifier")
    if case.verifier_subject != principal.subject:
        raise Forbidden(code="not_assigned_verifier")
    if case.status == CaseStatus.CONFLICT:
        raise Forbidden(code="verifier_conflict_declared")
    if case.status == CaseStatus.ASSIGNED:
        raise Forbidden(code="independence_declaration_required")
