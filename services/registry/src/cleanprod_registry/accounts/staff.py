"""The Department's staff by role (`GET /api/v1/staff?role=reviewer`), read from Keycloak's realm-role members:
the officer's screens choose reviewers and verifiers from it (their `sub` and username go into the assignment).
Only staff roles can be listed — enterprise logins are listed per enterprise (`views.py`), never all at once."""

from __future__ import annotations

from enum import StrEnum
from typing import Annotated

from fastapi import APIRouter, Depends, Query
from pydantic import BaseModel

from cleanprod_kit.auth import require_roles
from cleanprod_kit.roles import Role

from ..access import ACCOUNT_READ_ROLES
from ..deps import DirectoryDep

router = APIRouter(prefix="/api/v1/staff", tags=["staff"])


class StaffRole(StrEnum):
    REVIEWER = Role.REVIEWER
    VERIFIER = Role.VERIFIER
    OFFICER = Role.OFFICER
    AUDITOR = Role.AUDITOR


class StaffMember(BaseModel):
    user_id: str
    username: str
    first_name: str | None
    last_name: str | None
    full_name: str  # Vietnamese order: family name first ("Phan Thị Mai"); the username when no name is known


@router.get("", response_model=list[StaffMember], dependencies=[Depends(require_roles(*ACCOUNT_READ_ROLES))])
async def list_staff(
    role: Annotated[StaffRole, Query(description="the realm role")], accounts: DirectoryDep
) -> list[StaffMember]:
    """Enabled accounts holding the realm role, by username."""
    users = await accounts.list_role_members(role.value)
    members = []
    for u in users:
        if not u.get("enabled", True):
            continue
        first, last = u.get("firstName"), u.get("lastName")
        full = " ".join(part for part in (last, first) if part) or u["username"]
        members.append(
            StaffMember(user_id=u["id"], username=u["username"], first_name=first, last_name=last, full_name=full)
        )
    return sorted(members, key=lambda m: m.username)
