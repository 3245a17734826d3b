"""Faults an attacker found (2026-12-01), refused at the root in the verification service: NUL in any parameter,
forged cursors on every list, the database down, measurement periods far outside the programme, booleans as
numbers, and the OpenAPI document."""

from __future__ import annotations

from typing import Any

import httpx
import pytest
from verification_helpers import (
    PRODUCTION,
    Actors,
    etag,
    measurement_body,
    new_verifier,
    open_case,
    ready_verifier,
    steel_line,
    steel_plant,
)

from cleanprod_kit import guard_codes
from cleanprod_kit.testing.hostile import (
    assert_database_down_is_503,
    assert_forged_cursors_refused,
    cursor_routes,
    openapi_problems,
)
from cleanprod_kit.testing.problems import assert_problem
from cleanprod_verification.config import VerificationSettings
from cleanprod_verification.main import create_app


@pytest.fixture(scope="module")
async def measuring(client: httpx.AsyncClient, registry: httpx.AsyncClient, actors: Actors) -> dict[str, Any]:
    plant = await steel_plant(registry, actors)
    case = await open_case(client, actors, plant, claimed=8.0)
    verifier = await ready_verifier(client, actors, case["id"])
    return {
        "case": case,
        "verifier": verifier,
        "url": f"/api/v1/verifications/{case['id']}/measurements",
        "ids": {"case_id": case["id"]},
    }


def month(m: int, **extra: Any) -> dict[str, Any]:
    p = PRODUCTION[m - 1]
    return measurement_body(2025, m, p, {"electricity": (0.9 * steel_line(p)["electricity"], "MWh")}, **extra)


@pytest.mark.parametrize(
    ("changes", "field", "code"),
    [
        ({"period_start": "9999-12-01", "period_end": "9999-12-31"}, "period_start", guard_codes.DATE_OUT_OF_RANGE),
        ({"period_start": "0001-01-01", "period_end": "0001-01-31"}, "period_start", guard_codes.DATE_OUT_OF_RANGE),
        ({"period_end": 0}, "period_end", guard_codes.STRICT_DATE),
        ({"estimated": 0}, "estimated", guard_codes.STRICT_BOOLEAN),
        (
            {"evidence": {"document_id": "doc\x00", "description": "Hóa đơn"}},
            "evidence.document_id",
            guard_codes.CONTROL_CHARACTERS,
        ),
    ],
)
async def test_measurements_refuse_hostile_values(
    client: httpx.AsyncClient, actors: Actors, measuring: dict[str, Any], changes: dict[str, Any], field: str, code: str
) -> None:
    response = await client.post(
        measuring["url"], json={**month(1), **changes}, headers=actors.verifier(measuring["verifier"])
    )
    assert_problem(response, 422, field=field, code=code)


async def test_the_declaration_takes_only_true_or_false(
    client: httpx.AsyncClient, registry: httpx.AsyncClient, actors: Actors
) -> None:
    plant = await steel_plant(registry, actors)
    case = await open_case(client, actors, plant)
    verifier = new_verifier("kiem.tra")
    tag = await etag(client, actors.officer, case["id"])
    assigned = await client.put(
        f"/api/v1/verifications/{case['id']}/assignment",
        headers={**actors.officer, "If-Match": tag},
        json={"verifier_subject": verifier.subject, "verifier_username": verifier.username},
    )
    assert assigned.status_code == 200, assigned.text
    tag = await etag(client, actors.officer, case["id"])
    response = await client.post(
        f"/api/v1/verifications/{case['id']}/assignment/declaration",
        headers={**actors.verifier(verifier), "If-Match": tag},
        json={"independent": 1, "statement": "Tôi cam kết độc lập."},
    )
    assert_problem(response, 422, field="independent", code=guard_codes.STRICT_BOOLEAN)


@pytest.mark.parametrize(
    ("url", "field"),
    [
        ("/api/v1/verifications?status=open%00", "query.status"),
        ("/api/v1/verifications/%00abc", "path.case_id"),
    ],
)
async def test_nul_in_a_query_or_path_parameter_is_422(
    client: httpx.AsyncClient, actors: Actors, url: str, field: str
) -> None:
    assert_problem(await client.get(url, headers=actors.officer), 422, field=field, code=guard_codes.CONTROL_CHARACTERS)


def _routes() -> list[tuple[str, str]]:
    return cursor_routes(create_app(VerificationSettings(log_json=False)))


def test_the_list_endpoints_are_found() -> None:
    assert len(_routes()) >= 2


@pytest.mark.parametrize(("path", "parameter"), _routes())
async def test_forged_cursors_of_every_json_type_are_422_on_every_list(
    client: httpx.AsyncClient, actors: Actors, measuring: dict[str, Any], path: str, parameter: str
) -> None:
    url = path.format(**measuring["ids"])
    await assert_forged_cursors_refused(client, url, parameter, actors.officer)


async def test_database_down_is_503_problem_with_retry_after(
    verification_settings: VerificationSettings, actors: Actors
) -> None:
    await assert_database_down_is_503(
        create_app,
        verification_settings,
        "cleanprod_verification",
        ("/api/v1/verifications",),
        actors.officer,
        "down-3",
    )


async def test_openapi_documents_the_problem_responses(client: httpx.AsyncClient) -> None:
    assert openapi_problems((await client.get("/openapi.json")).json()) == []
