"""The whole path of two projects: assignment → independence → 12 monthly measurements → conclusion, with the
figures checked by hand, the stored result and report, and the `verification.concluded` events in the outbox."""

from __future__ import annotations

import re
import uuid
from typing import Any

import httpx
import numpy as np
import pytest
from fastapi import FastAPI
from sqlalchemy import text
from verification_helpers import (
    BEER_HL,
    COAL34_TOE,
    FUEL_OIL_TOE,
    MWH_TOE,
    NOISE,
    PRODUCTION,
    Actors,
    assert_problem,
    beer_line,
    beer_plant,
    beer_reporting,
    conclude,
    create_plant,
    measure_and_conclude,
    measurement_body,
    open_case,
    period_body,
    ready_verifier,
    record_months,
    steel_plant,
    steel_reporting,
    steel_toe,
)

GJ_PER_TOE = 41.868
EVENT_KEYS = {
    "application_id",
    "verification_id",
    "verdict",
    "achieved_ratio",
    "verified_savings_pct",
    "claimed_savings_pct",
}


async def outbox(app: FastAPI, case_id: str) -> list[Any]:
    async with app.state.db.session() as session:
        rows = await session.exec(
            text("SELECT event_type, payload FROM outbox_events WHERE aggregate_id = :a ORDER BY seq").bindparams(
                a=case_id
            )
        )
        return list(rows.all())


