"""The verifier's corrections page with everything on it — an approved adjustment, a withdrawn period and a
confirmed re-freeze with its figures on both baselines — renders, and a withdrawal is sent with the revision shown as
If-Match. The gateway is a stand-in answering with the verification API's shapes (the real flow is
tests/browser/test_money_journey.py)."""

from __future__ import annotations

import re
from typing import Any

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse

CASE = "01a230ee-a3a8-7c30-873f-d75e9b354d3d"
MEASUREMENT = "01a230ee-b4b4-7c30-873f-d75e9b354d3d"
REFREEZE = "01a230ee-c5c5-7c30-873f-d75e9b354d3d"


def figures(pct: float, periods: int) -> dict[str, Any]:
    return {
        "computable": True,
        "baseline_periods": periods,
        "verdict": "verified" if pct >= 6 else "not_achieved",
        "method": "regression",
        "verified_savings_pct": pct,
        "savings_toe": pct * 10,
        "adjusted_baseline_toe": 1000.0,
        "measurements_used": [{"measurement_id": MEASUREMENT, "revision": 1}],
    }


def gateway(seen: list[tuple[str, str]]) -> FastAPI:
    app = FastAPI()
    base = f"/api/v1/verifications/{CASE}"

    @app.get(base)
    async def case() -> JSONResponse:
        body = {"id": CASE, "version": 7, "status": "measuring", "dossier_code": "000.00.01.H26-261130-0002"}
        return JSONResponse(body, headers={"ETag": '"7"'})

    @app.get(f"{base}/assignment")
    async def assignment() -> dict[str, Any]:
        return {"current": {"verifier_subject": "sub-1", "status": "independent"}}

    @app.get(f"{base}/adjustments")
    async def adjustments() -> list[dict[str, Any]]:
        return [
            {
                "id": "01a230ee-d6d6-7c30-873f-d75e9b354d3d",
                "case_id": CASE,
                "carrier": "electricity",
                "quantity": -12500.0,
                "unit": "kWh",
                "amount_toe": -1.929,
                "reason": "Lắp thêm máy nén khí 75 kW",
                "evidence": {"description": "Biên bản lắp đặt", "url": "https://thanglong.example/bb.pdf"},
                "status": "approved",
                "recorded_by": "Vũ Đức Hải",
                "recorded_at": "2026-11-30T02:00:00Z",
                "decided_by": "Nguyễn Văn An",
                "decided_at": "2026-11-30T03:00:00Z",
                "decision_note": "Đã đối chiếu",
                "version": 2,
            }
        ]

    @app.get(f"{base}/baseline-refreezes")
    async def refreezes() -> list[dict[str, Any]]:
        return [
            {
                "id": REFREEZE,
                "case_id": CASE,
                "status": "confirmed",
                "reason": "Sổ đăng ký đã sửa tháng 12/2025",
                "old_baseline": [{}] * 24,
                "new_baseline": [{}] * 24,
                "requested_by": "Nguyễn Văn An",
                "requested_at": "2026-11-30T04:00:00Z",
                "confirmed_by": "Vũ Đức Hải",
                "confirmed_at": "2026-11-30T05:00:00Z",
                "old_result": figures(5.4, 24),
                "new_result": figures(6.5, 24),
                "version": 2,
            }
        ]

    @app.get(f"{base}/measurements")
    async def measurements() -> dict[str, Any]:
        current = {"revision": 2, "reason": "Ghi nhầm công tơ", "consumption": [], "production": {}}
        return {
            "items": [
                {
                    "id": MEASUREMENT,
                    "revision": 2,
                    "withdrawn": True,
                    "period_start": "2026-11-01",
                    "period_end": "2026-11-30",
                    "current": current,
                    "revisions": [current],
                },
                {
                    "id": "01a230ee-e7e7-7c30-873f-d75e9b354d3d",
                    "revision": 1,
                    "withdrawn": False,
                    "period_start": "2026-10-01",
                    "period_end": "2026-10-31",
                    "current": {"revision": 1, "reason": None, "consumption": [], "production": {}},
                    "revisions": [],
                },
            ],
            "next_cursor": None,
        }

    @app.post(f"{base}/measurements/{{measurement_id}}/withdrawal")
    async def withdraw(measurement_id: str, request: Request) -> JSONResponse:
        seen.append((measurement_id, request.headers.get("if-match", "")))
        return JSONResponse({"id": measurement_id}, status_code=201)

    return app


async def test_the_corrections_page_shows_adjustments_withdrawals_and_both_baselines(make_client, log_in) -> None:
    seen: list[tuple[str, str]] = []
    async with make_client(gateway(seen)) as client:
        session = await log_in(client, roles=["verifier"], username="verifier1")
        page = await client.get(f"/verify/{CASE}/corrections?done=refreeze")
        assert page.status_code == 200, page.text[-2000:]
        assert 'id="done-banner"' in page.text
        figures_table = re.search(
            rf'<table class="table" id="refreeze-figures-{REFREEZE}">.*?</table>', page.text, re.S
        )[0]
        assert "5,4" in figures_table and "6,5" in figures_table  # the old figure kept beside the new one
        assert f'<tr id="period-{MEASUREMENT}">' in page.text and "Ghi nhầm công tơ" in page.text
        assert "-12.500" in page.text and "Nguyễn Văn An" in page.text
        # only the period still computed is offered for withdrawal, with its revision
        options = re.findall(
            r'<option value="([^"]*)"', re.search(r'id="f-measurement".*?</select>', page.text, re.S)[0]
        )
        assert options == ["", "01a230ee-e7e7-7c30-873f-d75e9b354d3d:1"]
        sent = await client.post(
            f"/verify/{CASE}/withdrawals",
            data={
                "csrf_token": session.csrf_token,
                "measurement": "01a230ee-e7e7-7c30-873f-d75e9b354d3d:1",
                "withdraw_reason": "Ghi nhầm",
            },
        )
        assert sent.status_code == 303 and seen == [("01a230ee-e7e7-7c30-873f-d75e9b354d3d", '"1"')]
        empty = await client.post(
            f"/verify/{CASE}/withdrawals", data={"csrf_token": session.csrf_token, "measurement": ""}
        )
        assert empty.status_code == 422 and 'id="f-measurement-error"' in empty.text
        assert 'id="f-withdraw_reason-error"' in empty.text
