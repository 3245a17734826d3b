"""The M&V plan on real PostgreSQL (issue 15): a building-style case (constant output, weather-driven load)
verified with a weather-only model; the fallback that drops weather names it and needs the verifier's reason;
the plan is checked in its unit; dates that make sense (reporting after completion or an approved start, periods
that have ended, a baseline before implementation)."""

from __future__ import annotations

from typing import Any

import httpx
import pytest
from verification_helpers import (
    MWH_TOE,
    Actors,
    Person,
    assert_problem,
    conclude,
    create_plant,
    etag,
    measurement_body,
    open_case,
    period_body,
    ready_verifier,
    record_months,
)

from cleanprod_verification.cases.dates import today as hanoi_today

# Monthly cooling degree-days (base 18 °C) of a Hà Nội year, and a cold-store's load on them
CDD = [20.0, 35.0, 90.0, 180.0, 290.0, 340.0, 360.0, 350.0, 290.0, 200.0, 100.0, 40.0]
NOISE = [4.0, -4.0, -4.0, 4.0] * 3


def load(cdd: float) -> float:
    return 300.0 + 1.5 * cdd  # MWh a month; output is the same 500 t every month


async def cold_store(registry: httpx.AsyncClient, actors: Actors) -> Any:
    baseline = [
        period_body(2023, m + 1, 500.0, {"electricity": (load(c) + NOISE[m], "MWh")}, cdd=c) for m, c in enumerate(CDD)
    ]
    return await create_plant(
        registry,
        actors,
        sector="food",
        products=["frozen seafood"],
        capacity=6000,
        capacity_unit="t/yr",
        ward="Phường Lĩnh Nam",
        district="Quận Hoàng Mai",
        baseline=baseline,
        name="Kho lạnh thủy sản Lĩnh Nam",
        enterprise_name="Công ty TNHH Thủy sản Lĩnh Nam",
    )


def reporting(factor: float, *, missing_cdd_in: int | None = None) -> list[dict[str, Any]]:
    out = []
    for m, c in enumerate(CDD):
        body = measurement_body(2025, m + 1, 500.0, {"electricity": (factor * load(c), "MWh")})
        if m != missing_cdd_in:
            body["cdd"] = c
        out.append(body)
    return out


async def put_plan(
    client: httpx.AsyncClient, actors: Actors, case_id: str, verifier: Person, **plan: Any
) -> httpx.Response:
    tag = await etag(client, actors.officer, case_id)
    return await client.put(
        f"/api/v1/verifications/{case_id}/mv-plan", headers={**actors.verifier(verifier), "If-Match": tag}, json=plan
    )


WEATHER_PLAN = {"model": "weather", "degree_day_unit": "C", "cdd_base": 18, "station": "Láng (48820)"}


@pytest.fixture
async def building(client: httpx.AsyncClient, registry: httpx.AsyncClient, actors: Actors) -> dict[str, Any]:
    plant = await cold_store(registry, actors)
    case = await open_case(client, actors, plant, claimed=8.0, per_carrier={"electricity": 8.0})
    verifier = await ready_verifier(client, actors, case["id"])
    return {"case": case, "verifier": verifier}


async def test_building_case_verified_with_a_weather_only_model(
    client: httpx.AsyncClient, actors: Actors, building: dict[str, Any]
) -> None:
    case_id, verifier = building["case"]["id"], building["verifier"]
    response = await put_plan(client, actors, case_id, verifier, **WEATHER_PLAN)
    assert response.status_code == 200, response.text
    assert response.json()["model"] == "weather" and response.json()["set_by"]
    detail = await client.get(f"/api/v1/verifications/{case_id}", headers=actors.officer)
    assert detail.json()["mv_plan"]["cdd_base"] == 18

    await record_months(client, actors, case_id, verifier, reporting(0.9))
    answer = await conclude(client, actors, case_id, verifier)
    assert answer.status_code == 200, answer.text
    result = (await client.get(f"/api/v1/verifications/{case_id}/result", headers=actors.officer)).json()
    assert result["method"] == "regression"
    assert result["model"]["variables"] == ["intercept", "cdd"]  # no production term: output is constant
    intercept, per_cdd = result["model"]["coefficients"]
    assert intercept == pytest.approx(300 * MWH_TOE, rel=0.02) and per_cdd == pytest.approx(1.5 * MWH_TOE, rel=0.02)
    assert result["verified_savings_pct"] == pytest.approx(10.0, abs=0.5)
    assert result["verdict"] == "verified"
    assert result["computation"]["normalisation_dropped"] == []
    assert result["computation"]["model"]["form"] == "weather"
    assert result["computation"]["model"]["interval"] == "monthly"
    assert result["model"]["uncertainty"]["correction_factor"] == 1.26
    history = (await client.get(f"/api/v1/verifications/{case_id}/history", headers=actors.officer)).json()
    assert any(e["action"] == "set_mv_plan" for e in history["items"])


