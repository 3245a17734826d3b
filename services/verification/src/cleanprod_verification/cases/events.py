"""Reading the applications service's events. Its payload is a snapshot of the dossier; field names are mapped
in ONE place (``application_facts``) and several spellings are accepted, so a renamed field there does not
silently drop a claim here. Assumed (services/applications flows.event_payload, 2026-11):

  application_id, dossier_code, facility_id, facility_name, enterprise_id, enterprise_tax_code, enterprise_name,
  sector_code, title, supplier {name, tax_code} | null, claimed_savings [{carrier, saving_pct, annual_saving}],
  claimed_overall_saving_pct, approved_support_vnd, implementation_start, implementation_end, completed_on.
"""

from __future__ import annotations

import datetime as dt
import math
import uuid
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

APPROVED = "application.approved"
COMPLETED = "application.completed"


class UnreadableEvent(ValueError):
    """The event lacks what a case cannot be opened without (application id, facility id)."""


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
    notes: list[str] = field(default_factory=list)  # what could not be read, for the case record


def _get(data: Mapping[str, Any], *paths: str) -> Any:
    """The first non-empty value among dotted paths ("supplier.name")."""
    for path in paths:
        value: Any = data
        for part in path.split("."):
            value = value.get(part) if isinstance(value, Mapping) else None
            if value is None:
                break
        if value not in (None, "", [], {}):
            return value
    return None


def _text(value: Any, limit: int) -> str | None:
    if value is None or isinstance(value, (dict, list)):
        return None
    text = str(value).strip()
    return text[:limit] or None


def _uuid(value: Any) -> uuid.UUID | None:
    try:
        return uuid.UUID(str(value)) if value is not None else None
    except ValueError:
        return None


def _number(value: Any) -> float | None:
    if isinstance(value, bool):
        return None
    try:
        number = float(value)
    except (TypeError, ValueError):
        return None
    return number if math.isfinite(number) else None


def _date(value: Any) -> dt.date | None:
    if isinstance(value, dt.date) and not isinstance(value, dt.datetime):
        return value
    try:
        return dt.date.fromisoformat(str(value)[:10]) if value else None
    except ValueError:
        return None


_PCT_KEYS = ("saving_pct", "savings_pct", "saving_percent", "savings_percent", "claimed_pct", "percent", "pct")


def _per_carrier(raw: Any, notes: list[str]) -> tuple[dict[str, float], float | None]:
    """Claimed % per carrier from a list [{carrier, saving_pct}] or a mapping {carrier: pct | {saving_pct}};
    an "overall"/"total" entry of a mapping is returned separately."""
    claims: dict[str, float] = {}
    overall = None
    if isinstance(raw, Mapping):
        items = [{"carrier": k, "pct": v} for k, v in raw.items()]
    elif isinstance(raw, list):
        items = [i for i in raw if isinstance(i, Mapping)]
    else:
        return claims, None
    for item in items:
        carrier = _text(item.get("carrier"), 32)
        value = item.get("pct")
        if isinstance(value, Mapping):
            item = value
        pct = _number(value if not isinstance(value, Mapping) else None)
        if pct is None:
            pct = _number(_get(item, *_PCT_KEYS))
        if carrier is None or pct is None:
            notes.append(f"a claimed saving could not be read: {dict(item)!r}"[:300])
            continue
        if carrier in ("overall", "total"):
            overall = pct
        else:
            claims[carrier] = pct
    return claims, overall


def application_facts(data: Mapping[str, Any]) -> ApplicationFacts:
    """The one mapping from an applications-service event payload to what a verification case needs."""
    application_id = _uuid(_get(data, "application_id", "id", "application.id"))
    facility_id = _uuid(_get(data, "facility_id", "facility.id"))
    if application_id is None or facility_id is None:
        raise UnreadableEvent("the event names no valid application_id and facility_id")
    notes: list[str] = []
    per_carrier, overall_in_list = _per_carrier(
        _get(data, "claimed_savings", "claimed_savings_per_carrier", "claim.per_carrier", "claimed_per_carrier"),
        notes)
    overall = _number(_get(data, "claimed_overall_saving_pct", "claimed_overall_savings_pct",
                           "claimed_savings_pct", "claimed_overall_pct", "claimed_overall_percent",
                           "claim.overall_percent", "claim.overall_pct"))
    if overall is None:
        overall = overall_in_list
    if overall is not None and not 0 < overall <= 100:
        notes.append(f"the claimed overall saving {overall} % is outside 0–100 % and was not taken")
        overall = None
    if overall is None:
        notes.append("the event carries no claimed overall saving %")
    support = _number(_get(data, "approved_support_vnd", "approved_amount_vnd", "approved_vnd", "grant.approved_vnd"))
    return ApplicationFacts(
        application_id=application_id,
        facility_id=facility_id,
        dossier_code=_text(_get(data, "dossier_code", "dossier.code"), 64),
        facility_name=_text(_get(data, "facility_name", "facility.name"), 300),
        enterprise_id=_uuid(_get(data, "enterprise_id", "enterprise.id")),
        enterprise_tax_code=_text(_get(data, "enterprise_tax_code", "tax_code", "enterprise.tax_code"), 20),
        enterprise_name=_text(_get(data, "enterprise_name", "enterprise.name"), 300),
        sector_code=_text(_get(data, "sector_code", "sector", "facility.sector_code"), 32),
        title=_text(_get(data, "title", "project_title"), 300),
        supplier_name=_text(_get(data, "supplier.name", "supplier_name", "technology_supplier.name",
                                 "technology_supplier_name"), 300),
        supplier_tax_code=_text(_get(data, "supplier.tax_code", "supplier_tax_code", "technology_supplier.tax_code",
                                     "technology_supplier_tax_code"), 20),
        claimed_overall_pct=overall,
        claimed_per_carrier=per_carrier,
        approved_support_vnd=int(support) if support is not None and support >= 0 else None,
        implementation_start=_date(_get(data, "implementation_start", "implementation.start")),
        implementation_end=_date(_get(data, "implementation_end", "implementation.end")),
        completed_on=_date(_get(data, "completed_on", "completion_date", "completed_at")),
        notes=notes,
    )
