"""Who an e-mail goes to (`GET /internal/recipients`, service tokens only; the gateway routes no /internal path):
the logins of one enterprise, the holders of one realm role, or one user — each with e-mail, language (Keycloak
user attribute `locale`, "vi" when unset), whether the login is enabled, and the full name. The applications
service's mail sender asks for them, outside any transaction of its own (docs/notifications.md "Mail").

Two forms: the original one audience per call (kept for senders of an older version during a rolling update), and
`GET /internal/recipients/by-audience?audience=enterprise:<id>&audience=role:officer&audience=user:<id>` — every
audience of a sender's batch in one call, the enterprises' tax codes in one query. Both read Keycloak through
`RecipientListings` (answers kept `REGISTRY_RECIPIENTS_CACHE_SECONDS`, default 30 s)."""

from __future__ import annotations

import uuid
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Request
from sqlalchemy import bindparam
from sqlalchemy.dialects.postgresql import ARRAY, UUID
from sqlmodel import col, select

from cleanprod_contracts.v1.registry import Recipient, RecipientList, RecipientSet, RecipientSets
from cleanprod_kit.auth import CurrentPrincipal, require_roles
from cleanprod_kit.db import Read, SessionDep, release
from cleanprod_kit.errors import Unprocessable, field_error
from cleanprod_kit.fields import Param
from cleanprod_kit.roles import Role

from ..access import ensure_readable
from ..deps import DatabaseDep, DirectoryDep
from ..enterprises.models import Enterprise
from ..enterprises.service import get_enterprise
from .directory import RecipientListings

router = APIRouter(prefix="/internal/recipients", tags=["internal"], include_in_schema=False)

LANGUAGES = ("vi", "en")
DEFAULT_LANGUAGE = "vi"
# Roles whose holders may be told things; service accounts and e-gov clients are never mailed.
MAILED_ROLES = frozenset({Role.OFFICER, Role.REVIEWER, Role.VERIFIER, Role.AUDITOR, Role.FINANCE, Role.ENTERPRISE})


MAX_AUDIENCES = 100  # a sender's batch is at most 500 notifications, most of them sharing a few audiences
AUDIENCE_KINDS = ("enterprise", "role", "user")
_TAX_CODES = Read(
    select(Enterprise.id, Enterprise.tax_code).where(
        col(Enterprise.id) == bindparam("ids", type_=ARRAY(UUID(as_uuid=True))).any_()  # type: ignore[attr-defined]
    )
)


async def recipient_listings(request: Request, accounts: DirectoryDep) -> RecipientListings:
    """The process's kept Keycloak answers for recipients (made on first use, kept on the app)."""
    found: RecipientListings | None = getattr(request.app.state, "recipient_listings", None)
    if found is None or found.directory is not accounts:  # a test may put another directory in place
        found = RecipientListings(accounts, request.app.state.settings.recipients_cache_seconds)
        request.app.state.recipient_listings = found
    return found


ListingsDep = Annotated[RecipientListings, Depends(recipient_listings)]


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
    listings: ListingsDep,
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
        users = await listings.enterprise_accounts(enterprise.tax_code)
    elif role is not None:
        if role not in MAILED_ROLES:
            raise Unprocessable(code="validation_failed", errors=[field_error("role", code="invalid")])
        users = await listings.role_members(role)
    else:
        assert user_id is not None
        found = await listings.user(user_id)
        users = [found] if found else []
    return RecipientList(items=_sorted(users))


def _sorted(users: list[dict[str, Any]]) -> list[Recipient]:
    return sorted((recipient_of(u) for u in users), key=lambda r: r.username)


def _parsed(audiences: list[str]) -> list[tuple[str, str, str]]:
    """(as asked, kind, value) per distinct audience, in order; a malformed one is a 422 naming its position."""
    if not audiences or len(audiences) > MAX_AUDIENCES:
        raise Unprocessable(code="validation_failed", errors=[field_error("audience", code="invalid")])
    parsed: dict[str, tuple[str, str, str]] = {}
    for position, audience in enumerate(audiences):
        kind, _, value = audience.partition(":")
        valid = kind in AUDIENCE_KINDS and 0 < len(value) <= 64
        if valid and kind == "enterprise":
            try:
                value = str(uuid.UUID(value))
            except ValueError:
                valid = False
        if not valid:
            raise Unprocessable(code="validation_failed", errors=[field_error(f"audience.{position}", code="invalid")])
        parsed.setdefault(audience, (audience, kind, value))
    return list(parsed.values())


@router.get("/by-audience", response_model=RecipientSets, dependencies=[Depends(require_roles(Role.SERVICE))])
async def list_recipient_sets(
    database: DatabaseDep,
    principal: CurrentPrincipal,
    listings: ListingsDep,
    audience: Annotated[list[Param], Query()],
) -> RecipientSets:
    """Every audience asked, each answered as the one-audience form answers it, except that an unknown enterprise
    is an empty set (not a 404) and a role nobody is mailed for is that set's `error` (the others still answered).
    No transaction is open while Keycloak is asked (the tax codes are one autocommitted read)."""
    asked = _parsed(audience)
    enterprise_ids = [uuid.UUID(value) for _, kind, value in asked if kind == "enterprise"]
    tax_codes: dict[str, str] = {}
    if enterprise_ids:
        for row in await database.fetch(_TAX_CODES, ids=enterprise_ids):
            ensure_readable(principal, row["tax_code"], f"Enterprise {row['id']}")
            tax_codes[str(row["id"])] = row["tax_code"]
    sets = []
    for text, kind, value in asked:
        users: list[dict[str, Any]] = []
        error = None
        if kind == "enterprise":
            if value in tax_codes:
                users = await listings.enterprise_accounts(tax_codes[value])
        elif kind == "role":
            if value in MAILED_ROLES:
                users = await listings.role_members(value)
            else:
                error = "role_not_mailed"
        else:
            found = await listings.user(value)
            users = [found] if found else []
        sets.append(RecipientSet(audience=text, items=_sorted(users), error=error))
    return RecipientSets(audiences=sets)
