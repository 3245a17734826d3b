"""Measurements: corrections append revisions (the old one stays visible, the result changes), only the
assigned independent verifier writes, and bad input is a 4xx problem with the reason — never a 500."""

from __future__ import annotations

from typing import Any

import httpx
import pytest
from verification_helpers import (
    PRODUCTION,
    Actors,
    assert_problem,
    assign,
    conclude,
    declare,
    measurement_body,
    new_verifier,
    open_case,
    ready_verifier,
    record_months,
    steel_line,
    steel_plant,
)


def month(m: int, factor: float = 0.9, **extra: Any) -> dict[str, Any]:
    p = PRODUCTION[m - 1]
    return measurement_body(
        2025,
        m,
        p,
        {
            "electricity": (factor * steel_line(p)["electricity"], "MWh"),
            "coal_grade_3_4": (factor * steel_line(p)["coal_grade_3_4"], "t"),
        },
        **extra,
    )


@pytest.fixture
async def measuring(client: httpx.AsyncClient, registry: httpx.AsyncClient, actors: Actors) -> dict[str, Any]:
    """A case with an independent verifier, ready for measurements."""
    plant = await steel_plant(registry, actors)
    case = await open_case(client, actors, plant, claimed=8.0)
    verifier = await ready_verifier(client, actors, case["id"])
    return {"case": case, "verifier": verifier, "url": f"/api/v1/verifications/{case['id']}/measurements"}


async def test_a_correction_appends_a_revision_and_changes_the_result(
    client: httpx.AsyncClient,
    actors: Actors,
    measuring: dict[str, Any],
) -> None:
    case, verifier, url = measuring["case"], measuring["verifier"], measuring["url"]
    measured = await record_months(client, actors, case["id"], verifier, [month(m) for m in range(1, 13)])
    before = (await client.get(f"/api/v1/verifications/{case['id']}/preview", headers=actors.officer)).json()
    assert before["verified_savings_pct"] == pytest.approx(10.0, rel=1e-9)

    # March was mis-read: the meter shows 10 % more electricity than typed.
    march = measured[2]
    corrected = month(3, reason="Đọc sai chỉ số công tơ tháng 3; sửa theo hóa đơn EVN số 0012345.")
    corrected["consumption"][0]["quantity"] *= 1.1
    corrected["evidence"] = {"url": "https://evn.example.vn/hoa-don/0012345", "description": "Hóa đơn EVN tháng 3"}
    response = await client.post(
        f"{url}/{march['id']}/revisions", json=corrected, headers={**actors.verifier(verifier), "If-Match": '"1"'}
    )
    assert response.status_code == 201, response.text
    assert response.headers["etag"] == '"2"'
    body = response.json()
    assert body["revision"] == 2 and [r["revision"] for r in body["revisions"]] == [1, 2]
    assert body["revisions"][0]["consumption"][0]["quantity"] == march["current"]["consumption"][0]["quantity"]
    assert body["current"]["reason"].startswith("Đọc sai chỉ số")
    assert body["current"]["evidence"]["url"].startswith("https://evn.example.vn")

    # the old revision stays readable, in the list and on its own
    listing = (await client.get(url, headers=actors.auditor)).json()["items"]
    assert len(listing) == 12
    assert [r["revision"] for r in next(i for i in listing if i["id"] == march["id"])["revisions"]] == [1, 2]
    single = await client.get(f"{url}/{march['id']}", headers=actors.officer)
    assert single.headers["etag"] == '"2"' and len(single.json()["revisions"]) == 2

    # a stale or missing If-Match cannot overwrite the correction
    assert_problem(
        await client.put(
            f"{url}/{march['id']}", json=corrected, headers={**actors.verifier(verifier), "If-Match": '"1"'}
        ),
        412,
    )
    assert_problem(await client.put(f"{url}/{march['id']}", json=corrected, headers=actors.verifier(verifier)), 428)
    # PUT with the current ETag is the same as POST .../revisions
    put = await client.put(
        f"{url}/{march['id']}", json=corrected, headers={**actors.verifier(verifier), "If-Match": '"2"'}
    )
    assert put.status_code == 200 and put.json()["revision"] == 3

    after = await conclude(client, actors, case["id"], verifier)
    assert after.status_code == 200, after.text
    result = after.json()
    extra_toe = 0.1 * 0.9 * steel_line(PRODUCTION[2])["electricity"] * 0.1543
    assert result["savings"]["toe"] == pytest.approx(before["savings"]["toe"] - extra_toe, rel=1e-9)
    assert result["verified_savings_pct"] < before["verified_savings_pct"]
    used = {u["measurement_id"]: u["revision"] for u in result["measurements_used"]}
    assert used[march["id"]] == 3 and sum(1 for r in used.values() if r == 1) == 11
    history = (await client.get(f"/api/v1/verifications/{case['id']}/history", headers=actors.officer)).json()["items"]
    revisions = [h for h in history if h["action"] == "revise_measurement"]
    assert [h["details"]["revision"] for h in revisions] == [2, 3]
    assert revisions[0]["reason"].startswith("Đọc sai chỉ số")


