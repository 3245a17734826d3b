"""Every bad input is a 4xx problem+json a person can act on — never a 500."""

from __future__ import annotations

import httpx
import pytest
from registry_helpers import Actors, create_enterprise, create_facility, enterprise_body

from cleanprod_kit.testing.problems import PROBLEM, assert_problem


async def test_malformed_json(client: httpx.AsyncClient, actors: Actors) -> None:
    response = await client.post(
        "/api/v1/enterprises",
        content=b'{"tax_code": "0100109106",',
        headers={**actors.officer, "Content-Type": "application/json"},
    )
    assert_problem(response, 400)


async def test_bad_utf8(client: httpx.AsyncClient, actors: Actors) -> None:
    response = await client.post(
        "/api/v1/enterprises",
        content=b'{"name": "C\xf4ng ty \xff\xfe"}',
        headers={**actors.officer, "Content-Type": "application/json"},
    )
    assert response.status_code in (400, 422)
    assert response.headers["content-type"].startswith(PROBLEM)


async def test_wrong_types_list_each_field(client: httpx.AsyncClient, actors: Actors) -> None:
    body = enterprise_body(legal_form=42, size_class="enormous", address=["not", "text"])
    problem = assert_problem(await client.post("/api/v1/enterprises", json=body, headers=actors.officer), 422)
    assert {e["field"] for e in problem["errors"]} >= {"legal_form", "size_class", "address"}


async def test_unknown_fields_are_refused(client: httpx.AsyncClient, actors: Actors) -> None:
    body = enterprise_body(is_admin=True)
    problem = assert_problem(await client.post("/api/v1/enterprises", json=body, headers=actors.officer), 422)
    assert problem["errors"][0]["field"] == "is_admin"


async def test_huge_strings_are_refused(client: httpx.AsyncClient, actors: Actors) -> None:
    problem = assert_problem(
        await client.post("/api/v1/enterprises", json=enterprise_body(name="Ạ" * 5000), headers=actors.officer), 422
    )
    assert problem["errors"][0]["field"] == "name"


async def test_huge_body_is_413(client: httpx.AsyncClient, actors: Actors) -> None:
    response = await client.post(
        "/api/v1/enterprises",
        content=b"{" + b" " * 2_000_000 + b"}",
        headers={**actors.officer, "Content-Type": "application/json"},
    )
    assert_problem(response, 413)


async def test_body_that_is_not_an_object(client: httpx.AsyncClient, actors: Actors) -> None:
    assert_problem(await client.post("/api/v1/enterprises", json=[1, 2, 3], headers=actors.officer), 422)
    assert_problem(await client.post("/api/v1/enterprises", json="text", headers=actors.officer), 422)


async def test_wrong_content_type(client: httpx.AsyncClient, actors: Actors) -> None:
    response = await client.post(
        "/api/v1/enterprises",
        content=b"tax_code=1",
        headers={**actors.officer, "Content-Type": "application/x-www-form-urlencoded"},
    )
    assert 400 <= response.status_code < 500
    assert response.headers["content-type"].startswith(PROBLEM)


@pytest.mark.parametrize(
    "path",
    [
        "/api/v1/enterprises/not-a-uuid",
        "/api/v1/facilities/123",
        "/api/v1/enterprises/00000000-0000-0000-0000-000000000000",
        "/api/v1/nowhere",
    ],
)
async def test_bad_paths(client: httpx.AsyncClient, actors: Actors, path: str) -> None:
    response = await client.get(path, headers=actors.officer)
    assert response.status_code in (404, 422)
    assert response.headers["content-type"].startswith(PROBLEM)


async def test_wrong_method_is_problem(client: httpx.AsyncClient, actors: Actors) -> None:
    assert_problem(await client.delete("/api/v1/sectors", headers=actors.officer), 405)


async def test_baseline_validation(client: httpx.AsyncClient, actors: Actors) -> None:
    enterprise = await create_enterprise(client, actors)
    facility = await create_facility(client, actors, enterprise["id"])
    url = f"/api/v1/facilities/{facility['id']}/baselines"
    good = {
        "period_start": "2025-01-01",
        "period_end": "2025-01-31",
        "production": {"quantity": 1000, "unit": "t"},
        "consumption": [
            {"carrier": "electricity", "quantity": 450000, "unit": "kWh"},
            {"carrier": "coal_grade_3_4", "quantity": 80, "unit": "t"},
        ],
    }
    created = await client.post(url, json=good, headers=actors.officer)
    assert created.status_code == 201, created.text
    assert created.json()["consumption"][0] == {"carrier": "electricity", "quantity": 450000.0, "unit": "kWh"}

    overlap = {**good, "period_start": "2025-01-15", "period_end": "2025-02-14"}
    problem = assert_problem(await client.post(url, json=overlap, headers=actors.officer), 422)
    assert "overlaps" in problem["detail"]
    bad_unit = {
        **good,
        "period_start": "2025-03-01",
        "period_end": "2025-03-31",
        "consumption": [{"carrier": "electricity", "quantity": 1, "unit": "t"}],
    }
    problem = assert_problem(await client.post(url, json=bad_unit, headers=actors.officer), 422)
    assert "does not fit carrier" in problem["errors"][0]["message"]
    negative = {
        **good,
        "period_start": "2025-03-01",
        "period_end": "2025-03-31",
        "production": {"quantity": -5, "unit": "t"},
    }
    assert_problem(await client.post(url, json=negative, headers=actors.officer), 422)
    inverted = {**good, "period_start": "2025-04-30", "period_end": "2025-04-01"}
    assert_problem(await client.post(url, json=inverted, headers=actors.officer), 422)
    unknown_carrier = {
        **good,
        "period_start": "2025-05-01",
        "period_end": "2025-05-31",
        "consumption": [{"carrier": "plutonium", "quantity": 1, "unit": "kg"}],
    }
    assert_problem(await client.post(url, json=unknown_carrier, headers=actors.officer), 422)
    nan = (
        b'{"period_start":"2025-06-01","period_end":"2025-06-30","production":{"quantity":NaN,"unit":"t"},'
        b'"consumption":[{"carrier":"electricity","quantity":1,"unit":"kWh"}]}'
    )
    response = await client.post(url, content=nan, headers={**actors.officer, "Content-Type": "application/json"})
    assert 400 <= response.status_code < 500
    listed = (await client.get(url, headers=actors.officer)).json()["items"]
    assert len(listed) == 1


async def test_unknown_sector_for_facility(client: httpx.AsyncClient, actors: Actors) -> None:
    enterprise = await create_enterprise(client, actors)
    response = await client.post(
        f"/api/v1/enterprises/{enterprise['id']}/facilities",
        json={"name": "X", "sector_code": "nope", "address": "Hà Nội", "ward": "Phường Ba Đình"},
        headers=actors.officer,
    )
    problem = assert_problem(response, 422)
    assert problem["errors"][0]["field"] == "sector_code"
