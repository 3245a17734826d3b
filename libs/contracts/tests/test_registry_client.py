"""The typed registry client against scripted answers: results for final answers, a 503 problem for trouble and
for an answer its read model cannot read. (Against the real registry: services/verification/tests/test_contracts.py.)"""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Any

import httpx
import pytest

from cleanprod_contracts.registry_client import RegistryClient, RegistryUnavailable
from cleanprod_contracts.v1.registry import Enterprise, Facility

FACILITY_ID, ENTERPRISE_ID = uuid.uuid4(), uuid.uuid4()
FACILITY = {
    "id": str(FACILITY_ID),
    "enterprise_id": str(ENTERPRISE_ID),
    "enterprise_tax_code": None,
    "name": "Nhà máy cán thép Đông Anh",
    "status": "active",
    "sector_code": "steel",
    "products": ["hot rolling long products"],
    "capacity_quantity": 250000,
    "capacity_unit": "t/yr",
    "ward": "Xã Đông Anh",
    "district": None,
    "address": "Khu công nghiệp",
    "version": 3,
}
ENTERPRISE = {
    "id": str(ENTERPRISE_ID),
    "tax_code": "0100109106",
    "name": "Công ty Cổ phần Thép Đông Anh",
    "ward": "Xã Đông Anh",
    "district": "Huyện Đông Anh",
    "contact_email": "a@example.vn",
}


def period(n: int) -> dict[str, Any]:
    return {
        "id": str(uuid.uuid4()),
        "facility_id": str(FACILITY_ID),
        "period_start": f"2023-{n:02d}-01",
        "period_end": f"2023-{n:02d}-28",
        "production": {"quantity": 800.0, "unit": "t"},
        "consumption": [{"carrier": "electricity", "quantity": 605.0, "unit": "MWh"}],
        "cdd": None,
        "hdd": None,
        "estimated": False,
        "notes": None,
        "version": 1,
    }


class Scripted:
    """Answers GETs from a table path → (status, body); records what was asked."""

    def __init__(self, answers: dict[str, list[tuple[int, Any]]]) -> None:
        self.answers = answers
        self.asked: list[tuple[str, dict[str, Any] | None]] = []

    async def get(self, url: str, **kw: Any) -> httpx.Response:
        path = url.removeprefix("http://registry.test")
        self.asked.append((path, kw.get("params")))
        status, body = self.answers[path].pop(0)
        return httpx.Response(status, json=body)


def client(answers: dict[str, list[tuple[int, Any]]]) -> tuple[RegistryClient, Scripted]:
    http = Scripted(answers)
    return RegistryClient(http, "http://registry.test/", 5.0, credentials_hint="TEST_SERVICE_CLIENT_ID"), http


async def test_records_are_read_models_and_absent_ones_are_none() -> None:
    registry, _ = client(
        {
            f"/api/v1/facilities/{FACILITY_ID}": [(200, FACILITY), (404, {"detail": "no"})],
            f"/api/v1/enterprises/{ENTERPRISE_ID}": [(200, ENTERPRISE)],
        }
    )
    facility = await registry.facility(FACILITY_ID)
    assert isinstance(facility, Facility) and facility.capacity_quantity == 250000.0 and facility.district is None
    assert isinstance(await registry.enterprise(ENTERPRISE_ID), Enterprise)
    assert await registry.facility(FACILITY_ID) is None


async def test_facility_facts_take_the_tax_code_from_the_enterprise_when_the_facility_has_none() -> None:
    registry, http = client(
        {f"/internal/facilities/{FACILITY_ID}/facts": [(200, {"facility": FACILITY, "enterprise": ENTERPRISE})]}
    )
    facts = await registry.facility_facts(FACILITY_ID)
    assert len(http.asked) == 1  # one call for both (issue 16)
    assert facts is not None and facts.enterprise_tax_code == "0100109106"
    assert (facts.facility_status, facts.enterprise_name) == ("active", "Công ty Cổ phần Thép Đông Anh")


async def test_an_answer_that_does_not_fit_its_read_model_is_trouble_not_a_result() -> None:
    renamed = {k: v for k, v in FACILITY.items() if k != "sector_code"} | {"sector": "steel"}
    registry, _ = client({f"/api/v1/facilities/{FACILITY_ID}": [(200, renamed)]})
    with pytest.raises(RegistryUnavailable, match="unreadable"):
        await registry.facility(FACILITY_ID)


@pytest.mark.parametrize("status", [500, 503, 401, 403, 429, 400])
async def test_trouble_is_a_503_problem(status: int) -> None:
    registry, _ = client({f"/api/v1/facilities/{FACILITY_ID}": [(status, {"detail": "x"})]})
    with pytest.raises(RegistryUnavailable) as raised:
        await registry.facility(FACILITY_ID)
    assert raised.value.status == 503 and raised.value.headers["Retry-After"]


