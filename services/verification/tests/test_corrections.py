"""Corrections and non-routine adjustments on real PostgreSQL (issue 15): a measurement withdrawn by an appended
revision with its reason; an IPMVP non-routine adjustment recorded by the verifier and decided by another person
(four-eyes), with adjusted and unadjusted figures; a wrong baseline re-frozen by an officer and the verifier, the
old baseline and its figures kept."""

from __future__ import annotations

import html
import re
from typing import Any

import httpx
import pytest
from test_mv_plan import WEATHER_PLAN, cold_store, put_plan, reporting
from verification_helpers import (
    MWH_TOE,
    Actors,
    assert_problem,
    conclude,
    create_plant,
    etag,
    measurement_body,
    open_case,
    ready_verifier,
    record_months,
    steel_baseline,
    steel_reporting,
)


def text_of(page: str) -> str:
    """The report's visible text, tags dropped and whitespace collapsed (no-break spaces kept as spaces)."""
    return re.sub(r"\s+", " ", html.unescape(re.sub(r"<[^>]+>", " ", page.split("<body>", 1)[-1]))).strip()


async def test_a_measurement_is_withdrawn_by_an_appended_revision(
    client: httpx.AsyncClient, registry: httpx.AsyncClient, actors: Actors
) -> None:
    plant = await cold_store(registry, actors)
    case = await open_case(client, actors, plant, claimed=8.0, per_carrier={"electricity": 8.0})
    verifier = await ready_verifier(client, actors, case["id"])
    await record_months(client, actors, case["id"], verifier, reporting(0.9))
    # a thirteenth month recorded by mistake (another meter's reading)
    (wrong,) = await record_months(
        client, actors, case["id"], verifier, [measurement_body(2026, 1, 500.0, {"electricity": (9000.0, "MWh")})]
    )
    url = f"/api/v1/verifications/{case['id']}/measurements/{wrong['id']}"
    headers = {**actors.verifier(verifier), "If-Match": '"1"'}
    no_reason = await client.post(f"{url}/withdrawal", headers=headers, json={})
    assert_problem(no_reason, 422, field="reason")
    withdrawn = await client.post(
        f"{url}/withdrawal", headers=headers, json={"reason": "Nhập nhầm số công tơ của phân xưởng khác"}
    )
    assert withdrawn.status_code == 201, withdrawn.text
    body = withdrawn.json()
    assert body["withdrawn"] and body["revision"] == 2
    assert [r["withdrawn"] for r in body["revisions"]] == [False, True]
    assert body["revisions"][1]["consumption"] == body["revisions"][0]["consumption"]  # figures kept, append-only

    preview = (await client.get(f"/api/v1/verifications/{case['id']}/preview", headers=actors.officer)).json()
    assert len(preview["measurements_used"]) == 12
    assert wrong["id"] not in {m["measurement_id"] for m in preview["measurements_used"]}

    again = await client.post(f"{url}/withdrawal", headers={**headers, "If-Match": '"2"'}, json={"reason": "lần hai"})
    assert_problem(again, 409, code="measurement_withdrawn")
    revise = await client.post(
        f"{url}/revisions",
        headers={**headers, "If-Match": '"2"'},
        json={**measurement_body(2026, 1, 500.0, {"electricity": (400.0, "MWh")}), "reason": "sửa"},
    )
    assert_problem(revise, 409, code="measurement_withdrawn")
    # the period is free again: recorded anew, no overlap with the withdrawn one
    await record_months(
        client, actors, case["id"], verifier, [measurement_body(2026, 1, 500.0, {"electricity": (350.0, "MWh")})]
    )
    history = (await client.get(f"/api/v1/verifications/{case['id']}/history", headers=actors.officer)).json()
    (entry,) = [e for e in history["items"] if e["action"] == "withdraw_measurement"]
    assert entry["reason"] == "Nhập nhầm số công tơ của phân xưởng khác"

    # the report lists the withdrawn period with its reason (left out of the figures)
    note = "Kỳ 01/2026 ghi lại theo công tơ đúng; kỳ ghi nhầm đã rút."
    concluded = await conclude(client, actors, case["id"], verifier, review_note=note)
    assert concluded.status_code == 200, concluded.text
    report = await client.get(f"/api/v1/verifications/{case['id']}/report?lang=vi", headers=actors.officer)
    vi = text_of(report.text)
    assert "Kỳ báo cáo đã rút" in vi and "01/01/2026 – 31/01/2026 Nhập nhầm số công tơ của phân xưởng khác" in vi


