"""The one client of the gateway's `/api/v1` — so no route handles HTTP details.

Every call carries the user's access token (when logged in), `Accept-Language` = the user's language and the
request id. Answers become Python values or exceptions:

- 400/422 problem+json  → `FieldErrors` (field → message, plus the summary) for the form to show;
- 412                   → `ChangedMeanwhile` (the form shows a "changed meanwhile" banner, keeps the input);
- 404                   → `NotFound` (a 404 page, also for another enterprise's records: the API hides them);
- 401                   → `NotAuthenticated` (log in again); 403 → `NotAllowed`;
- 5xx, timeouts, connection errors → `ApiUnavailable` (a "try again later" page);
- anything else 4xx     → `ApiProblem` (its title/detail shown in a banner).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import httpx
import orjson

from .i18n import _, current_language

API_PREFIX = "/api/v1"


class ApiProblem(Exception):
    """A problem+json answer of the API, in the user's language as far as the API provides it."""

    def __init__(
        self,
        status: int,
        title: str = "",
        detail: str = "",
        code: str | None = None,
        errors: dict[str, str] | None = None,
        body: dict | None = None,
    ) -> None:
        super().__init__(f"{status} {title}: {detail}")
        self.status = status
        self.title = title
        self.detail = detail
        self.code = code
        self.errors: dict[str, str] = errors or {}
        self.body = body or {}

    @property
    def summary(self) -> str:
        return self.detail or self.title


class FieldErrors(ApiProblem):
    """400/422: the input is wrong; `errors` maps each field (dotted API path, e.g. `savings.0.percent`) to
    its message."""


class ChangedMeanwhile(ApiProblem):
    """412: someone changed the record since the form was loaded (stale `version` / If-Match)."""


class NotFound(ApiProblem):
    pass


class NotAuthenticated(ApiProblem):
    pass


class NotAllowed(ApiProblem):
    pass


class Conflict(ApiProblem):
    """409: the action is not allowed in the record's current state."""


class ApiUnavailable(ApiProblem):
    pass


def problem_from_response(response: httpx.Response) -> ApiProblem:
    body: dict[str, Any] = {}
    try:
        parsed = response.json()
        if isinstance(parsed, dict):
            body = parsed
    except ValueError:
        pass
    errors: dict[str, str] = {}
    for item in body.get("errors") or []:
        if isinstance(item, dict) and item.get("field"):
            errors.setdefault(str(item["field"]), str(item.get("message") or item.get("code") or ""))
    status = response.status_code
    cls: type[ApiProblem]
    if status in (400, 422):
        cls = FieldErrors
    elif status == 412:
        cls = ChangedMeanwhile
    elif status == 404:
        cls = NotFound
    elif status == 401:
        cls = NotAuthenticated
    elif status == 403:
        cls = NotAllowed
    elif status == 409:
        cls = Conflict
    elif status >= 500:
        cls = ApiUnavailable
    else:
        cls = ApiProblem
    return cls(status, str(body.get("title") or ""), str(body.get("detail") or ""), body.get("code"), errors, body)


@dataclass
class ApiResult:
    """A successful answer: the JSON body and the ETag (for the next If-Match)."""

    data: Any
    etag: str | None = None
    status: int = 200
    headers: dict[str, str] = field(default_factory=dict)


