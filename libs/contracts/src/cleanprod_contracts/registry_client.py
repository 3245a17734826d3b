"""The one client other services use to read the facility registry (over HTTP, with their own service token),
returning the read models of `v1.registry`.

Transient trouble — no service credentials, registry down, timeout, 5xx, our token refused — raises
`RegistryUnavailable`, a 503 problem with Retry-After (the kit's `upstream`), so a person can try again and an
event's sender retries. So does an answer the read model cannot read. Final answers are results: no such
facility (404) is None, no norm in force is a `NormLookup` saying why.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import logging
import uuid
from typing import Any, TypeVar

import httpx
from pydantic import ValidationError

from cleanprod_kit.upstream import HttpGetter, Upstream, UpstreamUnavailable

from .base import ReadModel
from .v1.registry import (
    BaselinePage,
    BaselinePeriod,
    Enterprise,
    Facility,
    FacilityWithEnterprise,
    Norm,
    Recipient,
    RecipientList,
    RecipientSets,
    Sector,
)

log = logging.getLogger("cleanprod.registry_client")

RegistryUnavailable = UpstreamUnavailable
"""The 503 problem raised when the registry cannot give an answer now."""

PAGE = 200
MAX_BASELINE_PAGES = 50  # 10 000 periods: far beyond any facility; stops a misbehaving cursor from looping

Model = TypeVar("Model", bound=ReadModel)

__all__ = ["FacilityFacts", "HttpGetter", "NormLookup", "RegistryClient", "RegistryUnavailable"]


@dataclasses.dataclass(frozen=True)
class FacilityFacts:
    """A facility and its owning enterprise, as an application records them."""

    facility_id: uuid.UUID
    facility_name: str
    facility_status: str
    sector_code: str
    enterprise_id: uuid.UUID
    enterprise_tax_code: str
    enterprise_name: str
    ward: str | None = None  # the facility's, else its enterprise's (officers filter applications by place)
    district: str | None = None


@dataclasses.dataclass(frozen=True)
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

    @classmethod
    def of(cls, norm: Norm, *, sector: str, on: dt.date) -> NormLookup:
        return cls(
            True,
            value=norm.value,
            unit=norm.unit,
            circular=norm.circular,
            capacity_band=norm.capacity_band,
            product=norm.product,
            sector=sector,
            on=on,
            valid_from=norm.valid_from.isoformat(),
            valid_to=norm.valid_to.isoformat(),
        )

    @property
    def label(self) -> str:
        band = f", {self.capacity_band}" if self.capacity_band else ""
        return f"{self.circular} {self.sector} — {self.product}{band} ({self.valid_from} – {self.valid_to})"

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "status": "found" if self.found else "no_norm",
            "sector": self.sector,
            "product": self.product,
            "on": self.on.isoformat() if self.on else None,
        }
        if self.found:
            out.update(
                value=self.value,
                unit=self.unit,
                circular=self.circular,
                capacity_band=self.capacity_band,
                valid_from=self.valid_from,
                valid_to=self.valid_to,
                label=self.label,
            )
        else:
            out["reason"] = self.reason
        return out


def _detail(response: httpx.Response) -> str:
    try:
        return str(response.json().get("detail") or "")
    except (ValueError, AttributeError):
        return ""


class RegistryClient:
    """`http` is the service's kit ServiceClient (None when it has no service credentials: every call is then a
    503 naming `credentials_hint`)."""

    def __init__(
        self,
        http: HttpGetter | None,
        base_url: str,
        timeout: float,
        *,
        credentials_hint: str = "SERVICE_CLIENT_ID/SECRET",
    ) -> None:
        self._upstream = Upstream(
            http, base_url, name="facility registry", timeout=timeout, credentials_hint=credentials_hint
        )

    async def _read(
        self,
        model: type[Model],
        path: str,
        what: str,
        *,
        params: dict[str, Any] | None = None,
        absent: tuple[int, ...] = (404,),
    ) -> Model | None:
        """The answer at `path` read as `model`; None for an `absent` status; 503 for anything else."""
        response = await self._upstream.get(path, params)
        if response.status_code in absent:
            return None
        if response.status_code != 200:
            log.error("registry refused a lookup", extra={"path": path, "status": response.status_code})
            raise RegistryUnavailable(f"The facility registry answered {response.status_code} for the {what}.")
        return self.parse(model, self._upstream.json_object(response, path), path)

    @staticmethod
    def parse(model: type[Model], body: dict[str, Any], path: str) -> Model:
        try:
            return model.model_validate(body)
        except ValidationError as exc:
            log.error(
                "registry answer does not fit its read model",
                extra={"path": path, "model": model.__name__, "errors": exc.errors(include_url=False)[:5]},
            )
            raise RegistryUnavailable("The facility registry gave an unreadable answer; try again later.") from None

    async def facility(self, facility_id: uuid.UUID) -> Facility | None:
        return await self._read(Facility, f"/api/v1/facilities/{facility_id}", "facility")

    async def enterprise(self, enterprise_id: uuid.UUID | str) -> Enterprise | None:
        return await self._read(Enterprise, f"/api/v1/enterprises/{enterprise_id}", "enterprise", absent=(404, 422))

    async def sector(self, code: str) -> Sector | None:
        """A sector with its names, or None when the registry does not know the code."""
        return await self._read(Sector, f"/api/v1/sectors/{code}", "sector", absent=(404, 422))

    async def recipients(
        self, *, enterprise_id: uuid.UUID | str | None = None, role: str | None = None, user_id: str | None = None
    ) -> list[Recipient]:
        """Who to mail (one of the three audiences; `/internal/recipients`, service tokens only): the enterprise's
        logins, a realm role's holders, or one user ([] for an unknown user or enterprise)."""
        given = {"enterprise_id": enterprise_id, "role": role, "user_id": user_id}
        params = {name: str(value) for name, value in given.items() if value is not None}
        if len(params) != 1:
            raise ValueError("exactly one of enterprise_id, role, user_id")
        found = await self._read(RecipientList, "/internal/recipients", "recipients", params=params)
        return list(found.items) if found is not None else []

    async def recipient_sets(self, audiences: list[str]) -> dict[str, list[Recipient] | str]:
        """Who to mail for several audiences in one call (`/internal/recipients/by-audience`; each audience
        `enterprise:<id>`, `role:<name>` or `user:<id>`): per audience its people, or the registry's reason (a
        string) when that one audience cannot be answered. A registry without the batched form (404: an older
        version during a rolling update) is asked one audience at a time."""
        asked = list(dict.fromkeys(audiences))
        path = "/internal/recipients/by-audience"
        found = await self._read(RecipientSets, path, "recipients", params={"audience": asked})
        if found is None:
            answers: dict[str, list[Recipient] | str] = {}
            for audience in asked:
                kind, _, value = audience.partition(":")
                answers[audience] = await self.recipients(**{f"{kind}_id" if kind != "role" else kind: value})
            return answers
        sets = {entry.audience: entry for entry in found.audiences}
        if set(sets) != set(asked):
            raise RegistryUnavailable("The facility registry did not answer every audience asked for.")
        return {a: sets[a].error if sets[a].error else list(sets[a].items) for a in asked}

    async def facility_facts(self, facility_id: uuid.UUID) -> FacilityFacts | None:
        """The facility and its enterprise, in one call; None if the registry has no such facility. An enterprise
        the registry cannot show for an existing facility is trouble on its side (503), not "no facility"."""
        both = await self._read(FacilityWithEnterprise, f"/internal/facilities/{facility_id}/facts", "facility")
        if both is None:
            return None
        facility, enterprise = both.facility, both.enterprise
        return FacilityFacts(
            facility_id=facility.id,
            facility_name=facility.name,
            facility_status=facility.status,
            sector_code=facility.sector_code,
            enterprise_id=facility.enterprise_id,
            enterprise_tax_code=facility.enterprise_tax_code or enterprise.tax_code,
            enterprise_name=enterprise.name,
            ward=facility.ward or enterprise.ward,
            district=facility.district or enterprise.district,
        )

    async def baselines(self, facility_id: uuid.UUID) -> list[BaselinePeriod]:
        """Every baseline period of the facility, following the cursor to the last page ([] if no facility)."""
        path = f"/api/v1/facilities/{facility_id}/baselines"
        periods: list[BaselinePeriod] = []
        cursor: str | None = None
        for _ in range(MAX_BASELINE_PAGES):
            params: dict[str, Any] = {"limit": PAGE} | ({"cursor": cursor} if cursor else {})
            page = await self._read(BaselinePage, path, "baselines", params=params)
            if page is None:
                return periods
            periods.extend(page.items)
            cursor = page.next_cursor
            if not cursor:
                return periods
        raise RegistryUnavailable("The facility registry kept paging baselines without end; try again later.")

    async def norm(self, *, sector: str | None, product: str | None, on: dt.date, capacity: float | None) -> NormLookup:
        if not sector or not product:
            return NormLookup(
                False,
                sector=sector,
                product=product,
                on=on,
                reason="the facility lists no sector or no product, so no norm can be looked up",
            )
        params: dict[str, Any] = {"sector": sector, "product": product, "on": on.isoformat()}
        if capacity is not None and capacity > 0:
            params["capacity"] = capacity
        path = "/api/v1/norms/lookup"
        response = await self._upstream.get(path, params)
        if response.status_code in (404, 422):
            return NormLookup(
                False,
                sector=sector,
                product=product,
                on=on,
                reason=_detail(response) or f"the registry has no norm (answer {response.status_code})",
            )
        if response.status_code != 200:
            raise RegistryUnavailable(f"The facility registry answered {response.status_code} for the norm.")
        try:
            norm = Norm.model_validate(self._upstream.json_object(response, path))
        except ValidationError:
            return NormLookup(
                False, sector=sector, product=product, on=on, reason="the registry's norm answer lacks a value or unit"
            )
        return NormLookup.of(norm, sector=sector, on=on)
