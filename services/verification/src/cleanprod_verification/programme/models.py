from __future__ import annotations

from sqlalchemy import BigInteger, Column, Integer
from sqlmodel import Field

from ..db_types import ServiceTable


class SummaryGeneration(ServiceTable, table=True):
    """One row whose number moves on, in the same transaction, with every change to what the programme summary reads:
    a statement trigger (migration 0005) on `conclusions` (insert-only) and on the cases' grouping columns. A summary
    computed at generation n is the summary for as long as the row says n (programme/service.py)."""

    __tablename__ = "programme_summary_generation"

    id: int = Field(default=1, sa_column=Column(Integer, primary_key=True, autoincrement=False))
    generation: int = Field(default=0, sa_column=Column(BigInteger, nullable=False))
