"""What the enterprise pages read from the registry again and again: the user's own enterprise record, its units
(head office and branch units), the sectors. Also the labels of the registry's fixed choices."""

from __future__ import annotations

from typing import Any

from ..api import Api
from ..deps import PortalSession
from ..i18n import N_, current_language, gettext

LEGAL_FORMS: dict[str, str] = {
    "llc_single_member": N_("Single-member limited liability company"),
    "llc_multi_member": N_("Multi-member limited liability company"),
    "joint_stock": N_("Joint-stock company"),
    "partnership": N_("Partnership"),
    "private": N_("Private enterprise"),
    "state_owned": N_("State-owned enterprise"),
    "cooperative": N_("Cooperative"),
    "household_business": N_("Household business"),
}
SIZE_CLASSES: dict[str, str] = {
    "micro": N_("Micro"),
    "small": N_("Small"),
    "medium": N_("Medium-sized"),
    "large": N_("Large"),
}
FACILITY_STATUSES: dict[str, str] = {"active": N_("Active"), "suspended": N_("Suspended"), "closed": N_("Closed")}


def choices(labels: dict[str, str]) -> list[tuple[str, str]]:
    return [(value, gettext(label)) for value, label in labels.items()]


def label(labels: dict[str, str], value: str | None) -> str:
    return gettext(labels[value]) if value in labels else (value or "")


async def enterprise_units(api: Api) -> list[dict[str, Any]]:
    """The enterprises the user's account covers: its own and, for a head office, its branch units."""
    return await api.all_pages("/enterprises", max_items=200)


def own_record(user: PortalSession, units: list[dict[str, Any]]) -> dict[str, Any] | None:
    """The unit whose tax code is the account's own (the head office for a head office's account)."""
    own = (user.tax_code or "").replace("-", "")
    return next((u for u in units if u["tax_code"].replace("-", "") == own), None)


def branches(user: PortalSession, units: list[dict[str, Any]]) -> list[dict[str, Any]]:
    own = own_record(user, units)
    return [u for u in units if own is None or u["id"] != own["id"]]


async def sectors(api: Api) -> list[dict[str, Any]]:
    return await api.get("/sectors")


def sector_name(sector: dict[str, Any]) -> str:
    return sector["name_en"] if current_language() == "en" else sector["name_vi"]


def sector_options(all_sectors: list[dict[str, Any]]) -> list[tuple[str, str]]:
    return sorted(((s["code"], sector_name(s)) for s in all_sectors), key=lambda item: item[1].lower())


def if_match(version: Any) -> str | None:
    """The hidden `version` of a form as an If-Match header value."""
    text = str(version or "").strip().strip('"')
    return f'"{text}"' if text.isdigit() else None
