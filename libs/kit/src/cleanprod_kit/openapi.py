"""The OpenAPI document says what errors each operation answers: problem+json responses derived from the routes.

Applied once by the app factory. Every operation documents 400, 422, 500 and 503; 401/403 where a route checks
the bearer token; 404 where it has path parameters; 409 on writes; 412/428 where it checks If-Match (also: changes through
`changes.Change`, whose `lock()` checks it); 413/415
where it takes a body. FastAPI's own `HTTPValidationError` is replaced by `Problem` (what a 422 really is)."""

from __future__ import annotations

import inspect
from collections.abc import Callable, Iterator
from typing import Any

from fastapi import FastAPI
from fastapi.dependencies.models import Dependant
from fastapi.routing import APIRoute, iter_route_contexts

from .auth import authenticate
from .changes import Change
from .concurrency import check_if_match
from .errors import PROBLEM_JSON
from .fields import NO_CONTROL_PATTERN
from .idempotency import KEY_PATTERN, create_once, insert_once

FIELD_ERROR_SCHEMA: dict[str, Any] = {
    "type": "object",
    "required": ["field", "message", "code"],
    "properties": {
        "field": {"type": "string", "description": "The field: `name`, `items.0.unit`, `query.cursor`, `path.id`"},
        "message": {"type": "string"},
        "code": {"type": "string", "description": "Machine code (snake_case), e.g. `null_not_allowed`"},
    },
}
PROBLEM_SCHEMA: dict[str, Any] = {
    "type": "object",
    "description": "RFC 9457 problem details",
    "required": ["type", "title", "status", "detail"],
    "properties": {
        "type": {"type": "string", "format": "uri"},
        "title": {"type": "string"},
        "status": {"type": "integer"},
        "detail": {"type": "string"},
        "instance": {"type": "string"},
        "request_id": {"type": "string", "description": "The X-Request-ID of the request (always on 5xx)"},
        "code": {"type": "string", "description": "Machine code of the whole problem (snake_case)"},
        "errors": {"type": "array", "items": {"$ref": "#/components/schemas/FieldError"}},
    },
}
DESCRIPTIONS = {
    400: "Malformed request (e.g. a body that is not JSON)",
    401: "Missing, invalid or expired bearer token",
    403: "The caller's role or relation to the resource does not allow this",
    404: "No such resource (or not visible to the caller)",
    409: "Conflicts with the resource's state or with existing data",
    412: "If-Match is stale: the resource changed meanwhile",
    413: "Request body too large",
    415: "Unsupported media type",
    422: "Invalid input: errors[] names each field",
    428: "If-Match is missing",
    500: "Unexpected error (logged; quote request_id)",
    503: "A dependency (the database, another service) is unavailable; retry after Retry-After seconds",
}
WRITES = {"POST", "PUT", "PATCH", "DELETE"}
IF_MATCH = "If-Match"


def if_match_parameter(*, required: bool) -> dict[str, Any]:
    """The If-Match request header. A route that checks it only when sent declares it itself through
    `openapi_extra=OPTIONAL_IF_MATCH`; every other route that checks it gets it as required (428 without)."""
    return {
        "name": IF_MATCH,
        "in": "header",
        "required": required,
        "schema": {"type": "string"},
        "description": 'The ETag of the resource as last read (e.g. `"3"`); 412 when it is stale'
        + ("" if required else " (optional: checked only when sent)"),
    }


OPTIONAL_IF_MATCH: dict[str, Any] = {"parameters": [if_match_parameter(required=False)]}
IDEMPOTENCY_KEY_PARAMETER: dict[str, Any] = {
    "name": "Idempotency-Key",
    "in": "header",
    "required": False,
    "schema": {"type": "string", "pattern": KEY_PATTERN},
    "description": "Retry safely: the same key with the same body replays the first answer (Idempotent-Replayed: "
    "true); the same key with another body is 422",
}
_FASTAPI_DEFAULTS = ("HTTPValidationError", "ValidationError")


def _calls(dependant: Dependant) -> Iterator[Callable[..., Any]]:
    for sub in dependant.dependencies:
        if sub.call is not None:
            yield sub.call
        yield from _calls(sub)


def _references(function: Any, target: Callable[..., Any], depth: int = 3) -> bool:
    """Whether `function`'s code calls `target`, directly or through the module functions it calls."""
    code = getattr(inspect.unwrap(function), "__code__", None)
    if code is None or depth < 0:
        return False
    scope = getattr(inspect.unwrap(function), "__globals__", {})
    codes = [code, *(c for c in code.co_consts if inspect.iscode(c))]
    for name in {n for c in codes for n in c.co_names}:
        value = scope.get(name)
        if value is target or (
            inspect.isfunction(value) and value is not function and _references(value, target, depth - 1)
        ):
            return True
    return False


