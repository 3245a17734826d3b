"""Enterprise records: tax-code validation, uniqueness, optimistic concurrency, idempotent creation."""

from __future__ import annotations

import asyncio

import httpx
from registry_helpers import Actors, baseline_body, create_enterprise, enterprise_body, facility_body

from cleanprod_kit.testing.data import random_tax_code


async def test_invalid_tax_code_is_rejected_naming_the_field(client: httpx.AsyncClient, actors: Actors) -> None:
    response = await client.post("/api/v1/enterprises", json=enterprise_body("0100109107"), headers=actors.officer)
    assert response.status_code == 422
    assert response.headers["content-type"].startswith("application/problem+json")
    problem = response.json()
    assert [e["field"] for e in problem["errors"]] == ["tax_code"]
    assert "check digit" in problem["errors"][0]["message"]


async def test_known_good_tax_code_accepted_then_duplicate_conflicts(client: httpx.AsyncClient, actors: Actors) -> None:
    first = await client.post("/api/v1/enterprises", json=enterprise_body("0100109106"), headers=actors.officer)
    assert first.status_code in (201, 409)  # 409 only when this session already registered it
    again = await client.post("/api/v1/enterprises", json=enterprise_body("0100109106"), headers=actors.officer)
    assert again.status_code == 409
    assert again.json()["errors"][0]["field"] == "tax_code"


async def test_branch_tax_code_is_stored_in_hyphenated_form(client: httpx.AsyncClient, actors: Actors) -> None:
    parent = random_tax_code()
    created = await create_enterprise(client, actors, tax_code=f"{parent}001")
    assert created["tax_code"] == f"{parent}-001"


async def test_vietnamese_text_round_trips(client: httpx.AsyncClient, actors: Actors) -> None:
    name = "Công ty TNHH Một thành viên Điện cơ Thống Nhất — Ưu tiên sản xuất sạch hơn"
    created = await create_enterprise(client, actors, name=name, address="Ngõ 164 Hồng Mai, Quỳnh Lôi")
    fetched = await client.get(f"/api/v1/enterprises/{created['id']}", headers=actors.officer)
    assert fetched.json()["name"] == name
    assert fetched.json()["address"] == "Ngõ 164 Hồng Mai, Quỳnh Lôi"


async def test_update_requires_if_match_and_rejects_stale_version(client: httpx.AsyncClient, actors: Actors) -> None:
    created = await create_enterprise(client, actors)
    url = f"/api/v1/enterprises/{created['id']}"
    missing = await client.patch(url, json={"contact_name": "Lê Văn Hùng"}, headers=actors.officer)
    assert missing.status_code == 428
    ok = await client.patch(url, json={"contact_name": "Lê Văn Hùng"}, headers={**actors.officer, "If-Match": '"1"'})
    assert ok.status_code == 200 and ok.headers["etag"] == '"2"'
    assert ok.json()["contact_name"] == "Lê Văn Hùng"
    stale = await client.patch(url, json={"contact_name": "Phạm Thu Hà"}, headers={**actors.officer, "If-Match": '"1"'})
    assert stale.status_code == 412
    assert (await client.get(url, headers=actors.officer)).json()["contact_name"] == "Lê Văn Hùng"


async def test_concurrent_updates_with_same_if_match_have_exactly_one_winner(
    client: httpx.AsyncClient, actors: Actors
) -> None:
    created = await create_enterprise(client, actors)
    url = f"/api/v1/enterprises/{created['id']}"
    results = await asyncio.gather(
        *[
            client.patch(url, json={"contact_name": f"Người {i}"}, headers={**actors.officer, "If-Match": '"1"'})
            for i in range(8)
        ]
    )
    codes = sorted(r.status_code for r in results)
    assert codes.count(200) == 1 and codes.count(412) == 7


async def test_idempotency_key_replays_first_response_and_creates_one_row(
    client: httpx.AsyncClient, actors: Actors
) -> None:
    body = enterprise_body()
    headers = {**actors.officer, "Idempotency-Key": f"create-{body['tax_code']}"}
    responses = await asyncio.gather(
        *[client.post("/api/v1/enterprises", json=body, headers=headers) for _ in range(5)]
    )
    assert {r.status_code for r in responses} == {201}
    assert len({r.json()["id"] for r in responses}) == 1
    assert sum(1 for r in responses if r.headers.get("idempotent-replayed") == "true") == 4
    listed = await client.get("/api/v1/enterprises", params={"tax_code": body["tax_code"]}, headers=actors.officer)
    assert len(listed.json()["items"]) == 1


async def test_idempotency_key_reused_for_different_body_is_refused(client: httpx.AsyncClient, actors: Actors) -> None:
    headers = {**actors.officer, "Idempotency-Key": "reuse-me-" + random_tax_code()}
    first = await client.post("/api/v1/enterprises", json=enterprise_body(), headers=headers)
    assert first.status_code == 201
    second = await client.post("/api/v1/enterprises", json=enterprise_body(), headers=headers)
    assert second.status_code == 422
    assert second.json()["type"].endswith("idempotency-key-reused")


async def test_changes_are_audited_with_actor_and_request_id(
    client: httpx.AsyncClient, actors: Actors, registry_db_url: str
) -> None:
    import psycopg

    created = await create_enterprise(client, actors)
    await client.patch(
        f"/api/v1/enterprises/{created['id']}",
        json={"size_class": "large"},
        headers={**actors.officer, "If-Match": '"1"', "X-Request-ID": "audit-check-1"},
    )
    dsn = registry_db_url.replace("postgresql+asyncpg", "postgresql")
    with psycopg.connect(dsn) as conn:
        rows = conn.execute(
            "SELECT action, actor_role, request_id FROM audit_log WHERE entity_id = %s ORDER BY id", (created["id"],)
        ).fetchall()
        assert rows[0][:2] == ("create", "officer")
        assert rows[1] == ("update", "officer", "audit-check-1")
        try:
            conn.execute("DELETE FROM audit_log WHERE entity_id = %s", (created["id"],))
            raise AssertionError("audit log accepted a DELETE")
        except psycopg.errors.InsufficientPrivilege:
            conn.rollback()


async def test_history_is_readable_through_the_api(client: httpx.AsyncClient, actors: Actors) -> None:
    created = await create_enterprise(client, actors)
    url = f"/api/v1/enterprises/{created['id']}"
    await client.patch(
        url,
        json={"name": "Công ty Cổ phần Thép Đông Anh (đổi tên)"},
        headers={**actors.officer, "If-Match": '"1"', "X-Request-ID": "hist-1"},
    )
    facility = (await client.post(f"{url}/facilities", json=facility_body(), headers=actors.officer)).json()
    baseline = baseline_body("2025-01-01", "2025-01-31", production=10, electricity=(1000, "kWh"))
    await client.post(f"/api/v1/facilities/{facility['id']}/baselines", json=baseline, headers=actors.officer)

    history = (await client.get(f"{url}/history", headers=actors.auditor)).json()["items"]
    assert [(h["action"], h["actor_role"]) for h in history] == [("create", "officer"), ("update", "officer")]
    assert history[1]["request_id"] == "hist-1" and history[1]["details"]["fields"] == ["name"]
    facility_history = (
        await client.get(f"/api/v1/facilities/{facility['id']}/history", headers=actors.enterprise(created["tax_code"]))
    ).json()["items"]
    assert [(h["entity_type"], h["action"]) for h in facility_history] == [
        ("facility", "create"),
        ("baseline", "create"),
    ]
    stranger = actors.enterprise(random_tax_code())
    assert (await client.get(f"{url}/history", headers=stranger)).status_code == 404
