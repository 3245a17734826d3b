"""The audit search over the three services: each answers its own entries newest first
(`GET /api/v1/audit/<service>`), the portal merges them by time.

Paging across three keyset lists: the page's state is one cursor per service (`c_<service>`: absent = from the
start, `-` = nothing left). A page takes the newest entries of the three heads (a k-way merge, so what is taken
from each service is a prefix of its list); a service whose fetched entries were only partly shown gets the cursor
just after them by asking again with `limit` = the number shown (the API's cursors are opaque)."""

from __future__ import annotations

import datetime as dt
from collections.abc import AsyncIterator, Mapping
from dataclasses import dataclass
from typing import Any

from ..api import Api

SERVICES = ("registry", "applications", "verification")
DONE = "-"
FILTERS = ("actor", "entity_type", "entity_id", "action", "from", "to", "q")
# Which service keeps which entity's entries (a filter on the type asks only that service).
ENTITY_SERVICES: dict[str, str] = {
    "enterprise": "registry",
    "facility": "registry",
    "baseline": "registry",
    "sector": "registry",
    "norm": "registry",
    "account": "registry",
    "application": "applications",
    "call": "applications",
    "webhook_subscription": "applications",
    "verification": "verification",
}


def _moment(entry: Mapping[str, Any]) -> dt.datetime:
    return dt.datetime.fromisoformat(str(entry["at"]).replace("Z", "+00:00"))


def services_for(filters: Mapping[str, Any]) -> tuple[str, ...]:
    service = ENTITY_SERVICES.get(str(filters.get("entity_type") or ""))
    return (service,) if service else SERVICES


@dataclass
class AuditPage:
    entries: list[dict[str, Any]]  # each with "service" added
    next_state: dict[str, str] | None  # cursors for the next page (None: this is the last page)


def _take(heads: dict[str, list[dict[str, Any]]], count: int) -> tuple[list[dict[str, Any]], dict[str, int]]:
    """The `count` newest entries of the heads (each newest first) and how many came from each."""
    taken: list[dict[str, Any]] = []
    used = dict.fromkeys(heads, 0)
    while len(taken) < count:
        candidates = [s for s in heads if used[s] < len(heads[s])]
        if not candidates:
            break
        best = max(candidates, key=lambda s: (_moment(heads[s][used[s]]), s))
        taken.append({**heads[best][used[best]], "service": best})
        used[best] += 1
    return taken, used


async def search_page(
    api: Api, filters: Mapping[str, Any], state: Mapping[str, str | None], per_page: int
) -> AuditPage:
    heads: dict[str, list[dict[str, Any]]] = {}
    cursors: dict[str, str | None] = {}
    for service in services_for(filters):
        cursor = state.get(service)
        if cursor == DONE:
            continue
        page = await api.get(f"/audit/{service}", limit=per_page, cursor=cursor, **filters)
        heads[service], cursors[service] = page.get("items", []), page.get("next_cursor")
    entries, used = _take(heads, per_page)
    next_state: dict[str, str] = {}
    for service, items in heads.items():
        shown = used[service]
        if shown == len(items):
            next_state[service] = cursors[service] or DONE
        elif shown == 0:
            cursor = state.get(service)
            if cursor:
                next_state[service] = cursor
        else:
            after = await api.get(f"/audit/{service}", limit=shown, cursor=state.get(service), **filters)
            next_state[service] = after.get("next_cursor") or DONE
    for service in SERVICES:
        if service not in heads:
            next_state[service] = DONE
    more = any(next_state.get(s) != DONE for s in SERVICES)
    return AuditPage(entries, next_state if more else None)


async def every_entry(
    api: Api, filters: Mapping[str, Any], *, page_size: int = 200, max_items: int = 20_000
) -> AsyncIterator[dict[str, Any]]:
    """Every matching entry of the three services, newest first (for the CSV), at most `max_items`."""
    state: dict[str, str | None] = {}
    sent = 0
    while True:
        page = await search_page(api, filters, state, page_size)
        for entry in page.entries:
            if sent >= max_items:
                return
            yield entry
            sent += 1
        if page.next_state is None:
            return
        state = dict(page.next_state)
