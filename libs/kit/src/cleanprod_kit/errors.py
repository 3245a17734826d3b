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
from fastapi.routing import iter_route_contexts
from sqlalchemy.orm.exc import StaleDataError
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.responses import JSONResponse

from . import messages
from .requestid import current_request_id

PROBLEM_JSON = "application/problem+json"
TYPE_BASE = "https://cleanprod.example.gov.vn/problems/"
log = logging.getLogger("cleanprod.errors")


class ProblemResponse(JSONResponse):
    media_type = PROBLEM_JSON


class Problem(Exception):
    """A problem+json answer. `code` names its entry in `messages.CATALOGUE` (title and message in English and
    Vietnamese, with `params` filling the message's placeholders); without a `code`, one made from an explicit
    `slug` (`not-editable` → `not_editable`), else the class's own. An explicit `detail` is the English detail
    (kept for raises that word a case more precisely); the Vietnamese one always comes from the catalogue."""

    status: int = 400
    title: str = "Bad request"
    slug: str = "bad-request"
    code: str = "bad_request"

    def __init__(
        self,
        detail: str | None = None,
        *,
        status: int | None = None,
        title: str | None = None,
        slug: str | None = None,
        code: str | None = None,
        params: Mapping[str, Any] | None = None,
        errors: Iterable[Mapping[str, Any]] | None = None,
        headers: Mapping[str, str] | None = None,
        **extensions: Any,
    ) -> None:
        if status is not None:
            self.status = status
        if slug is not None:
            self.slug = slug
        if code is not None:
            self.code = code
        elif slug is not None:
            self.code = slug.replace("-", "_")
        self.params = dict(params or {})
        self._title = title
        if title is not None:
            self.title = title
        elif self.code in messages.CATALOGUE:
            self.title = messages.CATALOGUE[self.code].title_en
        self._detail = detail
        self.detail = detail or messages.message(self.code, "en", self.params) or self.title
        super().__init__(self.detail)
        self.errors = list(errors) if errors else []
        self.headers = dict(headers or {})
        self.extensions = extensions

    def to_body(self, instance: str | None = None, language: str = messages.DEFAULT_LANGUAGE) -> dict[str, Any]:
        title, detail = self.title, self.detail
        if language != messages.DEFAULT_LANGUAGE:
            title = messages.title(self.code, language) or messages.title(type(self).code, language) or title
            detail = messages.message(self.code, language, self.params) or detail
        body: dict[str, Any] = {
            "type": TYPE_BASE + self.slug,
            "title": title,
            "status": self.status,
            "detail": detail,
            "code": self.code,
        }
        if instance:
            body["instance"] = instance
        if self.errors:
            body["errors"] = [render_field_error(e, language) for e in self.errors]
        rid = current_request_id()
        if rid:
            body["request_id"] = rid
        body.update(self.extensions)
        return body


class BadRequest(Problem):
    status, title, slug, code = 400, "Bad request", "bad-request", "bad_request"


class Unauthorized(Problem):
    status, title, slug, code = 401, "Unauthorized", "unauthorized", "unauthorized"

    def __init__(self, detail: str | None = None, **kw: Any) -> None:
        headers = kw.pop("headers", None) or {"WWW-Authenticate": 'Bearer error="invalid_token"'}
        super().__init__(detail, headers=headers, **kw)


class Forbidden(Problem):
    status, title, slug, code = 403, "Forbidden", "forbidden", "forbidden"


class NotFound(Problem):
    status, title, slug, code = 404, "Not found", "not-found", "not_found"


class Conflict(Problem):
    status, title, slug, code = 409, "Conflict", "conflict", "conflict"


class PreconditionFailed(Problem):
    status, title, slug, code = 412, "Precondition failed", "stale-version", "stale_version"


class PayloadTooLarge(Problem):
    status, title, slug, code = 413, "Payload too large", "payload-too-large", "payload_too_large"


