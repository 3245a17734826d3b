from __future__ import annotations

import datetime as dt
import uuid

from sqlmodel import Field

from ..db_types import ServiceTable, moment


class ShowcaseConsent(ServiceTable, table=True):
    """The enterprise's consent to show one verified application publicly; its own version (If-Match), so giving
    or withdrawing consent never races with, nor bumps, the application itself."""

    __tablename__ = "showcase_consents"

    application_id: uuid.UUID = Field(primary_key=True, foreign_key="applications.id")
    given: bool
    changed_at: dt.datetime | None = moment()
    changed_by: str = Field(max_length=255)
    version: int = Field(default=1)
