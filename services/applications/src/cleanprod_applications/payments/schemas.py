from __future__ import annotations

import uuid

from pydantic import BaseModel, Field

from ..grants.schemas import TranchePublic
from ..schemas import PositiveVnd, ProgrammeDate, StrictBody, Text

Reference = Text(64, pattern=r"^[A-Za-z0-9][A-Za-z0-9/_.\-]*$")


class PaidBody(StrictBody):
    """The treasury's (KBNN) or the bank's confirmation of the transfer."""

    paid_on: ProgrammeDate = Field(description="Value date of the transfer (Hanoi calendar)")
    reference: Reference = Field(description="Treasury or bank reference of the transfer")
    amount_vnd: PositiveVnd = Field(description="Must be the tranche's amount")


class CollectionBody(StrictBody):
    """A part of a recovery the enterprise paid back."""

    amount_vnd: PositiveVnd
    collected_on: ProgrammeDate
    reference: Reference


class PaymentWorkItem(BaseModel):
    """One tranche of the payment work list, with what finance needs to recognise it without opening the case."""

    application_id: uuid.UUID
    dossier_code: str | None
    title: str | None
    enterprise_name: str
    source_code: str = Field(description="The funding source that pays it (or receives the recovery)")
    source_name: str
    tranche: TranchePublic
