"""Who may see and change registry records (object level; the routes check roles first). The same vocabulary as
the other services' `access.py`: `READ_ROLES`, `reads_all`, `owns`, `ensure_readable`, `visibility_filter`.

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
from cleanprod_kit.roles import Role
from cleanprod_kit.tax_codes import canonical, compact, within_enterprise

from .enterprises.models import Enterprise

READ_ALL_ROLES = frozenset({Role.OFFICER, Role.REVIEWER, Role.VERIFIER, Role.AUDITOR, Role.SERVICE})
"""Roles that read every record."""
READ_ROLES = READ_ALL_ROLES | {Role.ENTERPRISE}
WRITE_ROLES = frozenset({Role.OFFICER, Role.ENTERPRISE})
MANAGE_ROLES = frozenset({Role.OFFICER})
"""Who manages sectors, norms and enterprise logins, and writes every record."""
ACCOUNT_READ_ROLES = frozenset({Role.OFFICER, Role.AUDITOR})
"""Who lists enterprise logins and the Department's staff."""


def reads_all(principal: Principal) -> bool:
    return principal.has(*READ_ALL_ROLES)


def _enterprise_tax_code(principal: Principal) -> str | None:
    """The tax code an enterprise user is confined to; None for roles that read everything."""
    if reads_all(principal):
        return None
    if (tax_code := principal.enterprise_tax_code()) is None:
        raise Forbidden(code="registry_read_forbidden")
    return tax_code


def owns(principal: Principal, tax_code: str) -> bool:
    """The caller is staff of the enterprise `tax_code`, or of the head office it is a branch unit of."""
    return principal.has(Role.ENTERPRISE) and within_enterprise(principal.tax_code, tax_code)


def _confined_to(column: Any, confined: str) -> ColumnElement[bool]:
    """WHERE clause for a stored tax code column: the enterprise `confined` itself and its branch units."""
    head = compact(confined)
    if len(head) == 10 and head.isdigit():
        return or_(column == canonical(confined), column.startswith(head + "-", autoescape=True))
    return column == canonical(confined)  # type: ignore[no-any-return]


def visibility_filter(principal: Principal) -> ColumnElement[bool] | None:
    """A WHERE clause limiting a list to what the caller may read (None: everything), on the enterprise's tax code
    (lists of facilities join their enterprise)."""
    confined = _enterprise_tax_code(principal)
    return None if confined is None else _confined_to(Enterprise.tax_code, confined)


def ensure_readable(principal: Principal, tax_code: str, what: str) -> None:
    confined = _enterprise_tax_code(principal)
    if confined is not None and not within_enterprise(confined, tax_code):
        raise NotFound(code="record_not_found", params={"what": what})


def ensure_writable(principal: Principal, tax_code: str, what: str) -> None:
    if principal.has(*MANAGE_ROLES):
        return
    if principal.has(Role.ENTERPRISE):
        ensure_readable(principal, tax_code, what)
        return
    raise Forbidden(code="registry_write_forbidden")