async def test_non_routine_adjustment_four_eyes_with_adjusted_and_unadjusted_figures(
    client: httpx.AsyncClient, registry: httpx.AsyncClient, actors: Actors
) -> None:
    plant = await cold_store(registry, actors)
    case = await open_case(client, actors, plant, claimed=8.0, per_carrier={"electricity": 8.0})
    case_id = case["id"]
    verifier = await ready_verifier(client, actors, case_id)
    assert (await put_plan(client, actors, case_id, verifier, **WEATHER_PLAN)).status_code == 200
    await record_months(client, actors, case_id, verifier, reporting(0.97))  # 3 %: short of the target alone
    before = (await client.get(f"/api/v1/verifications/{case_id}/preview", headers=actors.officer)).json()

    # a new blast freezer from 2025 uses 40 MWh a month that the baseline never had: the baseline gains 480 MWh
    adjustment = {
        "carrier": "electricity",
        "quantity": 480,
        "unit": "MWh",
        "reason": "Lắp thêm tủ cấp đông gió từ 01/2025, công suất 55 kW, 24 h/ngày (đo riêng bằng công tơ phụ)",
        "evidence": {"document_id": "doc-tu-cap-dong", "description": "Biên bản lắp đặt và số liệu công tơ phụ"},
    }
    url = f"/api/v1/verifications/{case_id}/adjustments"
    created = await client.post(url, headers=actors.verifier(verifier), json=adjustment)
    assert created.status_code == 201, created.text
    recorded = created.json()
    assert recorded["status"] == "proposed" and recorded["amount_toe"] == pytest.approx(480 * MWH_TOE)
    bad = await client.post(url, headers=actors.verifier(verifier), json={**adjustment, "unit": "kg"})
    assert_problem(bad, 422, code="adjustment_unusable")
    assert assert_problem(bad, 422)["errors"][0]["field"] == "unit"
    unknown = await client.post(url, headers=actors.verifier(verifier), json={**adjustment, "carrier": "plasma"})
    assert assert_problem(unknown, 422, code="adjustment_unusable")["errors"][0]["field"] == "carrier"

    pending = await conclude(client, actors, case_id, verifier)
    assert_problem(pending, 409, code="adjustment_pending")

    decision = f"{url}/{recorded['id']}/decision"
    approve = {"approve": True, "note": "Đã đối chiếu biên bản lắp đặt và công tơ phụ"}
    # the recorder holding an officer role too may not decide their own adjustment
    same_person = actors.headers("officer", sub=verifier.subject, username=verifier.username)
    own = await client.post(decision, headers={**same_person, "If-Match": '"1"'}, json=approve)
    assert_problem(own, 403, code="adjustment_four_eyes")
    by_verifier = await client.post(decision, headers={**actors.verifier(verifier), "If-Match": '"1"'}, json=approve)
    assert by_verifier.status_code == 403
    decided = await client.post(decision, headers={**actors.officer, "If-Match": '"1"'}, json=approve)
    assert decided.status_code == 200, decided.text
    assert decided.json()["status"] == "approved" and decided.headers["etag"] == '"2"'
    twice = await client.post(decision, headers={**actors.officer, "If-Match": '"2"'}, json=approve)
    assert_problem(twice, 409, code="adjustment_decided")

    done = await conclude(client, actors, case_id, verifier)
    assert done.status_code == 200, done.text
    result = done.json()
    extra = 480 * MWH_TOE
    assert result["unadjusted"]["savings_toe"] == pytest.approx(before["savings"]["toe"], rel=1e-9)
    assert result["unadjusted"]["savings_percent"] == pytest.approx(before["verified_savings_pct"], rel=1e-9)
    assert result["savings"]["toe"] == pytest.approx(before["savings"]["toe"] + extra, rel=1e-9)
    assert result["savings"]["adjusted_baseline_toe"] == pytest.approx(
        before["savings"]["adjusted_baseline_toe"] + extra, rel=1e-9
    )
    assert result["verified_savings_pct"] > before["verified_savings_pct"]
    assert [a["reference"] for a in result["non_routine_adjustments"]] == [recorded["id"]]
    history = (await client.get(f"/api/v1/verifications/{case_id}/history", headers=actors.officer)).json()
    actions = [e["action"] for e in history["items"]]
    assert "record_adjustment" in actions and "approve_adjustment" in actions

    # the report names the M&V plan and shows the adjustment with the unadjusted figures beside the adjusted ones
    vi = text_of((await client.get(f"/api/v1/verifications/{case_id}/report?lang=vi", headers=actors.officer)).text)
    assert "Kế hoạch đo lường và thẩm tra (M&V)" in vi
    assert "Theo thời tiết: E = a + c·CDD + d·HDD" in vi and "18,0 °C / —" in vi and "Láng (48820)" in vi
    assert "Điều chỉnh bất thường (IPMVP) đã được duyệt" in vi and adjustment["reason"] in vi
    assert "Đã đối chiếu biên bản lắp đặt và công tơ phụ" in vi and "Biên bản lắp đặt và số liệu công tơ phụ" in vi
    unadjusted = f"{result['unadjusted']['savings_toe']:.3f}".replace(".", ",")
    adjusted = f"{result['savings']['toe']:.3f}".replace(".", ",")
    assert re.search(rf"Tiết kiệm \(TOE\) {re.escape(unadjusted)} {re.escape(adjusted)}", vi), vi[-3000:]
    en = text_of((await client.get(f"/api/v1/verifications/{case_id}/report?lang=en", headers=actors.officer)).text)
    assert "Non-routine adjustments approved (IPMVP)" in en and "Unadjusted" in en and "Weather: E = a" in en


