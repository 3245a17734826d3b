"""Faults an attacker found (2026-12-01), refused at the root in the applications service: null over required
fields of every PATCH-able resource, NUL in any parameter, forged cursors on every list, the database down, dates
as numbers or far outside the programme, booleans as numbers, and the OpenAPI document."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
from applications_helpers import Actors, World, days, if_match

from cleanprod_applications.applications.schemas import ApplicationUpdate
from cleanprod_applications.calls.schemas import CallUpdate
from cleanprod_applications.config import ApplicationsSettings
from cleanprod_applications.integrations.schemas import SubscriptionUpdate
from cleanprod_applications.main import create_app
from cleanprod_kit import guard_codes
from cleanprod_kit.testing.hostile import (
    assert_database_down_is_503,
    assert_forged_cursors_refused,
    cursor_routes,
    non_nullable_fields,
    openapi_problems,
)
from cleanprod_kit.testing.problems import assert_problem

EGOV = {"sub": "service-account-egov-hardening", "username": "service-account-egov-hardening"}


def egov(actors: Actors) -> dict[str, str]:
    return actors.headers("egov", **EGOV)


@pytest.fixture(scope="module")
async def resources(client: httpx.AsyncClient, world: World, actors: Actors) -> AsyncIterator[dict[str, Any]]:
    call = await world.call()
    draft = await world.draft(call)
    response = await client.post(
        "/api/v1/integrations/webhooks",
        headers=egov(actors),
        json={"url": "http://127.0.0.1:9/hooks", "description": "Cổng một cửa"},
    )
    assert response.status_code == 201, response.text
    subscription = response.json()
    yield {
        "call": call,
        "application": draft,
        "subscription": subscription,
        "ids": {"call_id": call["id"], "application_id": draft["id"], "subscription_id": subscription["id"]},
    }
    # Its deliveries would otherwise queue up for the webhook dispatcher tests that run later.
    deleted = await client.delete(f"/api/v1/integrations/webhooks/{subscription['id']}", headers=egov(actors))
    assert deleted.status_code == 204, deleted.text


def _target(kind: str, resources: dict[str, Any], world: World, actors: Actors) -> tuple[str, dict[str, str]]:
    if kind == "call":
        return f"/api/v1/calls/{resources['call']['id']}", actors.officer()
    if kind == "application":
        return f"/api/v1/applications/{resources['application']['id']}", world.owner(resources["application"])
    return f"/api/v1/integrations/webhooks/{resources['subscription']['id']}", egov(actors)


CASES = [
    (kind, field)
    for kind, schema in (("call", CallUpdate), ("application", ApplicationUpdate), ("subscription", SubscriptionUpdate))
    for field in non_nullable_fields(schema)
]


def test_every_non_nullable_field_is_covered() -> None:
    assert {"title", "technology", "claimed_savings", "implementation_end"} <= {
        f for k, f in CASES if k == "application"
    }
    assert {"budget_vnd", "criteria", "opens_on"} <= {f for k, f in CASES if k == "call"}
    assert {"url", "event_types", "active"} <= {f for k, f in CASES if k == "subscription"}


@pytest.mark.parametrize(("kind", "field"), CASES)
async def test_null_on_a_required_field_is_422_and_the_row_is_unchanged(
    client: httpx.AsyncClient, world: World, actors: Actors, resources: dict[str, Any], kind: str, field: str
) -> None:
    url, headers = _target(kind, resources, world, actors)
    before = await client.get(url, headers=headers)
    assert before.status_code == 200, before.text
    response = await client.patch(url, json={field: None}, headers={**headers, "If-Match": before.headers["etag"]})
    assert_problem(response, 422, field=field, code=guard_codes.NULL_NOT_ALLOWED)
    after = await client.get(url, headers=headers)
    assert after.json() == before.json() and after.headers["etag"] == before.headers["etag"]


async def test_null_still_clears_a_nullable_field(
    client: httpx.AsyncClient, world: World, actors: Actors, resources: dict[str, Any]
) -> None:
    url, headers = _target("call", resources, world, actors)
    etag = (await client.get(url, headers=headers)).headers["etag"]
    response = await client.patch(url, json={"description": None}, headers={**headers, "If-Match": etag})
    assert response.status_code == 200 and response.json()["description"] is None


# ---- NUL and control characters ---------------------------------------------------------------------------------


async def test_nul_in_body_strings_is_422_naming_the_field(
    client: httpx.AsyncClient, world: World, actors: Actors, resources: dict[str, Any]
) -> None:
    url, headers = _target("application", resources, world, actors)
    etag = (await client.get(url, headers=headers)).headers["etag"]
    for body, field in (
        ({"title": "Lò\x00"}, "title"),
        ({"technology": "dòng 1\n\x00"}, "technology"),
        ({"supplier": {"name": "NCC\x00"}}, "supplier.name"),
        ({"claimed_savings": [{"carrier": "electricity\x00", "saving_pct": 5}]}, "claimed_savings.0.carrier"),
    ):
        response = await client.patch(url, json=body, headers={**headers, "If-Match": etag})
        assert_problem(response, 422, field=field, code=guard_codes.CONTROL_CHARACTERS)
    multiline = await client.patch(
        url, json={"technology": "Dòng 1\nDòng 2\tcột"}, headers={**headers, "If-Match": etag}
    )
    assert multiline.status_code == 200 and multiline.json()["technology"] == "Dòng 1\nDòng 2\tcột"


@pytest.mark.parametrize(
    ("url", "field"),
    [
        ("/api/v1/applications?q=l%C3%B2%00", "query.q"),
        ("/api/v1/calls?code=SXSH%00", "query.code"),
        ("/api/v1/integrations/dossiers/000.00.01.H26-261128-0001%00", "path.dossier_code"),
    ],
)
async def test_nul_in_a_query_or_path_parameter_is_422(
    client: httpx.AsyncClient, actors: Actors, url: str, field: str
) -> None:
    headers = egov(actors) if "integrations" in url else actors.officer()
    assert_problem(await client.get(url, headers=headers), 422, field=field, code=guard_codes.CONTROL_CHARACTERS)


# ---- forged cursors -----------------------------------------------------------------------------------------------


def _routes() -> list[tuple[str, str]]:
    return cursor_routes(create_app(ApplicationsSettings(log_json=False)))


def test_the_list_endpoints_are_found() -> None:
    assert len(_routes()) >= 8


@pytest.mark.parametrize(("path", "parameter"), _routes())
async def test_forged_cursors_of_every_json_type_are_422_on_every_list(
    client: httpx.AsyncClient, actors: Actors, resources: dict[str, Any], path: str, parameter: str
) -> None:
    url = path.format(**resources["ids"])
    headers = egov(actors) if "/integrations/" in path else actors.officer()
    await assert_forged_cursors_refused(client, url, parameter, headers)


# ---- strict dates and booleans, the programme window ------------------------------------------------------------


@pytest.mark.parametrize(
    ("changes", "field", "code"),
    [
        ({"opens_on": 0}, "opens_on", guard_codes.STRICT_DATE),
        ({"opens_on": "0001-01-01"}, "opens_on", guard_codes.DATE_OUT_OF_RANGE),
        ({"closes_on": "9999-12-31"}, "closes_on", guard_codes.DATE_OUT_OF_RANGE),
    ],
)
async def test_call_dates_are_strict_and_within_the_window(
    client: httpx.AsyncClient,
    world: World,
    actors: Actors,
    resources: dict[str, Any],
    changes: dict[str, Any],
    field: str,
    code: str,
) -> None:
    url, headers = _target("call", resources, world, actors)
    etag = (await client.get(url, headers=headers)).headers["etag"]
    assert_problem(
        await client.patch(url, json=changes, headers={**headers, "If-Match": etag}), 422, field=field, code=code
    )


async def test_application_dates_are_strict_and_within_the_window(
    client: httpx.AsyncClient, world: World, actors: Actors, resources: dict[str, Any]
) -> None:
    url, headers = _target("application", resources, world, actors)
    etag = (await client.get(url, headers=headers)).headers["etag"]
    for body, code in (
        ({"implementation_end": "9999-12-31"}, guard_codes.DATE_OUT_OF_RANGE),
        ({"implementation_end": 0}, guard_codes.STRICT_DATE),
        ({"implementation_end": days(365 * 11)}, guard_codes.DATE_OUT_OF_RANGE),
    ):
        assert_problem(
            await client.patch(url, json=body, headers={**headers, "If-Match": etag}),
            422,
            field="implementation_end",
            code=code,
        )


async def test_start_dates_are_strict_and_within_the_window(client: httpx.AsyncClient, world: World) -> None:
    approved = await world.approved()
    url = f"/api/v1/applications/{approved['id']}/start"
    owner = if_match(world.owner(approved), approved["version"])
    for body, code in (
        ({"started_on": "0001-01-01"}, guard_codes.DATE_OUT_OF_RANGE),
        ({"started_on": 0}, guard_codes.STRICT_DATE),
    ):
        assert_problem(await client.post(url, json=body, headers=owner), 422, field="started_on", code=code)
    assert (await world.get(approved))["status"] == "approved"


async def test_booleans_are_only_true_or_false(
    client: httpx.AsyncClient, world: World, actors: Actors, resources: dict[str, Any]
) -> None:
    url, headers = _target("subscription", resources, world, actors)
    etag = (await client.get(url, headers=headers)).headers["etag"]
    for value in (0, 1, "false"):
        assert_problem(
            await client.patch(url, json={"active": value}, headers={**headers, "If-Match": etag}),
            422,
            field="active",
            code=guard_codes.STRICT_BOOLEAN,
        )
    submitted = await world.submitted()
    await world.assign(submitted, 3)
    response = await client.post(
        f"/api/v1/applications/{submitted['id']}/reviews/declaration",
        headers=actors.reviewer(3),
        json={"conflict": 0, "statement": "Không liên quan."},
    )
    assert_problem(response, 422, field="conflict", code=guard_codes.STRICT_BOOLEAN)


# ---- database down, OpenAPI ---------------------------------------------------------------------------------------


async def test_database_down_is_503_problem_with_retry_after(settings: ApplicationsSettings, actors: Actors) -> None:
    await assert_database_down_is_503(
        create_app,
        settings,
        "cleanprod_applications",
        ("/api/v1/calls", "/api/v1/applications"),
        actors.officer(),
        "down-2",
    )


async def test_openapi_documents_the_problem_responses(client: httpx.AsyncClient) -> None:
    document = (await client.get("/openapi.json")).json()
    assert openapi_problems(document) == []
    submit = document["paths"]["/api/v1/applications/{application_id}/submit"]["post"]["responses"]
    assert {"401", "403", "404", "409", "412", "428"} <= set(submit)
    upload = document["paths"]["/api/v1/applications/{application_id}/documents"]["post"]["responses"]
    assert {"413", "415"} <= set(upload)