async def test_only_the_assigned_independent_verifier_writes(
    client: httpx.AsyncClient,
    registry: httpx.AsyncClient,
    actors: Actors,
) -> None:
    plant = await steel_plant(registry, actors)
    case = await open_case(client, actors, plant)
    url = f"/api/v1/verifications/{case['id']}/measurements"
    first, stranger = new_verifier("nguyen.van.a"), new_verifier("le.thi.b")

    assert (await assign(client, actors, case["id"], first)).status_code == 200
    # assigned but not yet declared
    problem = assert_problem(await client.post(url, json=month(1), headers=actors.verifier(first)), 403)
    assert "Declare your independence" in problem["detail"]
    # another verifier cannot declare for the assigned one, nor measure
    assert_problem(await declare(client, actors, case["id"], stranger), 403)
    problem = assert_problem(await client.post(url, json=month(1), headers=actors.verifier(stranger)), 403)
    assert "not the verifier assigned" in problem["detail"]
    # officers and enterprises do not measure
    assert_problem(await client.post(url, json=month(1), headers=actors.officer), 403)
    assert_problem(await client.post(url, json=month(1), headers=actors.enterprise(plant.enterprise["tax_code"])), 403)

    # the verifier declares a conflict: blocked, and the case waits for another verifier
    conflict = await declare(client, actors, case["id"], first, independent=False)
    assert conflict.status_code == 200, conflict.text
    state = conflict.json()
    assert state["case_status"] == "conflict" and state["current"]["status"] == "conflict"
    assert state["current"]["declared_against"]["supplier"]["name"] == "Công ty TNHH Công nghệ Nhiệt Việt"
    problem = assert_problem(await client.post(url, json=month(1), headers=actors.verifier(first)), 403)
    assert "conflict of interest" in problem["detail"]
    assert_problem(await declare(client, actors, case["id"], first), 409)  # no second declaration
    assert_problem(await conclude(client, actors, case["id"], first), 403)
    # ... and cannot be put back on the case
    again = assert_problem(await assign(client, actors, case["id"], first), 409)
    assert again["errors"][0]["field"] == "verifier_subject"

    second = new_verifier("tran.van.c")
    replaced = await assign(client, actors, case["id"], second, method="POST")
    assert replaced.status_code == 200 and replaced.json()["case_status"] == "assigned"
    assert [a["status"] for a in replaced.json()["history"]] == ["conflict", "awaiting_declaration"]
    assert (await declare(client, actors, case["id"], second)).status_code == 200
    created = await client.post(url, json=month(1), headers=actors.verifier(second))
    assert created.status_code == 201, created.text
    # the first verifier no longer sees the case at all
    assert_problem(await client.get(f"/api/v1/verifications/{case['id']}", headers=actors.verifier(first)), 403)
    mine = (await client.get("/api/v1/verifications", headers=actors.verifier(second))).json()["items"]
    assert [c["id"] for c in mine] == [case["id"]]
    assert (await client.get("/api/v1/verifications", headers=actors.verifier(first))).json()["items"] == []

    history = (await client.get(f"/api/v1/verifications/{case['id']}/history", headers=actors.officer)).json()["items"]
    assert [h["action"] for h in history][-5:] == [
        "assign_verifier",
        "declare_conflict",
        "assign_verifier",
        "declare_independence",
        "record_measurement",
    ]


