"""Helpers for the verification service tests (importable by name: this folder is in pytest's `pythonpath`).

A real registry app runs in-process on its own test database; the verification app calls it through a kit
ServiceClient whose transport is that app (see ``in_process_service_client``)."""

from __future__ import annotations

import calendar
import datetime as dt
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import httpx
from fastapi import FastAPI

from cleanprod_contracts.v1.events import ApplicationEvent
from cleanprod_kit.http import ServiceClient
from cleanprod_kit.testing.data import random_tax_code
from cleanprod_kit.testing.issuer import TestIssuer
from cleanprod_kit.testing.problems import assert_problem  # noqa: F401 - the tests import it from here

MWH_TOE = 0.1543  # MOIT: 1 MWh of electricity
COAL34_TOE = 0.60  # MOIT: 1 t of coal grade 3–4
FUEL_OIL_TOE = 0.99  # MOIT: 1 t of fuel oil


class InProcessServiceClient(ServiceClient):
    """The kit's ServiceClient (service token + request id on every call), answered by an app in this process."""

    def __init__(self, tokens: Callable[[], Any], app: FastAPI) -> None:
        super().__init__(tokens)
        self._client = httpx.AsyncClient(
            transport=httpx.ASGITransport(app=app),
            base_url="http://registry.test",
            timeout=10.0,
            event_hooks={"request": [self._authorise]},
        )


class DownRegistry:
    """A registry that cannot be reached."""

    async def get(self, url: str, **kw: Any) -> httpx.Response:
        raise httpx.ConnectError("connection refused")


@dataclass(frozen=True)
class Person:
    subject: str
    username: str


class Actors:
    """Bearer headers per role; verifiers and officers have stable subjects."""

    def __init__(self, issuer: TestIssuer) -> None:
        self.issuer = issuer
        self.officer_person = Person(f"officer-{uuid.uuid4().hex[:8]}", "can.bo.nguyen")

    def headers(
        self,
        *roles: str,
        sub: str | None = None,
        username: str | None = None,
        tax_code: str | None = None,
        **extra: str,
    ) -> dict[str, str]:
        token = self.issuer.token(*roles, sub=sub, username=username, tax_code=tax_code)
        return {"Authorization": f"Bearer {token}", **extra}

    @property
    def officer(self) -> dict[str, str]:
        return self.headers("officer", sub=self.officer_person.subject, username=self.officer_person.username)

    @property
    def auditor(self) -> dict[str, str]:
        return self.headers("auditor")

    @property
    def service(self) -> dict[str, str]:
        """The applications service's account: the publisher of the events this service consumes."""
        return self.client("svc-applications")

    def client(self, client_id: str, *roles: str) -> dict[str, str]:
        """A client-credentials token of `client_id` (roles default to `service`)."""
        return {"Authorization": f"Bearer {self.issuer.client_token(client_id, *(roles or ('service',)))}"}

    def enterprise(self, tax_code: str) -> dict[str, str]:
        return self.headers("enterprise", tax_code=tax_code)

    def verifier(self, person: Person, **extra: str) -> dict[str, str]:
        return self.headers("verifier", sub=person.subject, username=person.username, **extra)


def new_verifier(name: str = "chuyen.gia") -> Person:
    return Person(f"verifier-{uuid.uuid4().hex[:10]}", f"{name}.{uuid.uuid4().hex[:4]}")


def month_bounds(year: int, month: int) -> tuple[str, str]:
    last = calendar.monthrange(year, month)[1]
    return dt.date(year, month, 1).isoformat(), dt.date(year, month, last).isoformat()


def period_body(
    year: int,
    month: int,
    production: float,
    consumption: dict[str, tuple[float, str]],
    *,
    production_unit: str = "t",
    cdd: float | None = None,
    **extra: Any,
) -> dict[str, Any]:
    start, end = month_bounds(year, month)
    body: dict[str, Any] = {
        "period_start": start,
        "period_end": end,
        "production": {"quantity": production, "unit": production_unit},
        "consumption": [{"carrier": c, "quantity": q, "unit": u} for c, (q, u) in consumption.items()],
    }
    if cdd is not None:
        body["cdd"] = cdd
    body.update(extra)
    return body


