"""What officer screens read from the registry: who can be assigned (`GET /staff?role=…`, Keycloak realm-role
members) and the sector names."""

from __future__ import annotations

from typing import Any


async def staff_members(api: Any, role: str) -> list[dict[str, Any]]:
    return await api.get("/staff", role=role)


async def sector_names(api: Any) -> dict[str, str]:
    """code → the sector's name in the user's language (the registry's staff list of sectors)."""
    from ..i18n import current_language

    key = "name_en" if current_language() == "en" else "name_vi"
    return {s["code"]: s.get(key) or s["name_vi"] for s in await api.get("/sectors")}
