"""Which event types a service's source writes, read from the code itself, so a test can check each one is in
the kit's table of publishers (`cleanprod_kit.publishers`) with that service as its publisher.

Every outbox write goes through `cleanprod_kit.outbox.emit(session, <event type>, aggregate_type=…, …)` (or its
queued twin `queue_event`, same arguments); the
event type is a literal, a module-level name (or attribute) or a lookup in a module-level mapping (every value
counts). Anything else — or an `OutboxEvent(...)` built by hand — is reported, so the scan cannot silently miss
a write.
"""

from __future__ import annotations

import ast
import importlib
from collections.abc import Mapping
from pathlib import Path
from types import ModuleType

from ..publishers import publisher_of


class UnreadableEmit(AssertionError):
    pass


def _is_emit(call: ast.Call) -> bool:
    name = call.func.id if isinstance(call.func, ast.Name) else getattr(call.func, "attr", None)
    return (
        name in ("emit", "queue_event")
        and any(k.arg == "aggregate_type" for k in call.keywords)
        and len(call.args) >= 2
    )


def _event_types(node: ast.expr, module: ModuleType, where: str) -> list[str]:
    namespace = vars(module)
    try:
        if isinstance(node, ast.Subscript):  # EVENT_TYPES[action]: every value of the mapping
            mapping = eval(ast.unparse(node.value), namespace)  # noqa: S307 - our own source, module scope
            if isinstance(mapping, Mapping):
                return [str(v) for v in mapping.values()]
        else:
            value = eval(ast.unparse(node), namespace)  # noqa: S307
            if isinstance(value, str):
                return [value]
    except Exception as exc:  # noqa: BLE001 - reported below with the place
        raise UnreadableEmit(f"{where}: cannot tell the event type of emit({ast.unparse(node)}): {exc}") from None
    raise UnreadableEmit(f"{where}: cannot tell the event type of emit({ast.unparse(node)})")


def emitted_event_types(package: ModuleType) -> dict[str, list[str]]:
    """Event type → the places (`file:line`) in `package` that emit it."""
    root = Path(package.__file__ or "").parent
    found: dict[str, list[str]] = {}
    for path in sorted(root.rglob("*.py")):
        relative = path.relative_to(root)
        if "migrations" in relative.parts:
            continue
        tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
        module: ModuleType | None = None
        for node in ast.walk(tree):
            if not isinstance(node, ast.Call):
                continue
            where = f"{relative}:{node.lineno}"
            callee = node.func.id if isinstance(node.func, ast.Name) else getattr(node.func, "attr", None)
            if callee == "OutboxEvent":
                raise UnreadableEmit(f"{where}: OutboxEvent(...) built by hand; use cleanprod_kit.outbox.emit")
            if not _is_emit(node):
                continue
            if module is None:
                dotted = ".".join((package.__name__, *relative.with_suffix("").parts))
                module = importlib.import_module(dotted.removesuffix(".__init__"))
            for event_type in _event_types(node.args[1], module, where):
                found.setdefault(event_type, []).append(where)
    return found


def misattributed_events(package: ModuleType, service: str) -> list[str]:
    """The event types `package` emits whose publisher in the kit's table is not `service` (empty: all good)."""
    return [
        f"{event_type} (at {', '.join(places)}) → table says {publisher_of(event_type)!r}"
        for event_type, places in sorted(emitted_event_types(package).items())
        if publisher_of(event_type) != service
    ]


SERVICE_ACCOUNTS = ("svc-registry", "svc-applications", "svc-verification", "svc-gateway")


def event_callers(publisher: str, other_role: str) -> list[tuple[str, tuple[str, ...]]]:
    """(client id, roles) of every caller a service's POST /internal/events must tell apart: each service account,
    the e-government account with its own role and with `service`, and the publisher's client id holding
    `other_role` instead of the service role."""
    return [
        *((client, ("service",)) for client in SERVICE_ACCOUNTS),
        ("egov-demo", ("egov",)),
        ("egov-demo", ("service",)),
        (publisher, (other_role,)),
    ]
