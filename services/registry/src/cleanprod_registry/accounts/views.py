from __future__ import annotations

import re
import uuid
from typing import Any

from fastapi import APIRouter, Depends
from pydantic import BaseModel, EmailStr, field_validator

from cleanprod_kit.audit import record_audit
from cleanprod_kit.auth import CurrentPrincipal, require_roles
from cleanprod_kit.db import SessionDep, release
from cleanprod_kit.errors import InvalidValue
from cleanprod_kit.fields import StrictBody, Text

from ..access import ACCOUNT_READ_ROLES, MANAGE_ROLES
from ..deps import DirectoryDep
from ..enterprises.service import get_enterprise

router = APIRouter(prefix="/api/v1/enterprises/{enterprise_id}/accounts", tags=["enterprise accounts"])
Name = Text(100)


# Keycloak's own rule for person names (user profile validator `person-name-prohibited-characters`, declared for
# firstName and lastName in the realm): checked here too, so the officer is told which field, in their language,
# instead of Keycloak refusing the whole request.
PERSON_NAME_PROHIBITED = re.compile(r'[<>&"$%!#?§;*~/\\|^=\[\]{}()\x00-\x1f\x7f\n\x0b\f\r\x85\u2028\u2029]')


class AccountCreate(StrictBody):
    username: Text(64, min_length=3)
    email: EmailStr
    first_name: Name  # given name(s), e.g. "Thị Mai"
    last_name: Name  # family name, e.g. "Phan"

    @field_validator("first_name", "last_name")
    @classmethod
    def _person_name(cls, value: str) -> str:
        found = PERSON_NAME_PROHIBITED.search(value)
        if found:
            raise InvalidValue("person_name_characters", character=found.group())
        return value

    @field_validator("username")
    @classmethod
    def _username(cls, value: str) -> str:
        if not re.fullmatch(r"[a-z0-9][a-z0-9._-]*", value):
            raise InvalidValue(
                "invalid_username", "use lower-case letters, digits, '.', '_' or '-' (start with a letter or digit)"
            )
        return value


class AccountCreated(BaseModel):
    user_id: str
    username: str
    tax_code: str
    temporary_password: str
    required_actions: list[str]


class AccountPublic(BaseModel):
    user_id: str
    username: str
    email: str | None
    first_name: str | None
    last_name: str | None
    enabled: bool


@router.post("", status_code=201, response_model=AccountCreated, dependencies=[Depends(require_roles(*MANAGE_ROLES))])
async def create_account(
    enterprise_id: uuid.UUID,
    body: AccountCreate,
    session: SessionDep,
    principal: CurrentPrincipal,
    accounts: DirectoryDep,
) -> AccountCreated:
    """Create the Keycloak login of a registered enterprise: role `enterprise`, `tax_code` set by the platform,
    a one-time password the user must change at first login. The password is shown in this answer only."""
    enterprise = await get_enterprise(session, principal, enterprise_id)
    await release(session)  # Keycloak is asked with no transaction open; the audit entry is a new one
    created = await accounts.create_enterprise_account(
        username=body.username,
        email=str(body.email),
        first_name=body.first_name,
        last_name=body.last_name,
        tax_code=enterprise.tax_code,
    )
    record_audit(
        session,
        principal,
        entity_type="enterprise",
        entity_id=enterprise.id,
        action="create_account",
        details={"username": created.username, "keycloak_user_id": created.user_id},
    )
    await session.commit()
    return AccountCreated(
        user_id=created.user_id,
        username=created.username,
        tax_code=enterprise.tax_code,
        temporary_password=created.temporary_password,
        required_actions=["UPDATE_PASSWORD"],
    )


@router.get("", response_model=list[AccountPublic], dependencies=[Depends(require_roles(*ACCOUNT_READ_ROLES))])
async def list_accounts(
    enterprise_id: uuid.UUID, session: SessionDep, principal: CurrentPrincipal, accounts: DirectoryDep
) -> list[AccountPublic]:
    enterprise = await get_enterprise(session, principal, enterprise_id)
    await release(session)
    users: list[dict[str, Any]] = await accounts.list_enterprise_accounts(enterprise.tax_code)
    return [
        AccountPublic(
            user_id=u["id"],
            username=u["username"],
            email=u.get("email"),
            first_name=u.get("firstName"),
            last_name=u.get("lastName"),
            enabled=bool(u.get("enabled")),
        )
        for u in users
    ]
