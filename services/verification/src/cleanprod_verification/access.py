"""Who may see and act on verification cases.

- officers and auditors read every case; only officers assign verifiers; auditors never write;
- a verifier reads the cases currently assigned to them, and only the assigned verifier who declared
  independence may record measurements and conclude (anyone else: 403);
- enterprise users read the cases of the enterprise whose tax code is in their token (others: 404, their
  existence is not disclosed);
- services read everything (and push events to /internal/events).
"""

from __future__ import annotations

import re

from cleanprod_kit.auth import Principal
from cleanprod_kit.errors import Forbidden, NotFound

from .cases.models import CaseStatus, VerificationCase

READ_ROLES = ("officer", "auditor", "verifier", "enterprise", "service")
SUMMARY_ROLES = ("officer", "auditor")


def same_tax_code(a: str | None, b: str | None) -> bool:
    """Tax codes compared without spaces, dots or dashes (0101234567-001 == 0101234567001)."""
    if not a or not b:
        return False
    return re.sub(r"[\s.\-]", "", a) == re.sub(r"[\s.\-]", "", b)


def reads_everything(principal: Principal) -> bool:
    return principal.has("officer", "auditor", "service")


def ensure_readable(principal: Principal, case: VerificationCase) -> None:
    if reads_everything(principal):
        return
    if principal.has("verifier") and case.verifier_subject == principal.subject:
        return
    if principal.has("enterprise") and same_tax_code(principal.tax_code, case.enterprise_tax_code):
        return
    if principal.has("verifier"):
        raise Forbidden("You are not the verifier assigned to this verification case.",
                        code="not_assigned_verifier")
    if principal.has("enterprise"):
        raise NotFound(code="case_not_found", params={"case_id": str(case.id)})
    raise Forbidden(code="verification_read_forbidden")


def ensure_acting_verifier(principal: Principal, case: VerificationCase) -> None:
    """The assigned verifier who declared independence; 403 for anyone else, with the reason."""
    if not principal.has("verifier"):
        raise Forbidden("Only the verifier assigned to this case may do this.", code="not_assigned_verifier")
    if case.verifier_subject != principal.subject:
        raise Forbidden(code="not_assigned_verifier")
    if case.status == CaseStatus.CONFLICT:
        raise Forbidden(code="verifier_conflict_declared")
    if case.status == CaseStatus.ASSIGNED:
        raise Forbidden(code="independence_declaration_required")
