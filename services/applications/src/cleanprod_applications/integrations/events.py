"""Which outbox events e-government systems see, and the event-type patterns they filter with.

Every event of the applications outbox is exposed except those of applications without a dossier code: a draft
(and a draft withdrawn) is not a dossier yet, so one-stop systems never hear of it (docs/egov-status-mapping.md).
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import Any

from sqlalchemy import ColumnElement, or_

from cleanprod_kit.models import OutboxEvent

from ..applications.flows import EVENT_TYPES
from ..payments.service import EVENT_TYPES as PAYMENT_EVENT_TYPES
from ..supplements.service import EVENT_TYPES as SUPPLEMENT_EVENT_TYPES

APPLICATION_EVENTS = (*EVENT_TYPES.values(), *SUPPLEMENT_EVENT_TYPES.values(), *PAYMENT_EVENT_TYPES.values())
CALL_EVENTS = ("call.created", "call.updated")
KNOWN_EVENT_TYPES = (*APPLICATION_EVENTS, *CALL_EVENTS)

PATTERN_RE = re.compile(r"^(\*|[a-z][a-z0-9_]*(\.[a-z][a-z0-9_]*)*(\.\*)?)$")
"""`*` (everything), an exact type (`application.approved`) or a prefix with `.*` (`application.*`)."""


def matches(pattern: str, event_type: str) -> bool:
    if pattern == "*":
        return True
    if pattern.endswith(".*"):
        return event_type.startswith(pattern[:-1])
    return event_type == pattern


def matches_any(patterns: Iterable[str], event_type: str) -> bool:
    return any(matches(p, event_type) for p in patterns)


def pattern_problem(pattern: str) -> str | None:
    """Why `pattern` is not usable (None when it is)."""
    if not PATTERN_RE.fullmatch(pattern):
        return "use '*', an event type such as 'application.approved', or a prefix such as 'application.*'"
    if not any(matches(pattern, t) for t in KNOWN_EVENT_TYPES):
        return f"matches no event type; known types: {', '.join(KNOWN_EVENT_TYPES)}"
    return None


def usable_patterns() -> list[str]:
    """Every pattern `pattern_problem` accepts (a finite list: '*', each type, each dotted prefix + '.*'), so the
    OpenAPI document can state it as an enum."""
    candidates = {"*", *KNOWN_EVENT_TYPES}
    for event_type in KNOWN_EVENT_TYPES:
        parts = event_type.split(".")
        candidates |= {".".join(parts[:n]) + ".*" for n in range(1, len(parts) + 1)}
    return sorted(p for p in candidates if pattern_problem(p) is None)


def type_filter(patterns: Iterable[str]) -> ColumnElement[bool] | None:
    """SQL for "the event type matches one of the patterns" (None: no filter)."""
    conditions: list[Any] = []
    for pattern in patterns:
        if pattern == "*":
            return None
        if pattern.endswith(".*"):
            conditions.append(OutboxEvent.event_type.startswith(pattern[:-1], autoescape=True))  # type: ignore[attr-defined]
        else:
            conditions.append(OutboxEvent.event_type == pattern)
    return or_(*conditions) if conditions else None


def exposed() -> ColumnElement[bool]:
    """SQL for "e-government systems may see this event" (see the module docstring)."""
    return or_(OutboxEvent.aggregate_type != "application", OutboxEvent.payload["dossier_code"].astext.is_not(None))  # type: ignore[index]


def is_exposed(aggregate_type: str, payload: dict[str, Any]) -> bool:
    return aggregate_type != "application" or payload.get("dossier_code") is not None
