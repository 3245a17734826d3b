"""Who may see and change registry records.

- `enterprise` users: only records of the enterprise whose tax code is in their token and of its branch units
  (`<own tax code>-NNN`, which it may also register); records of others are answered 404 (their existence is
  not disclosed). A branch's own account covers only that branch.
- officers: read and write everything; only they manage sectors and norms.
- reviewers, verifiers, auditors and services: read everything; auditors never write.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import ColumnElement, or_

from cleanprod_kit.auth import Principal
from cleanprod_kit.errors import Forbidden, NotFound
from cleanprod_kit.tax_codes import compact, within_enterprise

READ_ROLES = ("officer", "reviewer", "verifier", "auditor", "service", "enterprise")
WRITE_ROLES = ("officer", "enterprise")


def own_tax_code(principal: Principal) -> str | None:
    """The tax code an enterprise user is confined to; None for roles that read everything."""
    if principal.has("officer", "reviewer", "verifier", "auditor", "service"):
        return None
    if principal.has("enterprise"):
        if not principal.tax_code:
            raise Forbidden(code="no_enterprise_account")
        return principal.tax_code
    raise Forbidden(code="registry_read_forbidden")


def confined_to(column: Any, confined: str) -> ColumnElement[bool]:
    """WHERE clause for a stored tax code column: the enterprise `confined` itself and its branch units."""
    head = compact(confined)
    if len(head) == 10 and head.isdigit():
        return or_(column == confined, column.startswith(head + "-", autoescape=True))
    return column == confined


def ensure_readable(principal: Principal, tax_code: str, what: str) -> None:
    confined = own_tax_code(principal)
    if confined is not None and not within_enterprise(confined, tax_code):
        raise NotFound(code="record_not_found", params={"what": what})


def ensure_writable(principal: Principal, tax_code: str, what: str) -> None:
    if principal.has("officer"):
        return
    if principal.has("enterprise"):
        ensure_readable(principal, tax_code, what)
        return
    raise Forbidden(code="registry_write_forbidden")