def _has_path_params(dependant: Dependant) -> bool:
    return bool(dependant.path_params) or any(_has_path_params(sub) for sub in dependant.dependencies)


def _uses_change(route: Any) -> bool:
    """The route changes a resource through the kit's pipeline (a dependency that builds a `changes.Change`)."""
    return any(_references(c, Change, depth=0) for c in _calls(route.dependant))


def _calls_method(function: Any, name: str) -> bool:
    code = getattr(inspect.unwrap(function), "__code__", None)
    codes = [code, *(c for c in code.co_consts if inspect.iscode(c))] if code is not None else []
    return any(name in c.co_names for c in codes)


def _checks_if_match(route: Any) -> bool:
    return (
        _references(route.endpoint, check_if_match)
        or _uses_change(route)
        or any(_references(c, check_if_match) for c in _calls(route.dependant))
    )


def _creates_once(route: Any) -> bool:
    """`idempotency.create_once` (or `insert_once`), called directly or as `change.create_once(…)`."""
    return (
        _references(route.endpoint, create_once)
        or _references(route.endpoint, insert_once)
        or (_uses_change(route) and _calls_method(route.endpoint, "create_once"))
    )


def _add_header(operation: dict[str, Any], parameter: dict[str, Any]) -> None:
    parameters = operation.setdefault("parameters", [])
    if not any(p.get("in") == "header" and p.get("name", "").lower() == parameter["name"].lower() for p in parameters):
        parameters.append(parameter)


def _document_guard(schema: dict[str, Any]) -> None:
    """`guard_parameters` refuses control characters in every query and path parameter: say so in each plain
    string parameter's schema (those with a pattern, format or enum of their own are stricter already)."""
    for branch in schema.get("anyOf", [schema]):
        if branch.get("type") == "string" and not {"pattern", "format", "enum", "const"} & branch.keys():
            branch["pattern"] = NO_CONTROL_PATTERN


def problem_statuses(route: Any, method: str) -> list[int]:
    statuses = {400, 422, 500, 503}
    if any(call is authenticate for call in _calls(route.dependant)):
        statuses |= {401, 403}
    if _has_path_params(route.dependant):  # also a dependency's (e.g. the resource a change reads)
        statuses.add(404)
    if method in WRITES:
        statuses.add(409)
    if _checks_if_match(route):
        statuses |= {409, 412, 428}
    if route.body_field is not None or method in WRITES:
        statuses |= {413, 415}
    return sorted(statuses)


def _problem_response(status: int, existing: dict[str, Any] | None) -> dict[str, Any]:
    response: dict[str, Any] = {
        "description": (existing or {}).get("description") or DESCRIPTIONS.get(status, "Error"),
        "content": {PROBLEM_JSON: {"schema": {"$ref": "#/components/schemas/Problem"}}},
    }
    if status in (503, 429):
        response["headers"] = {"Retry-After": {"schema": {"type": "integer"}, "description": "Seconds to wait"}}
    return response


def _decorate_operation(operation: dict[str, Any], route: Any, method: str) -> None:
    for parameter in operation.get("parameters", []):
        if parameter.get("in") in ("query", "path") and isinstance(parameter.get("schema"), dict):
            _document_guard(parameter["schema"])
    # Request headers the kit reads itself: document them, or clients (and fuzzers) cannot know of them.
    if _checks_if_match(route):
        _add_header(operation, if_match_parameter(required=True))
    if _creates_once(route):
        _add_header(operation, IDEMPOTENCY_KEY_PARAMETER)
    responses = operation.setdefault("responses", {})
    for status in problem_statuses(route, method):
        responses[str(status)] = _problem_response(status, responses.get(str(status)))
    for status, response in list(responses.items()):  # statuses a route declared itself
        if status.isdigit() and int(status) >= 400:
            responses[status] = _problem_response(int(status), response)


def decorate(schema: dict[str, Any], routes: list[Any]) -> dict[str, Any]:
    schemas = schema.setdefault("components", {}).setdefault("schemas", {})
    for name in _FASTAPI_DEFAULTS:
        schemas.pop(name, None)
    schemas["Problem"] = PROBLEM_SCHEMA
    schemas["FieldError"] = FIELD_ERROR_SCHEMA
    for route in iter_route_contexts(routes):  # included routers are nested: walk their effective routes
        if not isinstance(route.original_route, APIRoute) or not route.include_in_schema:
            continue
        for method in route.methods:
            operation = schema.get("paths", {}).get(route.path_format, {}).get(method.lower())
            if operation is not None:
                _decorate_operation(operation, route, method)
    return schema


def document_problems(app: FastAPI) -> None:
    """Make `app.openapi()` describe the problem+json responses of every operation."""

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            app.openapi_schema = decorate(FastAPI.openapi(app), list(app.routes))
        return app.openapi_schema

    app.openapi = openapi  # type: ignore[method-assign]