class UnsupportedMediaType(Problem):
    status, title, slug, code = 415, "Unsupported media type", "unsupported-media-type", "unsupported_media_type"


class Unprocessable(Problem):
    status, title, slug, code = 422, "Unprocessable content", "validation-error", "validation_failed"


class PreconditionRequired(Problem):
    status, title, slug, code = 428, "Precondition required", "if-match-required", "if_match_required"


class TooManyRequests(Problem):
    status, title, slug, code = 429, "Too many requests", "rate-limited", "rate_limited"


class BadGateway(Problem):
    status, title, slug, code = 502, "Bad gateway", "bad-gateway", "bad_gateway"


class ServiceUnavailable(Problem):
    status, title, slug, code = 503, "Service unavailable", "service-unavailable", "service_unavailable"


class InvalidValue(ValueError):
    """Raised by a validator with a project code: pydantic reports it as `value_error`, and the problem handler
    answers with `code` (and the catalogue's English and Vietnamese texts, filled with `params`)."""

    def __init__(self, code: str, message: str | None = None, **params: Any) -> None:
        self.code = code
        self.params = params
        super().__init__(message or messages.message(code, "en", params) or code)


_PARAMS = "_params"  # private key of a field error: the values its catalogue message names (never sent)


def field_error(field: str, message: str | None = None, code: str = "invalid", **params: Any) -> dict[str, Any]:
    """One entry of errors[]. Without `message`, the English text is the catalogue's for `code` (filled with
    `params`); a Vietnamese answer always takes the catalogue's text."""
    error: dict[str, Any] = {
        "field": field,
        "message": message or messages.message(code, "en", params) or code,
        "code": code,
    }
    if params:
        error[_PARAMS] = params
    return error


def render_field_error(error: Mapping[str, Any], language: str) -> dict[str, Any]:
    rendered = {k: v for k, v in error.items() if k != _PARAMS}
    if language != messages.DEFAULT_LANGUAGE:
        text = messages.message(str(error.get("code", "")), language, error.get(_PARAMS))
        if text:
            rendered["message"] = text
    return rendered


def request_language(request: Request | None) -> str:
    return (
        messages.preferred_language(request.headers.get("accept-language"))
        if request is not None
        else messages.DEFAULT_LANGUAGE
    )


def problem_response(problem: Problem, request: Request | None = None) -> ProblemResponse:
    instance = str(request.url.path) if request is not None else None
    body = problem.to_body(instance, request_language(request))
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
    response = problem_response(Problem(status=500, slug="internal-error", code="internal_error"), request)
    # Starlette re-raises after this answer and uvicorn then closes the connection: say so, or a proxy
    # reuses the connection for another user's request and gets a reset.
    response.headers["Connection"] = "close"
    return response


def _field_path(loc: Iterable[Any]) -> str:
    parts = [str(p) for p in loc]
    if parts and parts[0] in {"body", "query", "path", "header", "cookie"}:
        scope, rest = parts[0], parts[1:]
        return ".".join(rest) if scope == "body" and rest else (f"{scope}.{'.'.join(rest)}" if rest else scope)
    return ".".join(parts)


HTTP_CODES = {404: "not_found", 405: "method_not_allowed", 401: "unauthorized", 403: "forbidden"}
"""Codes of the framework's own HTTP errors (unknown path, wrong method …)."""