async def test_steel_project_is_verified_with_hand_computed_figures(
    client: httpx.AsyncClient,
    registry: httpx.AsyncClient,
    actors: Actors,
    app: FastAPI,
) -> None:
    plant = await steel_plant(registry, actors)
    case = await open_case(client, actors, plant, claimed=8.0)
    case_id = case["id"]
    verifier = await ready_verifier(client, actors, case_id)
    measured = await record_months(client, actors, case_id, verifier, steel_reporting(0.9))
    assert [m["revision"] for m in measured] == [1] * 12

    response = await conclude(client, actors, case_id, verifier)
    assert response.status_code == 200, response.text
    result = response.json()

    # By hand: OLS with an intercept reproduces the baseline total at the baseline's own production, and the
    # reporting months repeat those productions, so adjusted baseline = Σ baseline line (the ±5 MWh noise sums to
    # zero) = 12·(200·0.1543 + 20·0.6) + 12 000·(0.5·0.1543 + 0.05·0.6) = 1 800.12 TOE; actual is 90 % of it.
    line_total = sum(steel_toe(p) for p in PRODUCTION)
    assert line_total == pytest.approx(1800.12, rel=1e-12)
    assert result["status"] == "concluded" and result["verdict"] == "verified"
    assert result["method"] == "regression" and result["binding_estimate"] is None
    assert result["savings"]["toe"] == pytest.approx(180.012, rel=1e-9)
    assert result["savings"]["gj"] == pytest.approx(180.012 * GJ_PER_TOE, rel=1e-9)
    assert result["savings"]["adjusted_baseline_toe"] == pytest.approx(1800.12, rel=1e-9)
    assert result["savings"]["reporting_energy_toe"] == pytest.approx(0.9 * 1800.12, rel=1e-12)
    assert result["verified_savings_pct"] == pytest.approx(10.0, rel=1e-9)
    assert result["achieved_ratio"] == pytest.approx(1.25, rel=1e-9)
    # CO2: 840 MWh of electricity × 0.6592 t/MWh (2023, the latest published grid factor, used for 2025) plus
    # 84 t of coal = 50.4 TOE × 0.041868 TJ/TOE × 98.3 tCO2/TJ.
    assert result["savings"]["tco2"] == pytest.approx(840 * 0.6592 + 50.4 * 0.041868 * 98.3, rel=1e-9)
    carriers = {c["carrier"]: c for c in result["carriers"]}
    assert carriers["electricity"]["savings_toe"] == pytest.approx(840 * MWH_TOE, rel=1e-9)
    assert carriers["coal_grade_3_4"]["savings_toe"] == pytest.approx(84 * COAL34_TOE, rel=1e-9)
    model = result["model"]
    assert model["variables"] == ["intercept", "production"] and model["passed"] is True
    assert model["r_squared"] > 0.99 and model["cv_rmse"] < 0.01
    y = [steel_toe(p) + noise * MWH_TOE for p, noise in zip(PRODUCTION, NOISE)]
    slope, intercept = np.polyfit(PRODUCTION, y, 1)  # an independent least-squares fit
    assert model["coefficients"] == [pytest.approx(intercept, rel=1e-9), pytest.approx(slope, rel=1e-9)]
    assert model["uncertainty_check"]["passed"] is True
    # the sector norm in force at the end of the reporting period (2025-12-31): 1 600 MJ/t, 20/2016/TT-BCT
    assert result["norm"]["status"] == "found"
    assert result["norm"]["value"] == 1600 and result["norm"]["circular"] == "20/2016/TT-BCT"
    assert result["norm"]["on"] == "2025-12-31"
    assert result["norm"]["comparison"]["reporting_sec"] == pytest.approx(0.9 * 1800.12 / 12000 * 41868, rel=1e-9)
    # inputs: every reporting period names its measurement and revision
    used = result["measurements_used"]
    assert [(u["measurement_id"], u["revision"]) for u in used] == [(m["id"], 1) for m in measured]
    reporting = [p for p in result["inputs"]["periods"] if p["role"] == "reporting"]
    assert [p["source"]["measurement_id"] for p in reporting] == [m["id"] for m in measured]
    baseline = [p for p in result["inputs"]["periods"] if p["role"] == "baseline"]
    assert [p["source"]["registry_baseline_id"] for p in baseline] == [b["id"] for b in plant.baseline]

    stored = await client.get(
        f"/api/v1/verifications/{case_id}/result", headers=actors.enterprise(plant.enterprise["tax_code"])
    )
    assert stored.status_code == 200
    assert stored.json() == result

    detail = (await client.get(f"/api/v1/verifications/{case_id}", headers=actors.officer)).json()
    assert detail["status"] == "concluded"
    assert detail["conclusion"]["verdict"] == "verified"

    events = await outbox(app, case_id)
    concluded = [payload for kind, payload in events if kind == "verification.concluded"]
    assert concluded == [
        {
            "application_id": case["application_id"],
            "verification_id": case_id,
            "verdict": "verified",
            "achieved_ratio": pytest.approx(1.25, rel=1e-9),
            "verified_savings_pct": pytest.approx(10.0, rel=1e-9),
            "claimed_savings_pct": 8.0,
        }
    ]
    assert set(concluded[0]) == EVENT_KEYS
    assert [kind for kind, _ in events] == [
        "verification.opened",
        "verification.verifier_assigned",
        "verification.verifier_declared",
        "verification.concluded",
    ]
    # the assignment names the verifier's subject: the applications service grants read access by it
    assigned = next(payload for kind, payload in events if kind == "verification.verifier_assigned")
    assert assigned["verifier_subject"] == verifier.subject and assigned["application_id"] == case["application_id"]
    assert assigned["replaced_subject"] is None
    history = (await client.get(f"/api/v1/verifications/{case_id}/history", headers=actors.auditor)).json()["items"]
    actions = [h["action"] for h in history]
    assert actions[:4] == ["open", "completion_reported", "assign_verifier", "declare_independence"]
    assert actions.count("record_measurement") == 12 and actions[-1] == "conclude"
    assert history[-1]["from_state"] == "measuring" and history[-1]["to_state"] == "concluded"

    report = await client.get(f"/api/v1/verifications/{case_id}/report", headers=actors.officer)
    assert report.status_code == 200 and report.headers["content-type"].startswith("text/html")
    page = report.text
    for heading in (
        "BÁO CÁO THẨM TRA KẾT QUẢ TIẾT KIỆM NĂNG LƯỢNG",
        "Kết luận thẩm tra",
        "Thống kê mô hình",
        "So sánh với định mức",
        "Số liệu đầu vào",
        "CHUYÊN GIA THẨM TRA",
        "ĐẠT",
        "Công ty Cổ phần Thép Đông Anh",
        "180,012",
        "10,00 %",
        measured[0]["id"],
    ):
        assert heading in page, heading
    assert "<script" not in page
    # issue 14: one language per report (Vietnamese by default; English on request), A4 with page numbers and
    # the dossier code in the margins, dates dd/mm/yyyy, no developer hints, the evidence of each period
    assert "Model statistics" not in page
    assert "size:A4" in page and 'counter(page) "/" counter(pages)' in page and "Trang" in page
    visible = re.sub(r"<style>.*?</style>|<[^>]+>", " ", page, flags=re.S)
    assert not re.search(r"\b\d{4}-\d{2}-\d{2}\b", visible), "ISO dates left in the report"
    for hint in ("GET /api", "check ", "verified", "baseline"):
        assert hint not in visible, hint
    assert measured[0]["current"]["evidence"]["description"] in visible
    assert "Cán nóng thép dài" in visible and "hot rolling" not in visible  # the product's label, not its code
    english = await client.get(f"/api/v1/verifications/{case_id}/report", params={"lang": "en"}, headers=actors.officer)
    assert "Model statistics" in english.text and "Thống kê mô hình" not in english.text
    assert "Hot rolling, long products" in english.text
    assert '<html lang="en">' in english.text and "Page " in english.text

    # concluded means concluded: no second conclusion, no more measurements
    assert_problem(await conclude(client, actors, case_id, verifier), 409)
    late = await client.post(
        f"/api/v1/verifications/{case_id}/measurements",
        headers=actors.verifier(verifier),
        json=measurement_body(2026, 1, 1000.0, {"electricity": (600.0, "MWh")}),
    )
    assert_problem(late, 409)