async def test_assignment_follows_the_concurrency_rules(
    client: httpx.AsyncClient, registry: httpx.AsyncClient, actors: Actors
) -> None:
    plant = await steel_plant(registry, actors)
    case = await open_case(client, actors, plant)
    url = f"/api/v1/verifications/{case['id']}/assignment"
    body = {"verifier_subject": "v-1", "verifier_username": "kiem.toan.vien"}
    assert_problem(await client.put(url, json=body, headers=actors.officer), 428)
    assert_problem(await client.put(url, json=body, headers={**actors.officer, "If-Match": '"99"'}), 412)
    assert_problem(
        await client.put(url, json=body, headers={**actors.verifier(new_verifier()), "If-Match": '"1"'}), 403
    )
    assert_problem(await client.put(url, json={**body, "extra": 1}, headers={**actors.officer, "If-Match": '"1"'}), 422)
    tag = (await client.get(f"/api/v1/verifications/{case['id']}", headers=actors.officer)).headers["etag"]
    first = await client.put(url, json=body, headers={**actors.officer, "If-Match": tag})
    assert first.status_code == 200
    # a second officer with the same (now stale) ETag loses
    assert_problem(
        await client.put(url, json={**body, "verifier_subject": "v-2"}, headers={**actors.officer, "If-Match": tag}),
        412,
    )
    read = await client.get(url, headers=actors.auditor)
    assert read.status_code == 200 and read.json()["current"]["verifier_subject"] == "v-1"


async def test_idempotency_key_replays_the_first_measurement(
    client: httpx.AsyncClient,
    actors: Actors,
    measuring: dict[str, Any],
) -> None:
    url, verifier = measuring["url"], measuring["verifier"]
    headers = {**actors.verifier(verifier), "Idempotency-Key": "thang-01-2025"}
    first = await client.post(url, json=month(1), headers=headers)
    again = await client.post(url, json=month(1), headers=headers)
    assert first.status_code == again.status_code == 201
    assert again.json()["id"] == first.json()["id"] and again.headers["idempotent-replayed"] == "true"
    assert_problem(await client.post(url, json=month(2), headers=headers), 422)  # same key, other body
    assert len((await client.get(url, headers=actors.officer)).json()["items"]) == 1


def _without(body: dict[str, Any], key: str) -> dict[str, Any]:
    return {k: v for k, v in body.items() if k != key}


BAD_MEASUREMENTS: list[tuple[str, Any, str, str]] = [
    (
        "negative production",
        lambda b: {**b, "production": {"quantity": -5, "unit": "t"}},
        "production.quantity",
        "greater than or equal to 0",
    ),
    (
        "negative consumption",
        lambda b: {**b, "consumption": [{"carrier": "electricity", "quantity": -1, "unit": "MWh"}]},
        "consumption.0.quantity",
        "greater than or equal to 0",
    ),
    (
        "absurd electricity",
        lambda b: {**b, "consumption": [{"carrier": "electricity", "quantity": 9e9, "unit": "MWh"}]},
        "consumption[0].quantity",
        "implausibly large",
    ),
    (
        "absurd production",
        lambda b: {**b, "production": {"quantity": 5e9, "unit": "t"}},
        "production.quantity",
        "implausibly large",
    ),
    ("absurd degree-days", lambda b: {**b, "cdd": 5000}, "cdd", "implausibly large"),
    (
        "unknown unit",
        lambda b: {**b, "production": {"quantity": 5, "unit": "bbl"}},
        "production",
        "not a production unit",
    ),
    (
        "unit not for the carrier",
        lambda b: {**b, "consumption": [{"carrier": "electricity", "quantity": 5, "unit": "t"}]},
        "consumption.0",
        "does not fit carrier",
    ),
    (
        "unknown carrier",
        lambda b: {**b, "consumption": [{"carrier": "uranium", "quantity": 5, "unit": "t"}]},
        "consumption.0",
        "unknown carrier",
    ),
    (
        "production of another kind than the baseline",
        lambda b: {**b, "production": {"quantity": 5, "unit": "hl"}},
        "production.unit",
        "use one kind of production unit",
    ),
    (
        "period before the baseline ends",
        lambda b: {**b, "period_start": "2023-06-01", "period_end": "2023-06-30"},
        "period_start",
        "must start after the baseline ends",
    ),
    (
        "end before start",
        lambda b: {**b, "period_start": "2025-03-31", "period_end": "2025-03-01"},
        "body",
        "period_end is before period_start",
    ),
    (
        "period longer than a year",
        lambda b: {**b, "period_start": "2025-01-01", "period_end": "2026-06-30"},
        "body",
        "at most 366 days",
    ),
    ("no evidence", lambda b: _without(b, "evidence"), "evidence", "Field required"),
    (
        "evidence pointing nowhere",
        lambda b: {**b, "evidence": {"description": "sổ sách"}},
        "evidence",
        "document_id or a url",
    ),
    (
        "a carrier twice",
        lambda b: {**b, "consumption": [b["consumption"][0], b["consumption"][0]]},
        "body",
        "each carrier may appear once",
    ),
    ("unknown field", lambda b: {**b, "temperature": 30}, "temperature", "Unknown field"),
    (
        "not a number",
        lambda b: {**b, "production": {"quantity": "nhiều", "unit": "t"}},
        "production.quantity",
        "valid number",
    ),
    ("infinite", lambda b: {**b, "production": {"quantity": "Infinity", "unit": "t"}}, "production.quantity", "finite"),
]