# pydantic's error types → the project's codes (messages.CATALOGUE); the ctx key that fills `{limit}` etc.
_PYDANTIC_CODES: dict[str, tuple[str, str | None]] = {
    "missing": ("required", None),
    "string_too_short": ("too_short", None),
    "string_too_long": ("too_long", None),
    "too_short": ("too_few_items", None),
    "too_long": ("too_many_items", None),
    "int_parsing": ("not_an_integer", None),
    "int_type": ("not_an_integer", None),
    "int_from_float": ("not_an_integer", None),
    "float_parsing": ("not_a_number", None),
    "float_type": ("not_a_number", None),
    "decimal_parsing": ("not_a_number", None),
    "decimal_type": ("not_a_number", None),
    "finite_number": ("not_a_number", None),
    "decimal_max_digits": ("too_many_decimals", None),
    "decimal_max_places": ("too_many_decimals", None),
    "decimal_whole_digits": ("too_many_decimals", None),
    "greater_than": ("must_be_greater", "gt"),
    "greater_than_equal": ("too_small", "ge"),
    "less_than": ("must_be_less", "lt"),
    "less_than_equal": ("too_large", "le"),
    "extra_forbidden": ("unknown_field", None),
    "string_pattern_mismatch": ("invalid_format", None),
    "date_parsing": ("invalid_date", None),
    "date_type": ("invalid_date", None),
    "date_from_datetime_parsing": ("invalid_date", None),
    "date_from_datetime_inexact": ("invalid_date", None),
    "datetime_parsing": ("invalid_datetime", None),
    "datetime_type": ("invalid_datetime", None),
    "datetime_from_date_parsing": ("invalid_datetime", None),
    "timezone_aware": ("invalid_datetime", None),
    "uuid_parsing": ("invalid_uuid", None),
    "uuid_type": ("invalid_uuid", None),
    "uuid_version": ("invalid_uuid", None),
    "bool_parsing": ("not_a_boolean", None),
    "bool_type": ("not_a_boolean", None),
    "enum": ("not_allowed_value", None),
    "literal_error": ("not_allowed_value", None),
    "string_type": ("not_a_string", None),
    "string_unicode": ("not_a_string", None),
    "list_type": ("not_a_list", None),
    "tuple_type": ("not_a_list", None),
    "set_type": ("not_a_list", None),
    "dict_type": ("not_an_object", None),
    "model_type": ("not_an_object", None),
    "model_attributes_type": ("not_an_object", None),
    "dataclass_type": ("not_an_object", None),
    "url_parsing": ("invalid_url", None),
    "url_scheme": ("invalid_url", None),
    "url_type": ("invalid_url", None),
    "url_too_long": ("invalid_url", None),
    "json_invalid": ("invalid_json", None),
    "json_type": ("invalid_json", None),
}


def _from_pydantic(err: Mapping[str, Any]) -> tuple[str, str | None, dict[str, Any]]:
    """(code, English message, params) of one pydantic error. The English message stays pydantic's own (or the
    validator's), which names the limit precisely; the code and the Vietnamese message come from the catalogue."""
    kind = str(err.get("type", "invalid"))
    ctx = dict(err.get("ctx") or {})
    if kind == "value_error":
        cause = ctx.get("error")
        coded = getattr(cause, "code", None)
        if isinstance(coded, str) and coded in messages.CATALOGUE:
            return coded, str(cause), dict(getattr(cause, "params", None) or {})
        text = str(cause) if cause is not None else str(err.get("msg", ""))
        if "email" in text.lower() and ("@" in text or "address" in text.lower()):
            return "invalid_email", None, {}
        return "invalid", text.removeprefix("Value error, ") or None, {}
    if kind in messages.CATALOGUE:  # a PydanticCustomError raised with a project code
        return kind, str(err.get("msg", "")) or None, {k: v for k, v in ctx.items() if not isinstance(v, BaseException)}
    code, limit_key = _PYDANTIC_CODES.get(kind, ("invalid", None))
    params: dict[str, Any] = {k: v for k, v in ctx.items() if isinstance(v, str | int | float)}
    if limit_key and limit_key in ctx:
        params["limit"] = ctx[limit_key]
    if code == "unknown_field":
        return code, None, params  # the catalogue's wording says what to do
    return code, str(err.get("msg", "")).removeprefix("Value error, ") or None, params


