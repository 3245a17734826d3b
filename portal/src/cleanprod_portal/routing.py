"""Pages answered without FastAPI's per-request dependency machinery (issue 13; docs/performance.md "Portal pages").

For each request FastAPI solves the route's dependencies generically — two exit stacks, the parameter validation of
every dependency, the exception wrapper of the route, telemetry hooks — about a third of what the portal does
before a page's first gateway call (measured). Most pages declare nothing but the portal's own dependencies
(deps.py: the session, "logged in (with this role)", the API client, the app-wide CSRF check), `Request` and `str`
path parameters. `answer_plain_pages(app)` gives each such route an ASGI app that calls the same dependency
functions itself, in FastAPI's order and each once per request (FastAPI's cache), then the route function. A
route with anything else — query, header, cookie, form or body parameters, a generator or sync dependency, an
answer that is not a `Response` — keeps FastAPI's handler, as does every route while `app.dependency_overrides`
is not empty (tests). Exceptions reach the app's exception handlers as before (Starlette's ExceptionMiddleware).
"""

from __future__ import annotations

import inspect
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from fastapi import FastAPI
from fastapi.dependencies.models import Dependant
from fastapi.dependencies.utils import get_typed_return_annotation
from fastapi.routing import APIRoute
from starlette.requests import Request
from starlette.responses import Response
from starlette.types import ASGIApp, Receive, Scope, Send


@dataclass(frozen=True)
class _Plan:
    """What one function (a dependency or the route's) is called with."""

    call: Callable[..., Any]
    name: str | None  # the parameter of the caller it fills (None: a route or app-wide dependency)
    request_param: str | None
    path_params: tuple[str, ...]
    dependencies: tuple[_Plan, ...]


def _plain_str(field: Any) -> bool:  # noqa: ANN401 - FastAPI's ModelField
    info = field.field_info
    return info.annotation is str and not info.metadata and field.alias == field.name


def _plan(dependant: Dependant) -> _Plan | None:
    """The dependant as a plan, or None if it needs something only FastAPI's solver provides."""
    if (
        dependant.query_params
        or dependant.header_params
        or dependant.cookie_params
        or dependant.body_params
        or dependant.websocket_param_name
        or dependant.http_connection_param_name
        or dependant.response_param_name
        or dependant.background_tasks_param_name
        or dependant.security_scopes_param_name
        or dependant.call is None
        or not inspect.iscoroutinefunction(dependant.call)
        or not all(_plain_str(field) for field in dependant.path_params)
    ):
        return None
    dependencies = []
    for sub in dependant.dependencies:
        planned = _plan(sub) if sub.use_cache else None
        if planned is None:
            return None
        dependencies.append(planned)
    return _Plan(
        call=dependant.call,
        name=dependant.name,
        request_param=dependant.request_param_name,
        path_params=tuple(field.name for field in dependant.path_params),
        dependencies=tuple(dependencies),
    )


def _answers_a_response(endpoint: Callable[..., Any]) -> bool:
    """Declared to answer a Response (which FastAPI passes on as it is; anything else it would serialise)."""
    try:
        answer = get_typed_return_annotation(endpoint)
    except Exception:  # noqa: BLE001 - a hint that does not resolve: leave the route to FastAPI
        return False
    return isinstance(answer, type) and issubclass(answer, Response)


async def _arguments(plan: _Plan, request: Request, solved: dict[Callable[..., Any], Any]) -> dict[str, Any]:
    values: dict[str, Any] = {}
    if plan.request_param:
        values[plan.request_param] = request
    if plan.path_params:
        path_params = request.scope["path_params"]
        for name in plan.path_params:
            values[name] = path_params[name]
    for dependency in plan.dependencies:
        if dependency.call in solved:
            value = solved[dependency.call]
        else:
            value = await dependency.call(**await _arguments(dependency, request, solved))
            solved[dependency.call] = value
        if dependency.name:
            values[dependency.name] = value
    return values


def _plain_page(plan: _Plan, fastapi_app: ASGIApp, app: FastAPI) -> ASGIApp:
    async def page(scope: Scope, receive: Receive, send: Send) -> None:
        if app.dependency_overrides:  # an override may take other parameters: FastAPI resolves those
            await fastapi_app(scope, receive, send)
            return
        request = Request(scope, receive, send)
        response = await plan.call(**await _arguments(plan, request, {}))
        await response(scope, receive, send)

    return page


def answer_plain_pages(app: FastAPI) -> list[str]:
    """Gives every plain route of the app (see the module) its lean ASGI app; returns their paths."""
    plain = []
    for route in app.router.routes:
        if not isinstance(route, APIRoute) or route.response_model is not None:
            continue
        plan = _plan(route.dependant)
        if plan is None or not _answers_a_response(route.endpoint):
            continue
        route.app = _plain_page(plan, route.app, app)
        plain.append(route.path)
    return plain