async def test_beer_project_falls_short_and_reports_its_achieved_ratio(
    client: httpx.AsyncClient,
    registry: httpx.AsyncClient,
    actors: Actors,
    app: FastAPI,
) -> None:
    plant = await beer_plant(registry, actors)
    case = await open_case(
        client, actors, plant, claimed=10.0, per_carrier={"electricity": 10.0, "fuel_oil": 10.0, "water": 15.0}
    )
    response = await measure_and_conclude(client, actors, case["id"], beer_reporting(0.96))
    assert response.status_code == 200, response.text
    result = response.json()
    line_total = sum(
        beer_line(hl)["electricity"] * MWH_TOE + beer_line(hl)["fuel_oil"] * FUEL_OIL_TOE for hl in BEER_HL
    )
    assert result["verdict"] == "not_achieved" and result["method"] == "regression"
    assert result["verified_savings_pct"] == pytest.approx(4.0, rel=1e-9)
    assert result["achieved_ratio"] == pytest.approx(0.4, rel=1e-9)
    assert result["savings"]["toe"] == pytest.approx(0.04 * line_total, rel=1e-9)
    assert any("below the claimed 10.00 %" in r for r in result["verdict_reasons"])
    assert any("the claim on water is not an energy saving" in w for w in result["warnings"])
    # beer < 20 million L/yr in 2025: 286 MJ/hl (19/2016/TT-BCT), compared in MJ/hl
    assert result["norm"]["value"] == 286 and result["norm"]["unit"] == "MJ/hl"
    assert result["norm"]["comparison"]["reporting_sec"] == pytest.approx(
        0.96 * line_total / (sum(BEER_HL) / 10) * 41868 / 10, rel=1e-9
    )

    (payload,) = [p for kind, p in await outbox(app, case["id"]) if kind == "verification.concluded"]
    assert set(payload) == EVENT_KEYS
    assert payload["verdict"] == "not_achieved" and payload["verification_id"] == case["id"]
    assert payload["application_id"] == case["application_id"]
    assert payload["achieved_ratio"] == pytest.approx(0.4, rel=1e-9)
    assert payload["verified_savings_pct"] == pytest.approx(4.0, rel=1e-9)
    assert payload["claimed_savings_pct"] == 10.0

    report = (await client.get(f"/api/v1/verifications/{case['id']}/report", headers=actors.auditor)).text
    assert "KHÔNG ĐẠT" in report and "286,00 MJ/hl" in report


