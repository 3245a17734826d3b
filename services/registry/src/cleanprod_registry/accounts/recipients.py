"""Who an e-mail goes to (`GET /internal/recipients`, service tokens only; the gateway routes no /internal path):
the logins of one enterprise, the holders of one realm role, or one user — each with e-mail, language (Keycloak
user attribute `locale`, "vi" when unset), whether the login is enabled, and the full name. The applications
service's mail sender asks for them, outside any transaction of its own (docs/notifications.md "Mail")."""

from __future__ import annotations

import uuid
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query

from cleanprod_contracts.v1.registry import Recipient, RecipientList
from cleanprod_kit.auth import CurrentPrincipal, require_roles
from cleanprod_kit.db import SessionDep, release
from cleanprod_kit.errors import Unprocessable, field_error
from cleanprod_kit.fields import Param
from cleanprod_kit.roles import Role

from ..deps import DirectoryDep
from ..enterprises.service import get_enterprise

router = APIRouter(prefix="/internal/recipients", tags=["internal"], include_in_schema=False)

LANGUAGES = ("vi", "en")
DEFAULT_LANGUAGE = "vi"
# Roles whose holders may be told things; service accounts and e-gov clients are never mailed.
MAILED_ROLES = frozenset({Role.OFFICER, Role.REVIEWER, Role.VERIFIER, Role.AUDITOR, Role.FINANCE, Role.ENTERPRISE})


def locale_of(user: dict[str, Any]) -> str:
    """The user's language from the `locale` attribute ("en-GB" → "en"); Vietnamese unless it is one we write."""
    values = (user.get("attributes") or {}).get("locale") or []
    language = str(values[0] if values else "").split("-")[0].split("_")[0].lower()
    return language if language in LANGUAGES else DEFAULT_LANGUAGE


def recipient_of(user: dict[str, Any]) -> Recipient:
    first, last = user.get("firstName"), user.get("lastName")
    return Recipient(
        user_id=user["id"],
        username=user.get("username") or "",
        email=user.get("email") or None,
        locale=locale_of(user),
        enabled=bool(user.get("enabled", False)),
        full_name=" ".join(part for part in (last, first) if part) or user.get("username") or "",  # family name first
    )


@router.get("", response_model=RecipientList, dependencies=[Depends(require_roles(Role.SERVICE))])
async def list_recipients(
    session: SessionDep,
    principal: CurrentPrincipal,
    accounts: DirectoryDep,
    enterprise_id: Annotated[uuid.UUID | None, Query()] = None,
    role: Annotated[Param | None, Query(max_length=32)] = None,
    user_id: Annotated[Param | None, Query(min_length=1, max_length=64)] = None,
) -> RecipientList:
    """Exactly one of `enterprise_id`, `role`, `user_id`. An unknown enterprise is 404; an unknown user is an
    empty list (deleted since it was told something)."""
    given = [name for name, value in (("enterprise_id", enterprise_id), ("role", role), ("user_id", user_id)) if value]
    if len(given) != 1:
        raise Unprocessable(
            code="validation_failed",
            errors=[field_error(name, code="missing") for name in ("enterprise_id", "role", "user_id")],
        )
    users: list[dict[str, Any]]
    if enterprise_id is not None:
        enterprise = await get_enterprise(session, principal, enterprise_id)
        await release(session)  # Keycloak is asked with no transaction open
        users = await accounts.list_enterprise_accounts(enterprise.tax_code)
    elif role is not None:
        if role not in MAILED_ROLES:
            raise Unprocessable(code="validation_failed", errors=[field_error("role", code="invalid")])
        users = await accounts.list_role_members(role, with_attributes=True)
    else:
        assert user_id is not None
        found = await accounts.get_user(user_id)
        users = [found] if found else []
    return RecipientList(items=sorted((recipient_of(u) for u in users), key=lambda r: r.username))