async def test_fallback_names_what_it_dropped_and_needs_the_verifiers_reason(
    client: httpx.AsyncClient, actors: Actors, building: dict[str, Any]
) -> None:
    case_id, verifier = building["case"]["id"], building["verifier"]
    assert (await put_plan(client, actors, case_id, verifier, **WEATHER_PLAN)).status_code == 200
    await record_months(client, actors, case_id, verifier, reporting(0.9, missing_cdd_in=6))

    preview = (await client.get(f"/api/v1/verifications/{case_id}/preview", headers=actors.officer)).json()
    assert preview["method"] == "sec" and preview["requires_review"]
    assert preview["computation"]["normalisation_dropped"] == ["cdd"]
    assert any("normalisation dropped for the total: cooling degree-days (CDD)" in w for w in preview["warnings"])

    refused = await conclude(client, actors, case_id, verifier)
    problem = assert_problem(refused, 422, code="fallback_reason_required")
    assert problem["normalisation_dropped"] == ["cdd"]
    assert [e["field"] for e in problem["errors"]] == ["review_note"]
    vi = await client.post(
        f"/api/v1/verifications/{case_id}/conclude",
        headers={
            **actors.verifier(verifier),
            "If-Match": await etag(client, actors.officer, case_id),
            "Accept-Language": "vi",
        },
        json={},
    )
    assert "giải trình" in assert_problem(vi, 422, code="fallback_reason_required")["detail"]

    note = "Trạm Láng thiếu số liệu tháng 7/2025; sản lượng không đổi nên SEC phản ánh đúng mức tiêu thụ."
    done = await conclude(client, actors, case_id, verifier, review_note=note)
    assert done.status_code == 200, done.text
    result = (await client.get(f"/api/v1/verifications/{case_id}/result", headers=actors.officer)).json()
    assert result["review_note"] == note and result["computation"]["normalisation_dropped"] == ["cdd"]


async def test_plan_is_checked_in_its_unit(client: httpx.AsyncClient, actors: Actors, building: dict[str, Any]) -> None:
    case_id, verifier = building["case"]["id"], building["verifier"]
    in_c = await put_plan(client, actors, case_id, verifier, model="weather", degree_day_unit="C", cdd_base=65)
    problem = assert_problem(in_c, 422, code="mv_plan_invalid")
    assert [e["field"] for e in problem["errors"]] == ["cdd_base"]
    no_base = await put_plan(client, actors, case_id, verifier, model="production_weather")
    assert assert_problem(no_base, 422, code="mv_plan_invalid")["errors"][0]["field"] == "cdd_base"
    in_f = await put_plan(client, actors, case_id, verifier, model="weather", degree_day_unit="F", cdd_base=65)
    assert in_f.status_code == 200, in_f.text
    # °F·day: 1 000 in a 31-day month is 32 a day, plausible in °F (limit 72), not in °C (limit 40)
    body = measurement_body(2025, 1, 500.0, {"electricity": (400.0, "MWh")}, cdd=1500.0)
    assert (await record_months(client, actors, case_id, verifier, [body]))[0]["current"]["cdd"] == 1500.0
    officer_try = await client.put(
        f"/api/v1/verifications/{case_id}/mv-plan",
        headers={**actors.officer, "If-Match": await etag(client, actors.officer, case_id)},
        json=WEATHER_PLAN,
    )
    assert officer_try.status_code == 403


async def test_reporting_periods_start_after_completion_and_have_ended(
    client: httpx.AsyncClient, actors: Actors, building: dict[str, Any]
) -> None:
    case_id, verifier = building["case"]["id"], building["verifier"]
    url = f"/api/v1/verifications/{case_id}/measurements"
    # completed on 20/12/2024: a December 2024 period starts before completion
    december = measurement_body(2024, 12, 500.0, {"electricity": (400.0, "MWh")})
    early = await client.post(url, headers=actors.verifier(verifier), json=december)
    problem = assert_problem(early, 422, code="dates_not_consistent")
    assert [(e["field"], e["code"]) for e in problem["errors"]] == [("period_start", "reporting_before_completion")]
    vi = await client.post(url, headers={**actors.verifier(verifier), "Accept-Language": "vi"}, json=december)
    assert "21/12/2024" in assert_problem(vi, 422)["errors"][0]["message"]

    # a month that has not ended (Hà Nội's today inside it)
    today = hanoi_today()
    running = measurement_body(today.year, today.month, 500.0, {"electricity": (400.0, "MWh")})
    unfinished = await client.post(url, headers=actors.verifier(verifier), json=running)
    problem = assert_problem(unfinished, 422, code="dates_not_consistent")
    assert ("period_end", "period_not_ended") in [(e["field"], e["code"]) for e in problem["errors"]]

    # an officer approves reporting from 1/12/2024 (commissioned before the formal completion): accepted
    approve = await client.put(
        f"/api/v1/verifications/{case_id}/reporting-start",
        headers={**actors.officer, "If-Match": await etag(client, actors.officer, case_id)},
        json={"reporting_start": "2024-12-01", "note": "Vận hành chính thức từ 01/12/2024 theo biên bản nghiệm thu"},
    )
    assert approve.status_code == 200, approve.text
    assert approve.json()["reporting_start"] == "2024-12-01"
    accepted = await client.post(url, headers=actors.verifier(verifier), json=december)
    assert accepted.status_code == 201, accepted.text
    verifier_try = await client.put(
        f"/api/v1/verifications/{case_id}/reporting-start",
        headers={**actors.verifier(verifier), "If-Match": await etag(client, actors.officer, case_id)},
        json={"reporting_start": "2024-11-01", "note": "x"},
    )
    assert verifier_try.status_code == 403


async def test_baseline_must_end_before_implementation_starts(
    client: httpx.AsyncClient, registry: httpx.AsyncClient, actors: Actors
) -> None:
    plant = await cold_store(registry, actors)
    # implementation started 1/10/2023, but the frozen baseline runs to December 2023 (October is index 9)
    case = await open_case(
        client, actors, plant, claimed=8.0, per_carrier={"electricity": 8.0}, implementation_start="2023-10-01"
    )
    verifier = await ready_verifier(client, actors, case["id"])
    await record_months(client, actors, case["id"], verifier, reporting(0.9))
    refused = await conclude(client, actors, case["id"], verifier)
    problem = assert_problem(refused, 422, code="dates_not_consistent")
    fields = [(e["field"], e["code"]) for e in problem["errors"]]
    assert fields == [(f"baseline[{i}].period_end", "baseline_after_implementation_start") for i in (9, 10, 11)]
