"""Which buttons a staff member sees: `can(user, "assign")` in templates and routes. The API decides (a forged POST
still gets its 403); this only keeps auditors and others from being offered actions they cannot take."""

from __future__ import annotations

from typing import Any

# action → the roles offered it (the gateway's and the services' write rules, for officers' screens)
ACTIONS: dict[str, frozenset[str]] = {
    "decide": frozenset({"officer"}),
    "assign": frozenset({"officer"}),
    "edit_call": frozenset({"officer"}),
    "manage_accounts": frozenset({"officer"}),
    "manage_sectors": frozenset({"officer"}),
    "manage_webhooks": frozenset({"officer"}),
    "message": frozenset({"officer"}),
    "request_supplement": frozenset({"officer"}),
    "review": frozenset({"reviewer"}),
    "verify": frozenset({"verifier"}),
}


def can(user: Any, action: str) -> bool:
    roles = getattr(user, "roles", None) or []
    return any(role in roles for role in ACTIONS.get(action, ()))