def measurement_body(
    year: int, month: int, production: float, consumption: dict[str, tuple[float, str]], **extra: Any
) -> dict[str, Any]:
    body = period_body(year, month, production, consumption, **extra)
    body.setdefault(
        "evidence",
        {
            "document_id": f"doc-{year}{month:02d}",
            "description": f"Hóa đơn tiền điện và sổ sản xuất tháng {month:02d}/{year}",
        },
    )
    return body


# A plant in three shapes: 12 baseline months in 2023 with production varying 800–1200 t.
PRODUCTION = [800.0, 850.0, 900.0, 950.0, 1000.0, 1050.0, 1100.0, 1150.0, 1200.0, 1000.0, 950.0, 1050.0]
NOISE = [5.0, -5.0] * 6  # MWh, sums to zero


def steel_line(p: float) -> dict[str, float]:
    """Baseline use of the steel rolling plant: electricity 200 + 0.5·P MWh, coal 20 + 0.05·P t."""
    return {"electricity": 200 + 0.5 * p, "coal_grade_3_4": 20 + 0.05 * p}


def steel_toe(p: float) -> float:
    line = steel_line(p)
    return line["electricity"] * MWH_TOE + line["coal_grade_3_4"] * COAL34_TOE


@dataclass
class Plant:
    enterprise: dict[str, Any]
    facility: dict[str, Any]
    baseline: list[dict[str, Any]] = field(default_factory=list)


async def create_plant(
    registry: httpx.AsyncClient,
    actors: Actors,
    *,
    sector: str,
    products: Sequence[str],
    capacity: float,
    capacity_unit: str,
    ward: str,
    district: str,
    baseline: Sequence[dict[str, Any]],
    name: str = "Nhà máy cán thép Đông Anh",
    enterprise_name: str = "Công ty Cổ phần Thép Đông Anh",
) -> Plant:
    tax_code = random_tax_code()
    enterprise = await registry.post(
        "/api/v1/enterprises",
        headers=actors.officer,
        json={
            "tax_code": tax_code,
            "name": enterprise_name,
            "legal_form": "joint_stock",
            "size_class": "medium",
            "address": f"Số 12, {ward}, Hà Nội",
            "ward": ward,
            "district": district,
            "contact_name": "Trần Thị Bích Ngọc",
            "contact_email": "ngoc.tran@example.vn",
            "contact_phone": "+84 24 3883 1234",
        },
    )
    assert enterprise.status_code == 201, enterprise.text
    facility = await registry.post(
        f"/api/v1/enterprises/{enterprise.json()['id']}/facilities",
        headers=actors.officer,
        json={
            "name": name,
            "sector_code": sector,
            "products": list(products),
            "capacity_quantity": capacity,
            "capacity_unit": capacity_unit,
            "address": f"Khu công nghiệp, {ward}, Hà Nội",
            "ward": ward,
            "district": district,
        },
    )
    assert facility.status_code == 201, facility.text
    plant = Plant(enterprise.json(), facility.json())
    for body in baseline:
        response = await registry.post(
            f"/api/v1/facilities/{plant.facility['id']}/baselines", headers=actors.officer, json=body
        )
        assert response.status_code == 201, response.text
        plant.baseline.append(response.json())
    return plant


def steel_baseline() -> list[dict[str, Any]]:
    return [
        period_body(
            2023,
            m + 1,
            p,
            {
                "electricity": (steel_line(p)["electricity"] + NOISE[m], "MWh"),
                "coal_grade_3_4": (steel_line(p)["coal_grade_3_4"], "t"),
            },
        )
        for m, p in enumerate(PRODUCTION)
    ]


async def steel_plant(
    registry: httpx.AsyncClient, actors: Actors, *, ward: str = "Xã Đông Anh", district: str = "Huyện Đông Anh"
) -> Plant:
    return await create_plant(
        registry,
        actors,
        sector="steel",
        products=["hot rolling long products"],
        capacity=250_000,
        capacity_unit="t/yr",
        ward=ward,
        district=district,
        baseline=steel_baseline(),
    )


def steel_reporting(factor: float) -> list[dict[str, Any]]:
    """2025: the same production months, every carrier at `factor` × the baseline line."""
    return [
        measurement_body(
            2025,
            m + 1,
            p,
            {
                "electricity": (factor * steel_line(p)["electricity"], "MWh"),
                "coal_grade_3_4": (factor * steel_line(p)["coal_grade_3_4"], "t"),
            },
        )
        for m, p in enumerate(PRODUCTION)
    ]