async def test_no_credentials_is_a_503_naming_the_setting() -> None:
    registry = RegistryClient(None, "http://registry.test", 5.0, credentials_hint="TEST_SERVICE_CLIENT_ID")
    with pytest.raises(RegistryUnavailable, match="TEST_SERVICE_CLIENT_ID"):
        await registry.sector("steel")


async def test_baselines_follow_the_cursor_to_the_last_page() -> None:
    path = f"/api/v1/facilities/{FACILITY_ID}/baselines"
    registry, http = client(
        {
            path: [
                (200, {"items": [period(1), period(2)], "next_cursor": "abc"}),
                (200, {"items": [period(3)], "next_cursor": None}),
            ]
        }
    )
    periods = await registry.baselines(FACILITY_ID)
    assert [p.period_start for p in periods] == [dt.date(2023, m, 1) for m in (1, 2, 3)]
    assert [params for _, params in http.asked] == [{"limit": 200}, {"limit": 200, "cursor": "abc"}]


async def test_a_missing_norm_is_a_result_saying_why() -> None:
    registry, _ = client(
        {
            "/api/v1/norms/lookup": [
                (404, {"detail": "No norm for sector 'steel'"}),
                (
                    200,
                    {
                        "value": 286,
                        "unit": "MJ/hl",
                        "circular": "19/2016/TT-BCT",
                        "capacity_band": "< 20 million L/yr",
                        "product": "beer",
                        "valid_from": "2016-01-01",
                        "valid_to": "2030-12-31",
                    },
                ),
            ]
        }
    )
    on = dt.date(2025, 6, 1)
    missing = await registry.norm(sector="steel", product="x", on=on, capacity=None)
    assert not missing.found and missing.reason == "No norm for sector 'steel'"
    found = await registry.norm(sector="beer", product="beer", on=on, capacity=15)
    assert found.found and found.value == 286.0 and found.valid_from == "2016-01-01"
    assert found.to_dict()["label"] == "19/2016/TT-BCT beer — beer, < 20 million L/yr (2016-01-01 – 2030-12-31)"
    nothing = await registry.norm(sector=None, product="beer", on=on, capacity=None)
    assert not nothing.found and "no sector" in (nothing.reason or "")


def recipient(uid: str) -> dict[str, Any]:
    return {
        "user_id": uid,
        "username": uid,
        "email": f"{uid}@example.vn",
        "locale": "vi",
        "enabled": True,
        "full_name": uid,
    }


async def test_recipient_sets_are_one_call_and_fall_back_to_one_audience_at_a_time() -> None:
    """One call for every audience (each asked once); a registry without the batched form (404: an older version
    during a rolling update) is asked one audience at a time, the same answers."""
    audiences = [f"enterprise:{ENTERPRISE_ID}", "role:officer", "user:u1", "role:officer"]
    batched = {
        "audiences": [
            {"audience": audiences[0], "items": [recipient("a"), recipient("b")]},
            {"audience": "role:officer", "items": [recipient("o")]},
            {"audience": "user:u1", "items": [], "error": "role_not_mailed"},
        ]
    }
    registry, http = client({"/internal/recipients/by-audience": [(200, batched)]})
    found = await registry.recipient_sets(audiences)
    assert http.asked == [("/internal/recipients/by-audience", {"audience": audiences[:3]})]
    assert [r.user_id for r in found[audiences[0]]] == ["a", "b"]  # type: ignore[union-attr]
    assert found["user:u1"] == "role_not_mailed"
    older, http = client(
        {
            "/internal/recipients/by-audience": [(404, {"detail": "Not Found"})],
            "/internal/recipients": [
                (200, {"items": [recipient("a")]}),
                (200, {"items": [recipient("o")]}),
                (200, {"items": []}),
            ],
        }
    )
    found = await older.recipient_sets(audiences)
    assert [params for _, params in http.asked[1:]] == [
        {"enterprise_id": str(ENTERPRISE_ID)},
        {"role": "officer"},
        {"user_id": "u1"},
    ]
    assert [[r.user_id for r in found[a]] for a in audiences[:3]] == [["a"], ["o"], []]  # type: ignore[union-attr]


async def test_recipient_sets_missing_an_audience_is_trouble() -> None:
    registry, _ = client({"/internal/recipients/by-audience": [(200, {"audiences": []})]})
    with pytest.raises(RegistryUnavailable):
        await registry.recipient_sets(["role:officer"])