async def test_the_production_trap_needs_review_and_is_not_verified(
    client: httpx.AsyncClient,
    registry: httpx.AsyncClient,
    actors: Actors,
) -> None:
    # E = 200 + 2·P MWh before and after; output rises from 80–120 t to 150 t a month: no efficiency change.
    productions = [80.0, 85.0, 90.0, 95.0, 100.0, 105.0, 95.0, 100.0, 105.0, 110.0, 115.0, 120.0]
    plant = await create_plant(
        registry,
        actors,
        sector="steel",
        products=["hot rolling long products"],
        capacity=5_000,
        capacity_unit="t/yr",
        ward="Xã Kim Chung",
        district="Huyện Đông Anh",
        baseline=[
            period_body(2023, m + 1, p, {"electricity": (200 + 2 * p, "MWh")}) for m, p in enumerate(productions)
        ],
    )
    case = await open_case(client, actors, plant, claimed=8.0, per_carrier={"electricity": 8.0})
    verifier = await ready_verifier(client, actors, case["id"])
    await record_months(
        client,
        actors,
        case["id"],
        verifier,
        [measurement_body(2025, m, 150.0, {"electricity": (500.0, "MWh")}) for m in range(1, 13)],
    )

    preview = await client.get(f"/api/v1/verifications/{case['id']}/preview", headers=actors.verifier(verifier))
    assert preview.status_code == 200 and preview.json()["status"] == "preview"
    assert preview.json()["requires_review"] is True

    refused = assert_problem(await conclude(client, actors, case["id"], verifier), 422)
    assert refused["errors"][0]["field"] == "review_note"
    assert "sec_capped_by_regression" in refused["detail"] and "review_note" in refused["detail"]
    assert refused["method"] == "sec_capped_by_regression"

    response = await conclude(
        client,
        actors,
        case["id"],
        verifier,
        review_note="Sản lượng tăng 50 %, ngoài phạm vi đường cơ sở; chấp nhận giá trị thấp hơn.",
    )
    assert response.status_code == 200, response.text
    result = response.json()
    assert result["method"] == "sec_capped_by_regression" and result["binding_estimate"] == "regression"
    assert result["verdict"] == "not_achieved" and abs(result["verified_savings_pct"]) < 1e-6
    assert result["sec"]["savings_percent"] == pytest.approx(100 / 6, rel=1e-9)
    assert result["review_note"].startswith("Sản lượng tăng 50 %")


async def test_conclusion_waits_for_the_completion_report(
    client: httpx.AsyncClient,
    registry: httpx.AsyncClient,
    actors: Actors,
) -> None:
    plant = await steel_plant(registry, actors)
    case = await open_case(client, actors, plant, completed=False)
    verifier = await ready_verifier(client, actors, case["id"])
    await record_months(client, actors, case["id"], verifier, steel_reporting(0.9)[:3])
    problem = assert_problem(await conclude(client, actors, case["id"], verifier), 409)
    assert "application.completed" in problem["detail"]


