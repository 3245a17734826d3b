"""Calling another service's JSON API with this service's ServiceClient.

Transient trouble — no service credentials configured, connection refused, timeout, token endpoint down, a 5xx,
our own token refused (401/403) or rate-limited (429) — is a 503 problem with Retry-After, so a person can try
again and an event sender retries. Final answers (200, 404, 422 …) are returned for the caller to interpret."""

from __future__ import annotations

import logging
from typing import Any, Protocol

import httpx

from .errors import Problem, ServiceUnavailable

log = logging.getLogger("cleanprod.upstream")

RETRY_LATER_STATUSES = frozenset({401, 403, 429})


class HttpGetter(Protocol):
    async def get(self, url: str, **kw: Any) -> httpx.Response: ...


class UpstreamUnavailable(ServiceUnavailable):
    code = "upstream_unavailable"

    def __init__(self, detail: str) -> None:
        super().__init__(detail, headers={"Retry-After": "5"})


class Upstream:
    def __init__(
        self,
        http: HttpGetter | None,
        base_url: str,
        *,
        name: str,
        timeout: float,
        credentials_hint: str = "SERVICE_CLIENT_ID/SECRET",
    ) -> None:
        self._http = http
        self._base = base_url.rstrip("/")
        self.name = name
        self._timeout = timeout
        self._credentials_hint = credentials_hint

    async def get(self, path: str, params: dict[str, Any] | None = None) -> httpx.Response:
        if self._http is None:
            raise UpstreamUnavailable(
                f"The {self.name} cannot be asked: this service has no service credentials "
                f"configured ({self._credentials_hint})."
            )
        try:
            response = await self._http.get(f"{self._base}{path}", params=params, timeout=self._timeout)
        except Problem:
            raise
        except Exception as exc:  # noqa: BLE001 - refused, timeout, token endpoint down: all "try again later"
            log.warning(
                "upstream call failed",
                extra={"upstream": self.name, "path": path, "error": f"{type(exc).__name__}: {exc}"},
            )
            raise UpstreamUnavailable(f"The {self.name} is not reachable right now; try again in a moment.") from None
        if response.status_code >= 500 or response.status_code in RETRY_LATER_STATUSES:
            log.error(
                "upstream refused a call", extra={"upstream": self.name, "path": path, "status": response.status_code}
            )
            raise UpstreamUnavailable(f"The {self.name} answered {response.status_code}; try again later.")
        return response

    def json_object(self, response: httpx.Response, path: str) -> dict[str, Any]:
        try:
            body = response.json()
        except ValueError:
            body = None
        if not isinstance(body, dict):
            log.error(
                "upstream answered something that is not a JSON object", extra={"upstream": self.name, "path": path}
            )
            raise UpstreamUnavailable(f"The {self.name} gave an unreadable answer; try again later.")
        return body