def beer_line(hl: float) -> dict[str, float]:
    return {"electricity": 100 + 0.04 * hl, "fuel_oil": 5 + 0.002 * hl}


BEER_HL = [10 * p for p in PRODUCTION]  # 8 000 – 12 000 hl a month


async def beer_plant(
    registry: httpx.AsyncClient, actors: Actors, *, ward: str = "Phường Phúc Lợi", district: str = "Quận Long Biên"
) -> Plant:
    baseline = [
        period_body(
            2023,
            m + 1,
            hl,
            {"electricity": (beer_line(hl)["electricity"], "MWh"), "fuel_oil": (beer_line(hl)["fuel_oil"], "t")},
            production_unit="hl",
        )
        for m, hl in enumerate(BEER_HL)
    ]
    return await create_plant(
        registry,
        actors,
        sector="beer",
        products=["beer"],
        capacity=15,
        capacity_unit="million L/yr",
        ward=ward,
        district=district,
        baseline=baseline,
        name="Nhà máy bia Long Biên",
        enterprise_name="Công ty TNHH Bia Long Biên",
    )


def beer_reporting(factor: float) -> list[dict[str, Any]]:
    return [
        measurement_body(
            2025,
            m + 1,
            hl,
            {
                "electricity": (factor * beer_line(hl)["electricity"], "MWh"),
                "fuel_oil": (factor * beer_line(hl)["fuel_oil"], "t"),
            },
            production_unit="hl",
        )
        for m, hl in enumerate(BEER_HL)
    ]


def application_event(
    plant: Plant,
    *,
    event_type: str = "application.approved",
    claimed: float = 8.0,
    per_carrier: dict[str, float] | None = None,
    application_id: uuid.UUID | None = None,
    event_id: uuid.UUID | None = None,
    supplier: dict[str, Any] | None = None,
    **data: Any,
) -> dict[str, Any]:
    """An envelope as the applications service sends it: its payload built with the same contract model
    (`cleanprod_contracts.v1.events.ApplicationEvent`) its producer uses."""
    application_id = application_id or uuid.uuid4()
    per_carrier = per_carrier if per_carrier is not None else {"electricity": claimed, "coal_grade_3_4": claimed}
    completed = event_type == "application.completed"
    payload = {
        "application_id": application_id,
        "dossier_code": f"000.00.01.H26-240115-{uuid.uuid4().int % 10000:04d}",
        "action": "complete" if completed else "decide_approve",
        "previous_status": "in_progress" if completed else "under_review",
        "status": "completed" if completed else "approved",
        "egov_status": 4,
        "version": 5,
        "reason": None,
        "actor": {"subject": "officer-1", "name": "can.bo.nguyen", "role": "officer"},
        "call_id": uuid.uuid4(),
        "call_code": "SXSH-2024-01",
        "facility_id": plant.facility["id"],
        "facility_name": plant.facility["name"],
        "enterprise_id": plant.enterprise["id"],
        "enterprise_tax_code": plant.enterprise["tax_code"],
        "enterprise_name": plant.enterprise["name"],
        "sector_code": plant.facility["sector_code"],
        "title": "Thay lò nung và biến tần cho dây chuyền cán",
        "technology": "Lò nung tái sinh nhiệt, biến tần",
        "supplier": supplier
        if supplier is not None
        else {"name": "Công ty TNHH Công nghệ Nhiệt Việt", "tax_code": "0109876543"},
        "total_cost_vnd": 12_000_000_000,
        "eligible_cost_vnd": 10_000_000_000,
        "requested_support_vnd": 3_000_000_000,
        "claimed_savings": [{"carrier": c, "saving_pct": v} for c, v in per_carrier.items()],
        "claimed_overall_saving_pct": claimed,
        "implementation_start": "2024-01-15",
        "implementation_end": "2024-12-20",
        "submitted_at": "2024-01-10T02:00:00+00:00",
        "decided_at": "2024-01-12T08:00:00+00:00",
        "approved_support_vnd": 2_500_000_000,
        "award_limit": "cap",
        "started_on": "2024-01-15" if completed else None,
        "completed_on": "2024-12-20" if completed else None,
        "tranches": [],
        "support_type": "technology_transfer",
        "savings_verified": True,
    }
    payload.update(data)
    return {
        "id": str(event_id or uuid.uuid4()),
        "seq": 1,
        "type": event_type,
        "aggregate_type": "application",
        "aggregate_id": str(application_id),
        "occurred_at": dt.datetime.now(dt.UTC).isoformat(),
        "request_id": None,
        "source": "applications",
        "data": ApplicationEvent.model_validate(payload).model_dump(mode="json", exclude_unset=True),
    }