async def test_a_missing_norm_is_recorded_not_an_error(
    client: httpx.AsyncClient,
    registry: httpx.AsyncClient,
    actors: Actors,
) -> None:
    plant = await create_plant(
        registry,
        actors,
        sector="mechanical",
        products=["khung thép"],
        capacity=1000,
        capacity_unit="t/yr",
        ward="Phường Mai Dịch",
        district="Quận Cầu Giấy",
        baseline=[period_body(2023, m, 100.0, {"electricity": (40.0, "MWh")}) for m in range(1, 13)],
    )
    case = await open_case(client, actors, plant, claimed=10.0, per_carrier={})
    response = await measure_and_conclude(
        client,
        actors,
        case["id"],
        [measurement_body(2025, m, 100.0, {"electricity": (36.0, "MWh")}) for m in range(1, 13)],
    )
    assert response.status_code == 200, response.text
    result = response.json()
    assert result["norm"]["status"] == "no_norm" and "khung thép" in result["norm"]["reason"]
    assert result["method"] == "sec" and result["verdict"] == "verified"
    assert result["verified_savings_pct"] == pytest.approx(10.0, rel=1e-12)
    assert (
        "không có định mức"
        in (await client.get(f"/api/v1/verifications/{case['id']}/report", headers=actors.officer)).text
    )


async def test_result_of_an_open_case_is_not_found_yet(
    client: httpx.AsyncClient,
    registry: httpx.AsyncClient,
    actors: Actors,
) -> None:
    plant = await steel_plant(registry, actors)
    case = await open_case(client, actors, plant)
    for path in ("result", "report"):
        problem = assert_problem(
            await client.get(f"/api/v1/verifications/{case['id']}/{path}", headers=actors.officer), 404
        )
        assert problem["type"].endswith("not-concluded")
    missing = assert_problem(await client.get(f"/api/v1/verifications/{uuid.uuid4()}", headers=actors.officer), 404)
    assert "does not exist" in missing["detail"]
    assert_problem(await client.get("/api/v1/verifications/not-a-uuid", headers=actors.officer), 422)


async def test_a_norm_in_another_kind_of_unit_is_recorded_as_not_comparable(
    client: httpx.AsyncClient,
    registry: httpx.AsyncClient,
    actors: Actors,
) -> None:
    # a brewery that reports its output in tonnes: the beer norm is per hectolitre (volume), so no comparison
    plant = await create_plant(
        registry,
        actors,
        sector="beer",
        products=["beer"],
        capacity=15,
        capacity_unit="million L/yr",
        ward="Phường Phúc Lợi",
        district="Quận Long Biên",
        baseline=[
            period_body(2023, m, 1000.0 + 10 * m, {"electricity": (400.0 + 0.1 * m, "MWh")}) for m in range(1, 13)
        ],
    )
    case = await open_case(client, actors, plant, claimed=5.0, per_carrier={})
    response = await measure_and_conclude(
        client,
        actors,
        case["id"],
        [measurement_body(2025, m, 1000.0 + 10 * m, {"electricity": (370.0, "MWh")}) for m in range(1, 13)],
    )
    assert response.status_code == 200, response.text
    norm = response.json()["norm"]
    assert norm["status"] == "not_comparable" and norm["value"] == 286
    assert "cannot compare energy per t" in norm["reason"]


async def test_inputs_only_the_whole_set_can_judge_are_checked_at_conclusion(
    client: httpx.AsyncClient,
    registry: httpx.AsyncClient,
    actors: Actors,
) -> None:
    # one month with no production is a fine measurement (a shutdown), but a reporting period of nothing but
    # idle months has no energy per unit of product: the conclusion says so, on the measurements
    plant = await steel_plant(registry, actors)
    case = await open_case(client, actors, plant)
    response = await measure_and_conclude(
        client, actors, case["id"], [measurement_body(2025, 1, 0.0, {"electricity": (180.0, "MWh")})]
    )
    problem = assert_problem(response, 422)
    assert problem["errors"] == [
        {
            "field": "measurements",
            "code": "invalid_value",
            "message": "total production is zero, so energy per unit of product is undefined",
        }
    ]
