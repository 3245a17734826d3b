"""Faults an attacker found (2026-12-01), each refused at the root: null written over required fields, NUL in any
parameter, forged cursors on every list, the database down, loose dates and booleans, an OpenAPI document that
did not describe the errors."""

from __future__ import annotations

from typing import Any

import httpx
import pytest
from registry_helpers import Actors, baseline_body, create_enterprise, create_facility

from cleanprod_kit import guard_codes
from cleanprod_kit.testing.hostile import (
    assert_database_down_is_503,
    assert_forged_cursors_refused,
    cursor_routes,
    non_nullable_fields,
    openapi_problems,
)
from cleanprod_kit.testing.problems import assert_problem
from cleanprod_registry.config import RegistrySettings
from cleanprod_registry.enterprises.schemas import EnterpriseUpdate
from cleanprod_registry.facilities.schemas import FacilityUpdate
from cleanprod_registry.main import create_app
from cleanprod_registry.sectors.schemas import SectorUpdate


@pytest.fixture(scope="module")
async def world(client: httpx.AsyncClient, actors: Actors) -> dict[str, str]:
    enterprise = await create_enterprise(client, actors)
    facility = await create_facility(client, actors, enterprise["id"])
    baseline = baseline_body("2024-01-01", "2024-12-31", production=1000, electricity=(5000, "kWh"))
    response = await client.post(
        f"/api/v1/facilities/{facility['id']}/baselines", json=baseline, headers=actors.officer
    )
    assert response.status_code == 201, response.text
    return {"enterprise_id": enterprise["id"], "facility_id": facility["id"]}


# ---- 3. poison writes -----------------------------------------------------------------------------------------

PATCHABLE = [
    ("enterprise", EnterpriseUpdate),
    ("facility", FacilityUpdate),
    ("sector", SectorUpdate),
]
CASES = [(kind, field) for kind, schema in PATCHABLE for field in non_nullable_fields(schema)]


async def _resource_url(kind: str, world: dict[str, str]) -> str:
    return {
        "enterprise": f"/api/v1/enterprises/{world['enterprise_id']}",
        "facility": f"/api/v1/facilities/{world['facility_id']}",
        "sector": "/api/v1/sectors/steel",
    }[kind]


def test_every_non_nullable_field_is_covered() -> None:
    assert {"products", "name", "sector_code", "status"} <= {f for k, f in CASES if k == "facility"}
    assert {"name", "legal_form", "province"} <= {f for k, f in CASES if k == "enterprise"}


@pytest.mark.parametrize(("kind", "field"), CASES)
async def test_null_on_a_required_field_is_422_and_the_row_is_unchanged(
    client: httpx.AsyncClient, actors: Actors, world: dict[str, str], kind: str, field: str
) -> None:
    url = await _resource_url(kind, world)
    before = await client.get(url, headers=actors.officer)
    assert before.status_code == 200
    response = await client.patch(
        url, json={field: None}, headers={**actors.officer, "If-Match": before.headers["etag"]}
    )
    assert_problem(response, 422, field=field, code=guard_codes.NULL_NOT_ALLOWED)
    after = await client.get(url, headers=actors.officer)
    assert after.json() == before.json() and after.headers["etag"] == before.headers["etag"]


async def test_the_facility_list_keeps_answering_after_a_null_products_attempt(
    client: httpx.AsyncClient, actors: Actors, world: dict[str, str]
) -> None:
    url = f"/api/v1/facilities/{world['facility_id']}"
    etag = (await client.get(url, headers=actors.officer)).headers["etag"]
    await client.patch(url, json={"products": None}, headers={**actors.officer, "If-Match": etag})
    listing = await client.get(f"/api/v1/enterprises/{world['enterprise_id']}/facilities", headers=actors.officer)
    assert listing.status_code == 200 and listing.json()["items"][0]["products"] == ["hot rolling long products"]


async def test_null_still_clears_a_nullable_field(
    client: httpx.AsyncClient, actors: Actors, world: dict[str, str]
) -> None:
    url = f"/api/v1/facilities/{world['facility_id']}"
    etag = (await client.get(url, headers=actors.officer)).headers["etag"]
    response = await client.patch(url, json={"district": None}, headers={**actors.officer, "If-Match": etag})
    assert response.status_code == 200 and response.json()["district"] is None


# ---- 4. NUL and control characters; forged cursors --------------------------------------------------------------


async def test_nul_in_a_body_string_is_422_naming_the_field(
    client: httpx.AsyncClient, actors: Actors, world: dict[str, str]
) -> None:
    url = f"/api/v1/facilities/{world['facility_id']}"
    etag = (await client.get(url, headers=actors.officer)).headers["etag"]
    for body, field in (
        ({"name": "Nhà máy\x00"}, "name"),
        ({"products": ["thép\x00"]}, "products.0"),
        ({"ward": "Xã\nĐông Anh"}, "ward"),
    ):
        response = await client.patch(url, json=body, headers={**actors.officer, "If-Match": etag})
        assert_problem(response, 422, field=field, code=guard_codes.CONTROL_CHARACTERS)
    baseline = baseline_body("2023-01-01", "2023-12-31", notes="a\x00b")
    response = await client.post(
        f"/api/v1/facilities/{world['facility_id']}/baselines", json=baseline, headers=actors.officer
    )
    assert_problem(response, 422, field="notes", code=guard_codes.CONTROL_CHARACTERS)


