"""Every bad input is a 4xx problem+json a person can act on — never a 500."""

from __future__ import annotations

import httpx
import pytest
from applications_helpers import Actors, World, application_body, assert_problem, if_match


async def test_malformed_and_oversized_json(client: httpx.AsyncClient, world: World, actors: Actors) -> None:
    owner = actors.enterprise(world.a.tax_code)
    headers = {**owner, "Content-Type": "application/json"}
    assert_problem(await client.post("/api/v1/applications", content=b'{"title": "x",', headers=headers), 400)
    assert_problem(await client.post("/api/v1/applications", content=b'{"title": "\xff\xfe"}', headers=headers), 400)
    assert_problem(
        await client.post("/api/v1/applications", content=b"{" + b" " * 1_100_000 + b"}", headers=headers), 413
    )
    assert_problem(await client.post("/api/v1/applications", json=[1, 2], headers=owner), 422)


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        # A fraction of a đồng (1.5e9 itself is the integer 1,500,000,000, as JSON Schema's `integer` says).
        ({"total_cost_vnd": 1.5e9 + 0.5}, "total_cost_vnd"),
        ({"total_cost_vnd": "3000000000"}, "total_cost_vnd"),
        ({"requested_support_vnd": 0}, "requested_support_vnd"),
        ({"requested_support_vnd": -5}, "requested_support_vnd"),
        ({"claimed_overall_saving_pct": 140}, "claimed_overall_saving_pct"),
        ({"claimed_savings": []}, "claimed_savings"),
        ({"claimed_savings": [{"carrier": "moonlight", "saving_pct": 5}]}, "claimed_savings.0"),
        (
            {
                "claimed_savings": [
                    {"carrier": "electricity", "saving_pct": 5, "annual_saving": {"quantity": 1, "unit": "t"}}
                ]
            },
            "claimed_savings.0",
        ),
        ({"supplier": {"name": "Công ty X", "tax_code": "0100109107"}}, "supplier.tax_code"),
        ({"title": "Ạ" * 400}, "title"),
        ({"implementation_start": "28/11/2026"}, "implementation_start"),
        ({"is_admin": True}, "is_admin"),
        ({"call_id": "not-a-uuid"}, "call_id"),
    ],
)
async def test_bad_application_fields_are_named(
    client: httpx.AsyncClient, world: World, actors: Actors, overrides: dict, field: str
) -> None:
    call = await world.call()
    body = application_body(call["id"], world.a.steel_facility) | overrides
    problem = assert_problem(
        await client.post("/api/v1/applications", json=body, headers=actors.enterprise(world.a.tax_code)), 422
    )
    assert field in {e["field"] for e in problem["errors"]}, problem["errors"]


async def test_cross_field_rules_and_unknown_call(client: httpx.AsyncClient, world: World, actors: Actors) -> None:
    call = await world.call()
    owner = actors.enterprise(world.a.tax_code)
    body = application_body(call["id"], world.a.steel_facility, eligible_cost_vnd=4_000_000_000)
    assert_problem(await client.post("/api/v1/applications", json=body, headers=owner), 422)
    body = application_body(call["id"], world.a.steel_facility, implementation_end="2020-01-01")
    assert_problem(await client.post("/api/v1/applications", json=body, headers=owner), 422)
    body = application_body("0190f4c2-3b1a-7c1d-9e2f-3a4b5c6d7e8f", world.a.steel_facility)
    problem = assert_problem(await client.post("/api/v1/applications", json=body, headers=owner), 422)
    assert problem["errors"][0]["field"] == "call_id"


async def test_bad_tokens_and_headers(client: httpx.AsyncClient, world: World, actors: Actors) -> None:
    assert_problem(await client.get("/api/v1/applications"), 401)
    assert_problem(await client.get("/api/v1/applications", headers={"Authorization": "Bearer nonsense"}), 401)
    draft = await world.draft()
    url = f"/api/v1/applications/{draft['id']}/submit"
    assert_problem(await client.post(url, headers={**world.owner(draft), "If-Match": "garbage"}), 412)
    assert_problem(
        await client.post(url, json={"reason": "x", "extra": 1}, headers=if_match(world.owner(draft), 1)), 422
    )
    assert_problem(await client.post(url, json={"reason": ""}, headers=if_match(world.owner(draft), 1)), 422)


async def test_transition_bodies_are_validated(client: httpx.AsyncClient, world: World, actors: Actors) -> None:
    approved = await world.approved()
    url = f"/api/v1/applications/{approved['id']}/start"
    owner = world.owner(approved)
    future = await client.post(url, json={"started_on": "2999-01-01"}, headers=if_match(owner, approved["version"]))
    assert assert_problem(future, 422)["errors"][0]["field"] == "started_on"
    assert_problem(
        await client.post(url, json={"started_on": "soon"}, headers=if_match(owner, approved["version"])), 422
    )
    decision = f"/api/v1/applications/{approved['id']}/decision"
    assert_problem(
        await client.post(
            decision, json={"outcome": "maybe", "reason": "x"}, headers=if_match(actors.officer(9), approved["version"])
        ),
        422,
    )
