from __future__ import annotations

import datetime as dt
import uuid

from pydantic import BaseModel

from cleanprod_kit.fields import Flag, StrictBody


class ConsentBody(StrictBody):
    given: Flag


class ConsentPublic(BaseModel):
    application_id: uuid.UUID
    given: bool
    changed_at: dt.datetime | None
    version: int  # 0 = never asked (If-Match "0" gives the first answer)


class ShowcaseProject(BaseModel):
    """What the public sees of a showcased project: what was done and what the M&V verified — nothing about the
    money, the dossier or the people."""

    application_id: uuid.UUID
    title: str | None
    technology: str | None
    sector_code: str
    enterprise_name: str
    facility_name: str
    verified_savings_pct: float | None
    verified_at: dt.datetime | None