@pytest.mark.parametrize(
    ("url", "field"),
    [
        ("/api/v1/facilities?q=th%C3%A9p%00", "query.q"),
        ("/api/v1/facilities?ward=a%00", "query.ward"),
        ("/api/v1/enterprises?q=%01", "query.q"),
        ("/api/v1/norms?sector=steel%00", "query.sector"),
        ("/api/v1/sectors/st%00eel", "path.code"),
        ("/api/v1/enterprises/%00", "path.enterprise_id"),
    ],
)
async def test_nul_in_a_query_or_path_parameter_is_422(
    client: httpx.AsyncClient, actors: Actors, url: str, field: str
) -> None:
    assert_problem(await client.get(url, headers=actors.officer), 422, field=field, code=guard_codes.CONTROL_CHARACTERS)


def _routes() -> list[tuple[str, str]]:
    return cursor_routes(create_app(RegistrySettings(log_json=False)))


def test_the_list_endpoints_are_found() -> None:
    assert len(_routes()) >= 7


@pytest.mark.parametrize(("path", "parameter"), _routes())
async def test_forged_cursors_of_every_json_type_are_422_on_every_list(
    client: httpx.AsyncClient, actors: Actors, world: dict[str, str], path: str, parameter: str
) -> None:
    url = path.format(**world)
    await assert_forged_cursors_refused(client, url, parameter, actors.officer)


# ---- 6. database down -----------------------------------------------------------------------------------------


async def test_database_down_is_503_problem_with_retry_after(
    registry_settings: RegistrySettings, actors: Actors
) -> None:
    await assert_database_down_is_503(
        create_app,
        registry_settings,
        "cleanprod_registry",
        ("/api/v1/facilities", "/api/v1/enterprises", "/api/v1/sectors"),
        actors.officer,
        "down-1",
    )


# ---- 7. strict dates and booleans, programme window, 413 however framed ----------------------------------------


@pytest.mark.parametrize(
    ("changes", "field", "code"),
    [
        ({"period_start": 0}, "period_start", guard_codes.STRICT_DATE),
        ({"period_start": "0001-01-01", "period_end": "0001-12-31"}, "period_start", guard_codes.DATE_OUT_OF_RANGE),
        ({"period_start": "9999-12-01", "period_end": "9999-12-31"}, "period_start", guard_codes.DATE_OUT_OF_RANGE),
        ({"estimated": 0}, "estimated", guard_codes.STRICT_BOOLEAN),
    ],
)
async def test_baselines_take_strict_dates_within_the_window_and_strict_booleans(
    client: httpx.AsyncClient, actors: Actors, world: dict[str, str], changes: dict[str, Any], field: str, code: str
) -> None:
    baseline = baseline_body("2022-01-01", "2022-12-31", **changes)
    response = await client.post(
        f"/api/v1/facilities/{world['facility_id']}/baselines", json=baseline, headers=actors.officer
    )
    assert_problem(response, 422, field=field, code=code)


async def test_a_boolean_sent_as_a_number_is_422(client: httpx.AsyncClient, actors: Actors) -> None:
    etag = (await client.get("/api/v1/sectors/steel", headers=actors.officer)).headers["etag"]
    response = await client.patch(
        "/api/v1/sectors/steel", json={"priority": 0}, headers={**actors.officer, "If-Match": etag}
    )
    assert_problem(response, 422, field="priority", code=guard_codes.STRICT_BOOLEAN)


@pytest.mark.parametrize(
    ("url", "field", "code"),
    [
        ("/api/v1/sectors?priority=1", "query.priority", guard_codes.STRICT_BOOLEAN),
        ("/api/v1/norms?on=0", "query.on", guard_codes.STRICT_DATE),
        ("/api/v1/norms/lookup?sector=steel&product=x&on=20260101", "query.on", guard_codes.STRICT_DATE),
    ],
)
async def test_parameters_take_strict_dates_and_booleans(
    client: httpx.AsyncClient, actors: Actors, url: str, field: str, code: str
) -> None:
    assert_problem(await client.get(url, headers=actors.officer), 422, field=field, code=code)
    assert (await client.get("/api/v1/sectors?priority=true", headers=actors.officer)).status_code == 200


async def test_a_chunked_body_over_the_limit_is_413(client: httpx.AsyncClient, actors: Actors) -> None:
    async def chunks() -> Any:
        yield b'{"name": "'
        for _ in range(2100):
            yield b"x" * 1000
        yield b'"}'

    response = await client.post(
        "/api/v1/enterprises", content=chunks(), headers={**actors.officer, "Content-Type": "application/json"}
    )
    assert "content-length" not in response.request.headers
    assert_problem(response, 413, code=guard_codes.PAYLOAD_TOO_LARGE)


# ---- 9. OpenAPI ------------------------------------------------------------------------------------------------


async def test_openapi_documents_the_problem_responses(client: httpx.AsyncClient) -> None:
    document = (await client.get("/openapi.json")).json()
    assert openapi_problems(document) == []
    patch = document["paths"]["/api/v1/facilities/{facility_id}"]["patch"]["responses"]
    assert {"401", "403", "404", "409", "412", "413", "415", "422", "428"} <= set(patch)