def validation_errors(errors: Iterable[Mapping[str, Any]], prefix: str = "") -> list[dict[str, Any]]:
    """pydantic's errors() as errors[] entries with project codes (for validation outside a request body)."""
    out = []
    for err in errors:
        code, message, params = _from_pydantic(err)
        out.append(field_error(prefix + _field_path(err.get("loc", ())), message, code, **params))
    return out


def _validation_problem(exc: RequestValidationError) -> Problem:
    malformed = any(err.get("type") == "json_invalid" for err in exc.errors())
    errors = validation_errors(exc.errors())
    if malformed:
        return BadRequest(slug="malformed-body", code="malformed_body", errors=errors)
    names = ", ".join(dict.fromkeys(e["field"] for e in errors[:5]))
    return Unprocessable(f"Some fields are invalid: {names}. See errors[] for each one.", errors=errors)


def allowed_methods(app: FastAPI, path: str) -> list[str]:
    """Every method some route of `app` serves on `path`. Starlette's own 405 names only the methods of the first
    route whose path matched, so a resource with GET and PATCH in two routes would advertise just one of them."""
    static = static_methods(app, path)
    if static:  # `/facilities/export` is its own resource, not `/facilities/{facility_id}` with id "export"
        return sorted(static)
    methods: set[str] = set()
    for route in iter_route_contexts(app.routes):
        regex = getattr(route, "path_regex", None)
        if regex is not None and route.methods and regex.match(path):
            methods |= set(route.methods)
    return sorted(methods)


def static_methods(app: FastAPI, path: str) -> set[str]:
    """Methods of the routes whose path is exactly `path`, without parameters."""
    return {
        method
        for route in iter_route_contexts(app.routes)
        if getattr(route, "path_format", None) == path and "{" not in path and route.methods
        for method in route.methods
    }


def install_problem_handlers(app: FastAPI) -> None:
    @app.exception_handler(Problem)
    async def _problem(request: Request, exc: Problem) -> ProblemResponse:
        return problem_response(exc, request)

    @app.exception_handler(RequestValidationError)
    async def _validation(request: Request, exc: RequestValidationError) -> ProblemResponse:
        # PATCH /facilities/export: the static path has no PATCH, so the router tried /facilities/{facility_id}
        # and "export" failed as an id. The method does not exist on that resource: 405, not 422.
        static = static_methods(request.app, request.scope["path"])
        if static and request.method not in static and any(e.get("loc", ("",))[0] == "path" for e in exc.errors()):
            return problem_response(
                Problem(
                    status=405,
                    title="Method not allowed",
                    slug="method-not-allowed",
                    code="method_not_allowed",
                    headers={"Allow": ", ".join(sorted(static))},
                ),
                request,
            )
        return problem_response(_validation_problem(exc), request)

    @app.exception_handler(StarletteHTTPException)
    async def _http(request: Request, exc: StarletteHTTPException) -> ProblemResponse:
        code = HTTP_CODES.get(exc.status_code, "bad_request" if exc.status_code < 500 else "internal_error")
        title = messages.title(code, "en") or "Error"
        headers = getattr(exc, "headers", None)
        if exc.status_code == 405:
            headers = {**(headers or {}), "Allow": ", ".join(allowed_methods(request.app, request.scope["path"]))}
        problem = Problem(
            str(exc.detail) if exc.detail and str(exc.detail).lower() != title.lower() else None,
            status=exc.status_code,
            title=title,
            slug=title.lower().replace(" ", "-"),
            code=code,
            headers=headers,
        )
        return problem_response(problem, request)

    @app.exception_handler(StaleDataError)
    async def _stale(request: Request, exc: StaleDataError) -> ProblemResponse:
        # Two writers passed the If-Match check at once; the versioned UPDATE let only one through.
        return problem_response(PreconditionFailed(), request)

    @app.exception_handler(Exception)
    async def _unexpected(request: Request, exc: Exception) -> ProblemResponse:
        return internal_error_response(request, exc)
