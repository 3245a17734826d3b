"""What the verification service asks the facility registry (over HTTP, with its own service token):
the facility and its enterprise, the facility's baseline periods (all pages) and the sector norm in force.

Transient trouble (registry down, timeout, 5xx, the token refused) raises ``RegistryUnavailable`` — a 503
problem with Retry-After — so an event is retried by its sender and a person can try again. Answers that are
final (404: no such facility, no norm) are returned as such.
"""

from __future__ import annotations

import datetime as dt
import uuid
from dataclasses import dataclass
from typing import Any

import httpx

from cleanprod_kit.upstream import HttpGetter as KitHttpGetter
from cleanprod_kit.upstream import Upstream, UpstreamUnavailable

PAGE = 200
MAX_BASELINE_PAGES = 50  # 10 000 periods: far beyond any facility; stops a misbehaving cursor from looping


# Names kept for the rest of this service: the kit's upstream building blocks.
HttpGetter = KitHttpGetter
RegistryUnavailable = UpstreamUnavailable


@dataclass(frozen=True)
class NormLookup:
    """The sector norm for a period, or why there is none ("no norm" is a result, not an error)."""

    found: bool
    value: float | None = None
    unit: str | None = None
    circular: str | None = None
    capacity_band: str | None = None
    product: str | None = None
    sector: str | None = None
    on: dt.date | None = None
    valid_from: str | None = None
    valid_to: str | None = None
    reason: str | None = None  # why no norm

    @property
    def label(self) -> str:
        band = f", {self.capacity_band}" if self.capacity_band else ""
        return f"{self.circular} {self.sector} — {self.product}{band} ({self.valid_from} – {self.valid_to})"

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {"status": "found" if self.found else "no_norm", "sector": self.sector,
                               "product": self.product, "on": self.on.isoformat() if self.on else None}
        if self.found:
            out.update(value=self.value, unit=self.unit, circular=self.circular, capacity_band=self.capacity_band,
                       valid_from=self.valid_from, valid_to=self.valid_to, label=self.label)
        else:
            out["reason"] = self.reason
        return out


class RegistryClient:
    def __init__(self, http: HttpGetter | None, base_url: str, timeout: float) -> None:
        self._upstream = Upstream(http, base_url, name="facility registry", timeout=timeout,
                                  credentials_hint="VERIFICATION_SERVICE_CLIENT_ID/SECRET")

    async def _get(self, path: str, params: dict[str, Any] | None = None) -> httpx.Response:
        return await self._upstream.get(path, params)

    def _object(self, response: httpx.Response, path: str) -> dict[str, Any]:
        return self._upstream.json_object(response, path)

    async def facility(self, facility_id: uuid.UUID) -> dict[str, Any] | None:
        path = f"/api/v1/facilities/{facility_id}"
        response = await self._get(path)
        if response.status_code == 404:
            return None
        if response.status_code != 200:
            raise RegistryUnavailable(f"The facility registry answered {response.status_code} for the facility.")
        return self._object(response, path)

    async def enterprise(self, enterprise_id: uuid.UUID | str) -> dict[str, Any] | None:
        path = f"/api/v1/enterprises/{enterprise_id}"
        response = await self._get(path)
        if response.status_code in (404, 422):
            return None
        if response.status_code != 200:
            raise RegistryUnavailable(f"The facility registry answered {response.status_code} for the enterprise.")
        return self._object(response, path)

    async def sector(self, code: str) -> dict[str, Any] | None:
        """A sector with its names (`name_vi`, `name_en`), or None when the registry does not know the code."""
        path = f"/api/v1/sectors/{code}"
        response = await self._get(path)
        if response.status_code in (404, 422):
            return None
        if response.status_code != 200:
            raise RegistryUnavailable(f"The facility registry answered {response.status_code} for the sector.")
        return self._object(response, path)

    async def baselines(self, facility_id: uuid.UUID) -> list[dict[str, Any]]:
        """Every baseline period of the facility, following the cursor to the last page."""
        path = f"/api/v1/facilities/{facility_id}/baselines"
        periods: list[dict[str, Any]] = []
        cursor: str | None = None
        for _ in range(MAX_BASELINE_PAGES):
            params: dict[str, Any] = {"limit": PAGE}
            if cursor:
                params["cursor"] = cursor
            response = await self._get(path, params)
            if response.status_code == 404:
                return periods
            if response.status_code != 200:
                raise RegistryUnavailable(f"The facility registry answered {response.status_code} for baselines.")
            page = self._object(response, path)
            items = page.get("items")
            if not isinstance(items, list):
                raise RegistryUnavailable("The facility registry gave an unreadable baseline page.")
            periods.extend(item for item in items if isinstance(item, dict))
            cursor = page.get("next_cursor")
            if not cursor:
                return periods
        raise RegistryUnavailable("The facility registry kept paging baselines without end; try again later.")

    async def norm(self, *, sector: str | None, product: str | None, on: dt.date,
                   capacity: float | None) -> NormLookup:
        if not sector or not product:
            return NormLookup(False, sector=sector, product=product, on=on,
                              reason="the facility lists no sector or no product, so no norm can be looked up")
        params: dict[str, Any] = {"sector": sector, "product": product, "on": on.isoformat()}
        if capacity is not None and capacity > 0:
            params["capacity"] = capacity
        path = "/api/v1/norms/lookup"
        response = await self._get(path, params)
        if response.status_code in (404, 422):
            try:
                detail = str(response.json().get("detail") or "")
            except (ValueError, AttributeError):
                detail = ""
            return NormLookup(False, sector=sector, product=product, on=on,
                              reason=detail or f"the registry has no norm (answer {response.status_code})")
        if response.status_code != 200:
            raise RegistryUnavailable(f"The facility registry answered {response.status_code} for the norm.")
        body = self._object(response, path)
        try:
            return NormLookup(True, value=float(body["value"]), unit=str(body["unit"]),
                              circular=body.get("circular"), capacity_band=body.get("capacity_band"),
                              product=str(body.get("product") or product), sector=sector, on=on,
                              valid_from=body.get("valid_from"), valid_to=body.get("valid_to"))
        except (KeyError, TypeError, ValueError):
            return NormLookup(False, sector=sector, product=product, on=on,
                              reason="the registry's norm answer lacks a value or unit")