class Api:
    """The gateway client for one request (bound to the user's token, if any)."""

    def __init__(self, http: httpx.AsyncClient, access_token: str | None = None, request_id: str | None = None) -> None:
        self.http = http
        self.access_token = access_token
        self.request_id = request_id

    def _headers(self, extra: dict[str, str] | None = None) -> dict[str, str]:
        headers = {"Accept": "application/json", "Accept-Language": current_language()}
        if self.access_token:
            headers["Authorization"] = f"Bearer {self.access_token}"
        if self.request_id:
            headers["X-Request-ID"] = self.request_id
        return {**headers, **(extra or {})}

    async def request(
        self,
        method: str,
        path: str,
        *,
        params: dict[str, Any] | None = None,
        json: Any = None,
        if_match: str | None = None,
        idempotency_key: str | None = None,
        files: Any = None,
        data: Any = None,
    ) -> ApiResult:
        extra: dict[str, str] = {}
        if if_match:
            extra["If-Match"] = if_match
        if idempotency_key:
            extra["Idempotency-Key"] = idempotency_key
        url = path if path.startswith(API_PREFIX) else f"{API_PREFIX}{path}"
        if params:
            params = {k: v for k, v in params.items() if v is not None and v != ""}
        try:
            response = await self.http.request(
                method, url, params=params, json=json, files=files, data=data, headers=self._headers(extra)
            )
        except httpx.TimeoutException as exc:
            raise ApiUnavailable(504, _("The service took too long to answer.")) from exc
        except httpx.HTTPError as exc:
            raise ApiUnavailable(503, _("The service cannot be reached right now.")) from exc
        if response.status_code >= 400:
            raise problem_from_response(response)
        data_out: Any = None
        if response.content and "json" in response.headers.get("content-type", ""):
            # orjson: about half the time of json.loads (the dashboard's 200 summary lines are ~70 KB); JSON is UTF-8.
            data_out = orjson.loads(response.content)
        return ApiResult(data_out, response.headers.get("etag"), response.status_code, dict(response.headers))

    async def raw(
        self,
        method: str,
        path: str,
        *,
        headers: dict[str, str] | None = None,
        content: Any = None,
        timeout: float | None = None,
    ) -> httpx.Response:
        """A streamed exchange (an upload passed on as it arrives, a file passed back): the open response, whose
        caller must `aclose()` it; 4xx/5xx and transport failures raise the same exceptions as `request`."""
        url = path if path.startswith(API_PREFIX) else f"{API_PREFIX}{path}"
        request = self.http.build_request(
            method,
            url,
            headers=self._headers(headers),
            content=content,
            timeout=timeout if timeout is not None else httpx.USE_CLIENT_DEFAULT,
        )
        try:
            response = await self.http.send(request, stream=True)
        except httpx.TimeoutException as exc:
            raise ApiUnavailable(504, _("The service took too long to answer.")) from exc
        except httpx.HTTPError as exc:
            raise ApiUnavailable(503, _("The service cannot be reached right now.")) from exc
        if response.status_code >= 400:
            try:
                await response.aread()
            finally:
                await response.aclose()
            raise problem_from_response(response)
        return response

    async def get(self, path: str, **params: Any) -> Any:
        return (await self.request("GET", path, params=params)).data

    async def get_with_etag(self, path: str, **params: Any) -> ApiResult:
        return await self.request("GET", path, params=params)

    async def post(self, path: str, json: Any = None, **kw: Any) -> ApiResult:
        return await self.request("POST", path, json=json, **kw)

    async def patch(self, path: str, json: Any, *, if_match: str | None = None) -> ApiResult:
        return await self.request("PATCH", path, json=json, if_match=if_match)

    async def put(self, path: str, json: Any, *, if_match: str | None = None) -> ApiResult:
        return await self.request("PUT", path, json=json, if_match=if_match)

    async def delete(self, path: str, *, if_match: str | None = None) -> ApiResult:
        return await self.request("DELETE", path, if_match=if_match)

    async def all_pages(self, path: str, *, limit: int = 200, max_items: int = 2000, **params: Any) -> list[Any]:
        """Every item of a cursor-paginated list (bounded: a page never loads more than `max_items`)."""
        items: list[Any] = []
        cursor: str | None = None
        while True:
            page = await self.get(path, limit=limit, cursor=cursor, **params)
            items.extend(page.get("items", []))
            cursor = page.get("next_cursor")
            if not cursor or len(items) >= max_items:
                return items