@pytest.mark.parametrize(
    ("label", "change", "field", "message"), BAD_MEASUREMENTS, ids=[b[0] for b in BAD_MEASUREMENTS]
)
async def test_bad_measurements_are_422_with_the_reason(
    client: httpx.AsyncClient,
    actors: Actors,
    measuring: dict[str, Any],
    label: str,
    change: Any,
    field: str,
    message: str,
) -> None:
    response = await client.post(
        measuring["url"], json=change(month(1)), headers=actors.verifier(measuring["verifier"])
    )
    problem = assert_problem(response, 422)
    assert any(e["field"].startswith(field) and message in e["message"] for e in problem["errors"]), problem


async def test_overlapping_periods_are_refused(
    client: httpx.AsyncClient, actors: Actors, measuring: dict[str, Any]
) -> None:
    url, verifier = measuring["url"], measuring["verifier"]
    (january,) = await record_months(client, actors, measuring["case"]["id"], verifier, [month(1)])
    overlapping = {**month(2), "period_start": "2025-01-20", "period_end": "2025-02-19"}
    problem = assert_problem(await client.post(url, json=overlapping, headers=actors.verifier(verifier)), 422)
    assert problem["errors"][0] == {
        "field": "period_start",
        "message": f"overlaps measurement {january['id']}",
        "code": "overlap",
    }
    assert "2025-01-01 – 2025-01-31" in problem["detail"]
    # sharing the boundary day is allowed (half-open periods), as in the computation
    boundary = {**month(2), "period_start": "2025-01-31", "period_end": "2025-02-28"}
    assert (await client.post(url, json=boundary, headers=actors.verifier(verifier))).status_code == 201
    # a revision that would move a period onto another is refused too
    moved = {**month(1), "period_start": "2025-02-10", "period_end": "2025-03-09", "reason": "dời kỳ"}
    problem = assert_problem(
        await client.post(
            f"{url}/{january['id']}/revisions", json=moved, headers={**actors.verifier(verifier), "If-Match": '"1"'}
        ),
        422,
    )
    assert problem["errors"][0]["code"] == "overlap"
    # a revision needs its reason
    assert_problem(
        await client.post(
            f"{url}/{january['id']}/revisions", json=month(1), headers={**actors.verifier(verifier), "If-Match": '"1"'}
        ),
        422,
    )


async def test_malformed_bodies_and_ids_are_4xx_problems(
    client: httpx.AsyncClient, actors: Actors, measuring: dict[str, Any]
) -> None:
    url, headers = measuring["url"], actors.verifier(measuring["verifier"])
    raw = await client.post(url, content=b"{not json", headers={**headers, "Content-Type": "application/json"})
    assert_problem(raw, 400)
    assert_problem(await client.post(url, json=[1, 2], headers=headers), 422)
    assert_problem(await client.get(f"{url}/not-a-uuid", headers=headers), 422)
    assert_problem(await client.get(f"{url}/00000000-0000-7000-8000-000000000000", headers=headers), 404)
    assert_problem(await client.get(url, params={"cursor": "garbage"}, headers=headers), 422)
    assert_problem(await client.get(url, params={"limit": 0}, headers=headers), 422)
    assert_problem(
        await client.post(
            "/api/v1/verifications/00000000-0000-7000-8000-000000000000/measurements", json=month(1), headers=headers
        ),
        404,
    )
    assert_problem(
        await client.post(
            f"/api/v1/verifications/{measuring['case']['id']}/conclude",
            json={"x": 1},
            headers={**headers, "If-Match": '"1"'},
        ),
        422,
    )


async def test_conclusion_without_measurements_explains_itself(
    client: httpx.AsyncClient, actors: Actors, measuring: dict[str, Any]
) -> None:
    problem = assert_problem(await conclude(client, actors, measuring["case"]["id"], measuring["verifier"]), 422)
    assert problem["errors"][0]["field"] == "measurements" and "record the reporting periods" in problem["detail"]
