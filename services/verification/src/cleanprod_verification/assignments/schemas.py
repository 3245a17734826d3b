from __future__ import annotations

import datetime as dt
import uuid
from typing import Any

from pydantic import BaseModel, Field

from cleanprod_kit.fields import Flag, StrictBody

from ..schemas import Subject, Text200, Text2000, Text4000


class AssignmentBody(StrictBody):
    verifier_subject: Subject = Field(description="The verifier's account id (token `sub`)")
    verifier_username: Text200 = Field(description="The verifier's user name, as shown to people")
    note: Text2000 | None = None


class BulkAssignmentItem(AssignmentBody):
    verification_id: uuid.UUID
    version: int = Field(
        ge=1,
        description="The case's version as the officer saw it (the single assignment's "
        "If-Match; stale → 412 for this item)",
    )


class BulkAssignmentBody(StrictBody):
    assignments: list[BulkAssignmentItem] = Field(min_length=1, max_length=200)


class DeclarationBody(StrictBody):
    independent: Flag = Field(description="true: no link with the enterprise or its technology supplier")
    statement: Text4000 = Field(description="What the verifier declares (and, for a conflict, what the link is)")


class AssignmentPublic(BaseModel):
    id: uuid.UUID
    verifier_subject: str
    verifier_username: str
    note: str | None
    assigned_by: str | None
    assigned_at: dt.datetime
    status: str
    independent: bool | None
    statement: str | None
    declared_against: dict[str, Any]
    declared_at: dt.datetime | None
    replaced_at: dt.datetime | None


class AssignmentState(BaseModel):
    case_id: uuid.UUID
    case_status: str
    case_version: int
    current: AssignmentPublic | None
    history: list[AssignmentPublic]
