from __future__ import annotations

from sqlalchemy import BigInteger, Column, Index, Integer, String, cast, func, text
from sqlmodel import Field

from ..cases.models import VerificationCase
from ..conclusions.models import Conclusion
from ..db_types import ServiceTable


class SummaryGeneration(ServiceTable, table=True):
    """One row whose number moves on, in the same transaction, with every change to what the programme summary reads:
    statement triggers (migrations 0005, 0006) on `conclusions` (insert-only) and on the cases' grouping columns. A
    summary computed at generation n is the summary for as long as the row says n (programme/service.py).

    `full_pass_from` is the generation of the last change that was not only conclusions inserted: a summary kept at a
    generation below it is computed again; one kept at or after it steps forward over the conclusions stamped since."""

    __tablename__ = "programme_summary_generation"

    id: int = Field(default=1, sa_column=Column(Integer, primary_key=True, autoincrement=False))
    generation: int = Field(default=0, sa_column=Column(BigInteger, nullable=False))
    full_pass_from: int = Field(default=0, sa_column=Column(BigInteger, nullable=False, server_default=text("0")))


# The distinct-enterprise key the summary counts: the tax code, else the enterprise, else the facility.
ENTERPRISE_KEY = func.coalesce(
    VerificationCase.enterprise_tax_code,
    cast(VerificationCase.enterprise_id, String),
    cast(VerificationCase.facility_id, String),
)

# What a step forward reads: the conclusions stamped after a generation, and an enterprise's earlier conclusions.
Index("ix_conclusions_summary_generation", Conclusion.__table__.c.summary_generation)  # type: ignore[attr-defined]
Index("ix_verification_cases_enterprise_key", ENTERPRISE_KEY)
