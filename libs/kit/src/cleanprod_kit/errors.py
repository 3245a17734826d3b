"""RFC 9457 problem details for every error a service answers.

Domain code raises `Problem` (or a subclass); FastAPI's own errors (validation, HTTPException, malformed JSON)
and anything unexpected are translated here too, so a client never sees a stack trace or a non-problem body.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Mapping
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from sqlalchemy.orm.exc import StaleDataError
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.responses import JSONResponse

from .requestid import current_request_id

PROBLEM_JSON = "application/problem+json"
TYPE_BASE = "https://cleanprod.example.gov.vn/problems/"
log = logging.getLogger("cleanprod.errors")


class ProblemResponse(JSONResponse):
    media_type = PROBLEM_JSON


class Problem(Exception):
    status: int = 400
    title: str = "Bad request"
    slug: str = "bad-request"

    def __init__(
        self,
        detail: str | None = None,
        *,
        status: int | None = None,
        title: str | None = None,
        slug: str | None = None,
        errors: Iterable[Mapping[str, Any]] | None = None,
        headers: Mapping[str, str] | None = None,
        **extensions: Any,
    ) -> None:
        super().__init__(detail or title or self.title)
        if status is not None:
            self.status = status
        if title is not None:
            self.title = title
        if slug is not None:
            self.slug = slug
        self.detail = detail or self.title
        self.errors = list(errors) if errors else []
        self.headers = dict(headers or {})
        self.extensions = extensions

    def to_body(self, instance: str | None = None) -> dict[str, Any]:
        body: dict[str, Any] = {
            "type": TYPE_BASE + self.slug,
            "title": self.title,
            "status": self.status,
            "detail": self.detail,
        }
        if instance:
            body["instance"] = instance
        if self.errors:
            body["errors"] = self.errors
        rid = current_request_id()
        if rid:
            body["request_id"] = rid
        body.update(self.extensions)
        return body


class BadRequest(Problem):
    status, title, slug = 400, "Bad request", "bad-request"


class Unauthorized(Problem):
    status, title, slug = 401, "Unauthorized", "unauthorized"

    def __init__(self, detail: str | None = None, **kw: Any) -> None:
        headers = kw.pop("headers", None) or {"WWW-Authenticate": 'Bearer error="invalid_token"'}
        super().__init__(detail, headers=headers, **kw)


class Forbidden(Problem):
    status, title, slug = 403, "Forbidden", "forbidden"


class NotFound(Problem):
    status, title, slug = 404, "Not found", "not-found"


class Conflict(Problem):
    status, title, slug = 409, "Conflict", "conflict"


class PreconditionFailed(Problem):
    status, title, slug = 412, "Precondition failed", "stale-version"


class PayloadTooLarge(Problem):
    status, title, slug = 413, "Payload too large", "payload-too-large"


class UnsupportedMediaType(Problem):
    status, title, slug = 415, "Unsupported media type", "unsupported-media-type"


class Unprocessable(Problem):
    status, title, slug = 422, "Unprocessable content", "validation-error"


class PreconditionRequired(Problem):
    status, title, slug = 428, "Precondition required", "if-match-required"


class TooManyRequests(Problem):
    status, title, slug = 429, "Too many requests", "rate-limited"


class BadGateway(Problem):
    status, title, slug = 502, "Bad gateway", "bad-gateway"


class ServiceUnavailable(Problem):
    status, title, slug = 503, "Service unavailable", "service-unavailable"


def field_error(field: str, message: str, code: str = "invalid") -> dict[str, str]:
    return {"field": field, "message": message, "code": code}


def problem_response(problem: Problem, request: Request | None = None) -> ProblemResponse:
    instance = str(request.url.path) if request is not None else None
    body = problem.to_body(instance)
    headers = dict(problem.headers)
    if "request_id" not in body and request is not None:
        # Outside the request-id middleware (the catch-all 500 handler runs there) the contextvar is gone, but the
        # id the middleware chose is still in the request's scope: every 5xx body carries it.
        rid = request.scope.get("state", {}).get("request_id")
        if rid:
            body["request_id"] = rid
            headers.setdefault("X-Request-ID", rid)
    return ProblemResponse(body, status_code=problem.status, headers=headers)


def internal_error_response(request: Request, exc: BaseException) -> ProblemResponse:
    log.error("unhandled error on %s %s", request.method, request.url.path, exc_info=exc)
    return problem_response(
        Problem("An unexpected error occurred; it has been logged.", status=500, title="Internal error",
                slug="internal-error"),
        request,
    )


def _field_path(loc: Iterable[Any]) -> str:
    parts = [str(p) for p in loc]
    if parts and parts[0] in {"body", "query", "path", "header", "cookie"}:
        scope, rest = parts[0], parts[1:]
        return ".".join(rest) if scope == "body" and rest else (f"{scope}.{'.'.join(rest)}" if rest else scope)
    return ".".join(parts)


def _validation_problem(exc: RequestValidationError) -> Problem:
    errors = []
    malformed = False
    for err in exc.errors():
        kind = err.get("type", "invalid")
        if kind == "json_invalid":
            malformed = True
        message = str(err.get("msg", "invalid value"))
        if kind == "extra_forbidden":
            message = "Unknown field; remove it (the API rejects fields it does not define)"
        errors.append(field_error(_field_path(err.get("loc", ())), message, kind))
    if malformed:
        return BadRequest(
            "The request body is not valid JSON (or not UTF-8). Send a JSON object encoded in UTF-8.",
            slug="malformed-body",
            errors=errors,
        )
    names = ", ".join(e["field"] for e in errors[:5])
    return Unprocessable(f"Some fields are invalid: {names}. See errors[] for each one.", errors=errors)


def install_problem_handlers(app: FastAPI) -> None:
    @app.exception_handler(Problem)
    async def _problem(request: Request, exc: Problem) -> ProblemResponse:
        return problem_response(exc, request)

    @app.exception_handler(RequestValidationError)
    async def _validation(request: Request, exc: RequestValidationError) -> ProblemResponse:
        return problem_response(_validation_problem(exc), request)

    @app.exception_handler(StarletteHTTPException)
    async def _http(request: Request, exc: StarletteHTTPException) -> ProblemResponse:
        titles = {404: "Not found", 405: "Method not allowed", 401: "Unauthorized", 403: "Forbidden"}
        problem = Problem(
            str(exc.detail) if exc.detail else titles.get(exc.status_code, "Error"),
            status=exc.status_code,
            title=titles.get(exc.status_code, "Error"),
            slug=titles.get(exc.status_code, "error").lower().replace(" ", "-"),
            headers=getattr(exc, "headers", None),
        )
        return problem_response(problem, request)

    @app.exception_handler(StaleDataError)
    async def _stale(request: Request, exc: StaleDataError) -> ProblemResponse:
        # Two writers passed the If-Match check at once; the versioned UPDATE let only one through.
        return problem_response(
            PreconditionFailed("The resource was changed by someone else; fetch it again and retry."), request
        )

    @app.exception_handler(Exception)
    async def _unexpected(request: Request, exc: Exception) -> ProblemResponse:
        return internal_error_response(request, exc)
