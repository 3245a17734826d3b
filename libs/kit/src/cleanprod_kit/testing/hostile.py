"""What the services' hardening tests share: forged cursors, the routes that take a cursor, the non-nullable
fields of a PATCH body and the OpenAPI problem check (problem+json answers: `testing.problems`)."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
from collections.abc import Callable, Iterable
from typing import Any

import httpx
from fastapi import FastAPI
from fastapi.routing import APIRoute, iter_route_contexts
from pydantic import BaseModel

from infra.ports import free_port  # the repository root is on sys.path (pytest `pythonpath`)

from .. import guard_codes
from ..fields import admits_none
from ..pagination import DEV_CURSOR_KEY
from .problems import PROBLEM, assert_problem

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


async def assert_forged_cursors_refused(
    client: httpx.AsyncClient, url: str, parameter: str, headers: dict[str, str]
) -> None:
    """The list answers without a cursor, and every forged cursor is a 422 naming the cursor parameter."""
    assert (await client.get(url, headers=headers)).status_code == 200
    for cursor in FORGED_CURSORS:
        response = await client.get(url, params={parameter: cursor}, headers=headers)
        assert_problem(response, 422, field=f"query.{parameter}", code=guard_codes.INVALID_CURSOR)


async def assert_database_down_is_503(
    create_app: Callable[[Any], FastAPI],
    settings: Any,
    database: str,
    paths: Iterable[str],
    headers: dict[str, str],
    request_id: str,
) -> None:
    """With the database unreachable (nothing listens on its port), every path answers a 503 problem that carries
    the request id and a Retry-After."""
    down_settings = settings.model_copy(
        update={"database_url": f"postgresql+asyncpg://postgres@127.0.0.1:{free_port()}/{database}"}
    )
    app = create_app(down_settings)
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
        async with httpx.AsyncClient(transport=transport, base_url="http://t") as down:
            for path in paths:
                response = await down.get(path, headers={**headers, "X-Request-ID": request_id})
                body = assert_problem(response, 503, code=guard_codes.DATABASE_UNAVAILABLE)
                assert body["request_id"] == request_id and int(response.headers["retry-after"]) > 0


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
