"""What the services' hardening tests share: forged cursors, the routes that take a cursor, the non-nullable
fields of a PATCH body and the OpenAPI problem check (problem+json answers: `testing.problems`)."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
from typing import Any

from fastapi import FastAPI
from fastapi.routing import APIRoute, iter_route_contexts
from pydantic import BaseModel

from ..fields import admits_none
from ..pagination import DEV_CURSOR_KEY
from .problems import PROBLEM

CURSOR_PARAMETERS = ("cursor", "after")  # `after`: the e-government event feed's cursor


def _b64(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def _dev_signed(value: Any) -> str:
    payload = _b64(json.dumps(value).encode())
    return f"{payload}.{_b64(hmac.new(DEV_CURSOR_KEY, payload.encode(), hashlib.sha256).digest()[:16])}"


# Valid base64 JSON of every type, unsigned (as an attacker writes them) and signed with the published dev key
# (as if the key had leaked: the strict decoding must still refuse what does not fit the list).
JSON_VALUES: list[Any] = [
    0,
    1.5,
    True,
    None,
    "x",
    {"a": 1},
    [],
    [0],
    [True],
    [None],
    [2**70],
    [-(2**70)],
    [1e300],
    ["not-a-uuid"],
    [{"a": [1]}],
    [[1, 2]],
    ["x", "y", "z", "w"],
    [0, 0],
    [True, False],
    [[1], {"b": 2}],
]
# Signed, these are real positions: an audit id, an event-feed position, a text key (sectors are paged by code).
_FIT_SOME_LIST = ([0], [None], [0, 0], ["not-a-uuid"])
FORGED_CURSORS: list[str] = (
    [_b64(json.dumps(v).encode()) for v in JSON_VALUES]
    + [_dev_signed(v) for v in JSON_VALUES if v not in _FIT_SOME_LIST]
    + ["%%%", "a.b", "e30.e30", "e30", "Hà.Nội", "W10.ü", "ä"]
)


def cursor_routes(app: FastAPI) -> list[tuple[str, str]]:
    """(path template, cursor parameter name) of every GET route that takes a cursor."""
    found = []
    for route in iter_route_contexts(app.routes):
        if isinstance(route.original_route, APIRoute) and "GET" in (route.methods or ()):
            for param in route.dependant.query_params:
                if param.alias in CURSOR_PARAMETERS:
                    found.append((route.path_format, param.alias))
    return sorted(set(found))


def non_nullable_fields(schema: type[BaseModel]) -> list[str]:
    return [name for name, info in schema.model_fields.items() if not admits_none(info.annotation)]


def openapi_problems(document: dict[str, Any]) -> list[str]:
    """What in an OpenAPI document fails to describe the problem+json answers."""
    found = []
    text = json.dumps(document)
    for name in ("HTTPValidationError", '"ValidationError"'):
        if name in text:
            found.append(f"FastAPI's {name} remains")
    if "Problem" not in document.get("components", {}).get("schemas", {}):
        found.append("no Problem schema")
    for path, operations in document.get("paths", {}).items():
        for method, operation in operations.items():
            responses = operation.get("responses", {})
            for status in ("400", "422", "500", "503"):
                if status not in responses:
                    found.append(f"{method.upper()} {path}: {status} undocumented")
            if "{" in path and "404" not in responses:
                found.append(f"{method.upper()} {path}: 404 undocumented")
            for status, response in responses.items():
                if status.isdigit() and int(status) >= 400 and list(response.get("content", {})) != [PROBLEM]:
                    found.append(f"{method.upper()} {path}: {status} is not problem+json")
    return found