async def post_event(client: httpx.AsyncClient, actors: Actors, envelope: dict[str, Any]) -> httpx.Response:
    return await client.post("/internal/events", json=envelope, headers=actors.service)


async def case_of(client: httpx.AsyncClient, actors: Actors, application_id: str) -> dict[str, Any]:
    page = await client.get("/api/v1/verifications", params={"application_id": application_id}, headers=actors.officer)
    assert page.status_code == 200, page.text
    (summary,) = page.json()["items"]
    detail = await client.get(f"/api/v1/verifications/{summary['id']}", headers=actors.officer)
    assert detail.status_code == 200, detail.text
    return detail.json()


async def open_case(
    client: httpx.AsyncClient, actors: Actors, plant: Plant, *, completed: bool = True, **event: Any
) -> dict[str, Any]:
    envelope = application_event(plant, **event)
    assert (await post_event(client, actors, envelope)).status_code == 200
    if completed:
        done = application_event(
            plant,
            event_type="application.completed",
            application_id=uuid.UUID(envelope["data"]["application_id"]),
            **{k: v for k, v in event.items() if k not in ("event_id", "application_id")},
        )
        assert (await post_event(client, actors, done)).status_code == 200
    return await case_of(client, actors, envelope["data"]["application_id"])


async def etag(client: httpx.AsyncClient, headers: dict[str, str], case_id: str) -> str:
    response = await client.get(f"/api/v1/verifications/{case_id}", headers=headers)
    assert response.status_code == 200, response.text
    return response.headers["etag"]


async def assign(
    client: httpx.AsyncClient, actors: Actors, case_id: str, verifier: Person, method: str = "PUT"
) -> httpx.Response:
    tag = await etag(client, actors.officer, case_id)
    return await client.request(
        method,
        f"/api/v1/verifications/{case_id}/assignment",
        headers={**actors.officer, "If-Match": tag},
        json={"verifier_subject": verifier.subject, "verifier_username": verifier.username},
    )


async def declare(
    client: httpx.AsyncClient, actors: Actors, case_id: str, verifier: Person, *, independent: bool = True
) -> httpx.Response:
    tag = await etag(client, actors.officer, case_id)
    statement = (
        "Tôi cam kết độc lập với doanh nghiệp và nhà cung cấp công nghệ."
        if independent
        else "Tôi từng là cổ đông của nhà cung cấp công nghệ của dự án."
    )
    return await client.post(
        f"/api/v1/verifications/{case_id}/assignment/declaration",
        headers={**actors.verifier(verifier), "If-Match": tag},
        json={"independent": independent, "statement": statement},
    )


async def ready_verifier(client: httpx.AsyncClient, actors: Actors, case_id: str) -> Person:
    verifier = new_verifier()
    assert (await assign(client, actors, case_id, verifier)).status_code == 200
    response = await declare(client, actors, case_id, verifier)
    assert response.status_code == 200, response.text
    return verifier


async def record_months(
    client: httpx.AsyncClient, actors: Actors, case_id: str, verifier: Person, bodies: Sequence[dict[str, Any]]
) -> list[dict[str, Any]]:
    out = []
    for body in bodies:
        response = await client.post(
            f"/api/v1/verifications/{case_id}/measurements", headers=actors.verifier(verifier), json=body
        )
        assert response.status_code == 201, response.text
        out.append(response.json())
    return out


async def conclude(
    client: httpx.AsyncClient, actors: Actors, case_id: str, verifier: Person, **body: Any
) -> httpx.Response:
    tag = await etag(client, actors.officer, case_id)
    return await client.post(
        f"/api/v1/verifications/{case_id}/conclude", headers={**actors.verifier(verifier), "If-Match": tag}, json=body
    )


async def measure_and_conclude(
    client: httpx.AsyncClient, actors: Actors, case_id: str, bodies: Sequence[dict[str, Any]]
) -> httpx.Response:
    """A verifier is assigned and declared, records the months and concludes the case: the conclusion's answer."""
    verifier = await ready_verifier(client, actors, case_id)
    await record_months(client, actors, case_id, verifier, bodies)
    return await conclude(client, actors, case_id, verifier)