async def test_wrong_baseline_is_refrozen_four_eyes_and_the_old_figures_stay(
    client: httpx.AsyncClient, registry: httpx.AsyncClient, actors: Actors
) -> None:
    months = steel_baseline()
    # approved while the registry held only 11 of the 12 baseline months
    plant = await create_plant(
        registry,
        actors,
        sector="steel",
        products=["hot rolling long products"],
        capacity=250_000,
        capacity_unit="t/yr",
        ward="Xã Đông Anh",
        district="Huyện Đông Anh",
        baseline=months[:11],
    )
    case = await open_case(client, actors, plant)
    case_id = case["id"]
    assert case["baseline"]["period_count"] == 11
    verifier = await ready_verifier(client, actors, case_id)
    await record_months(client, actors, case_id, verifier, steel_reporting(0.9))
    added = await registry.post(
        f"/api/v1/facilities/{plant.facility['id']}/baselines", headers=actors.officer, json=months[11]
    )
    assert added.status_code == 201, added.text

    url = f"/api/v1/verifications/{case_id}/baseline-refreezes"
    reason = {"reason": "Sổ đăng ký thiếu tháng 12/2023 khi phê duyệt; nay đã bổ sung"}
    by_verifier = await client.post(
        url, headers={**actors.verifier(verifier), "If-Match": await etag(client, actors.officer, case_id)}, json=reason
    )
    assert by_verifier.status_code == 403
    # an officer account of the verifier's own person proposes: the verifier may not confirm it alone
    same_person = actors.headers("officer", sub=verifier.subject, username=verifier.username)
    own = await client.post(
        url, headers={**same_person, "If-Match": await etag(client, actors.officer, case_id)}, json=reason
    )
    assert own.status_code == 201, own.text
    refused = await client.post(
        f"{url}/{own.json()['id']}/confirmation",
        headers={**actors.verifier(verifier), "If-Match": await etag(client, actors.officer, case_id)},
        json={"note": "đã kiểm tra"},
    )
    assert_problem(refused, 403, code="refreeze_four_eyes")

    proposed = await client.post(
        url, headers={**actors.officer, "If-Match": await etag(client, actors.officer, case_id)}, json=reason
    )
    assert proposed.status_code == 201, proposed.text
    assert len(proposed.json()["new_baseline"]) == 12 and len(proposed.json()["old_baseline"]) == 11
    still = await client.get(f"/api/v1/verifications/{case_id}", headers=actors.officer)
    assert still.json()["baseline"]["period_count"] == 11  # nothing changes before the verifier confirms

    confirmed = await client.post(
        f"{url}/{proposed.json()['id']}/confirmation",
        headers={**actors.verifier(verifier), "If-Match": await etag(client, actors.officer, case_id)},
        json={"note": "Đã đối chiếu hóa đơn EVN tháng 12/2023"},
    )
    assert confirmed.status_code == 200, confirmed.text
    record: dict[str, Any] = confirmed.json()
    assert record["status"] == "confirmed"
    assert record["old_result"]["computable"] and record["new_result"]["computable"]
    assert record["old_result"]["baseline_periods"] == 11 and record["new_result"]["baseline_periods"] == 12
    detail = (await client.get(f"/api/v1/verifications/{case_id}", headers=actors.officer)).json()
    assert detail["baseline"]["period_count"] == 12 and "re-frozen" in detail["baseline"]["note"]
    preview = (await client.get(f"/api/v1/verifications/{case_id}/preview", headers=actors.officer)).json()
    assert preview["verified_savings_pct"] == pytest.approx(record["new_result"]["verified_savings_pct"], rel=1e-12)
    listed = (await client.get(url, headers=actors.auditor)).json()
    assert [r["status"] for r in listed] == ["proposed", "confirmed"]
    history = (await client.get(f"/api/v1/verifications/{case_id}/history", headers=actors.officer)).json()
    (entry,) = [e for e in history["items"] if e["action"] == "refreeze_baseline"]
    assert entry["changes"] == [{"field": "baseline_periods", "old": 11, "new": 12}]

    done = await conclude(client, actors, case_id, verifier)
    assert done.status_code == 200, done.text
    # the report keeps the old result visible beside the new one
    vi = text_of((await client.get(f"/api/v1/verifications/{case_id}/report?lang=vi", headers=actors.officer)).text)
    assert "Chốt lại đường cơ sở: Sổ đăng ký thiếu tháng 12/2023 khi phê duyệt; nay đã bổ sung" in vi
    old_pct = f"{record['old_result']['verified_savings_pct']:.2f}".replace(".", ",")
    new_pct = f"{record['new_result']['verified_savings_pct']:.2f}".replace(".", ",")
    assert "Số kỳ cơ sở 11 12" in vi and f"Mức tiết kiệm được thẩm tra {old_pct} % {new_pct} %" in vi
    late = await client.post(
        url, headers={**actors.officer, "If-Match": await etag(client, actors.officer, case_id)}, json=reason
    )
    assert_problem(late, 409)
