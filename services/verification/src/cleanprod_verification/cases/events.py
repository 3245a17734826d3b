"""Reading the applications service's events: the payload is the contract `ApplicationEvent`
(`cleanprod_contracts.v1.events`, the model its producer builds it with), mapped here, in ONE place, to what a
verification case needs. A payload the contract does not read is `UnreadableEvent` (the consumer acknowledges
and records it); a claim that reads but cannot be taken (an overall saving outside 0–100 %) is noted on the
case, not guessed.
"""

from __future__ import annotations

import datetime as dt
import uuid
from dataclasses import dataclass, field
from typing import Any

from pydantic import ValidationError

from cleanprod_contracts.v1.events import ApplicationEvent

APPROVED = "application.approved"
COMPLETED = "application.completed"


class UnreadableEvent(ValueError):
    """The payload does not follow the contract (e.g. it lacks the application id or the facility id)."""


@dataclass(frozen=True)
class ApplicationFacts:
    application_id: uuid.UUID
    facility_id: uuid.UUID
    dossier_code: str | None = None
    facility_name: str | None = None
    enterprise_id: uuid.UUID | None = None
    enterprise_tax_code: str | None = None
    enterprise_name: str | None = None
    sector_code: str | None = None
    title: str | None = None
    supplier_name: str | None = None
    supplier_tax_code: str | None = None
    claimed_overall_pct: float | None = None
    claimed_per_carrier: dict[str, float] = field(default_factory=dict)
    approved_support_vnd: int | None = None
    implementation_start: dt.date | None = None
    implementation_end: dt.date | None = None
    completed_on: dt.date | None = None
    support_type: str = "technology_transfer"
    savings_verified: bool = True  # False: the support type's savings are not verified (an assessment): no case
    notes: list[str] = field(default_factory=list)  # what could not be taken, for the case record


def _unreadable(exc: ValidationError) -> UnreadableEvent:
    problems = [f"{'.'.join(str(p) for p in e['loc']) or 'data'} ({e['msg']})" for e in exc.errors(include_url=False)]
    shown = "; ".join(problems[:8]) + (f"; and {len(problems) - 8} more" if len(problems) > 8 else "")
    return UnreadableEvent(f"the payload does not follow the contract ApplicationEvent v1: {shown}")


def _overall(claimed: float | None, notes: list[str]) -> float | None:
    if claimed is None:
        notes.append("the event carries no claimed overall saving %")
        return None
    if not 0 < claimed <= 100:
        notes.append(f"the claimed overall saving {claimed} % is outside 0–100 % and was not taken")
        notes.append("the event carries no claimed overall saving %")
        return None
    return claimed


def application_facts(data: Any) -> ApplicationFacts:
    """The one mapping from an applications-service event payload to what a verification case needs."""
    try:
        event = ApplicationEvent.model_validate(data)
    except ValidationError as exc:
        raise _unreadable(exc) from None
    notes: list[str] = []
    support = event.approved_support_vnd
    return ApplicationFacts(
        application_id=event.application_id,
        facility_id=event.facility_id,
        dossier_code=event.dossier_code,
        facility_name=event.facility_name,
        enterprise_id=event.enterprise_id,
        enterprise_tax_code=event.enterprise_tax_code,
        enterprise_name=event.enterprise_name,
        sector_code=event.sector_code,
        title=event.title,
        supplier_name=event.supplier.name if event.supplier else None,
        supplier_tax_code=event.supplier.tax_code if event.supplier else None,
        claimed_overall_pct=_overall(event.claimed_overall_saving_pct, notes),
        claimed_per_carrier={c.carrier: c.saving_pct for c in event.claimed_savings},
        approved_support_vnd=support if support is not None and support >= 0 else None,
        implementation_start=event.implementation_start,
        implementation_end=event.implementation_end,
        completed_on=event.completed_on,
        support_type=event.support_type,
        savings_verified=event.savings_verified,
        notes=notes,
    )
