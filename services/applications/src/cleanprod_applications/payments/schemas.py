from __future__ import annotations

from pydantic import Field

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
