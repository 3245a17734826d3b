"""The payment page shows the four-eyes refusal next to the button, in the user's language: a person holding both the
finance and the officer role (the realm allows it) prepared the payment and may not approve it. The gateway is a
stand-in answering as the applications service does (its own four-eyes tests: services/applications/tests/
test_payments.py); the real stack's pages are tested in tests/e2e/test_portal_payments.py."""

from __future__ import annotations

import re
from typing import Any

import pytest
from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse

APPLICATION = "01a230ee-a3a8-7c30-873f-d75e9b354d3d"
TRANCHE = "01a230ee-b4b4-7c30-873f-d75e9b354d3d"
SOURCE = "01a230ee-c5c5-7c30-873f-d75e9b354d3d"
CALL = "01a230ee-d6d6-7c30-873f-d75e9b354d3d"
FOUR_EYES = {
    "vi": "Bạn đã lập đề nghị thanh toán này nên người khác phải phê duyệt.",
    "en": "You prepared this payment, so another person must approve it.",
}


def tranche(**fields: Any) -> dict[str, Any]:
    """A tranche as the applications service answers it; `fields` say what this test's one is."""
    return {
        "id": TRANCHE,
        "source_id": SOURCE,
        "basis": {},
        "prepared_by_name": None,
        "prepared_at": None,
        "approved_by_name": None,
        "approved_at": None,
        "paid_on": None,
        "paid_vnd": None,
        "payment_reference": None,
        "collected_vnd": 0,
        "updated_at": "2026-11-30T02:00:00Z",
        **fields,
    }


def application_gateway(one: dict[str, Any], **application: Any) -> FastAPI:
    """A stand-in gateway serving one application holding the tranche `one`, and its call's funding source."""
    app = FastAPI()

    @app.get(f"/api/v1/applications/{APPLICATION}")
    async def read_application() -> dict[str, Any]:
        return {"id": APPLICATION, "call_id": CALL, **application, "tranches": [one]}

    @app.get(f"/api/v1/calls/{CALL}/funding-sources")
    async def sources() -> list[dict[str, Any]]:
        return [{"id": SOURCE, "name": "Ngân sách thành phố", "code": "city-budget"}]

    return app


def gateway(seen: list[dict[str, str]]) -> FastAPI:
    advance = tranche(
        kind="advance",
        planned_vnd=240_000_000,
        amount_vnd=240_000_000,
        status="prepared",
        prepared_by_name="Trần Thị Thu",
        prepared_at="2026-11-30T02:00:00Z",
        version=2,
    )
    app = application_gateway(
        advance,
        dossier_code="000.00.01.H26-261130-0001",
        title="Lò cảm ứng tiết kiệm điện",
        enterprise_name="Công ty CP Thép Hà Nội",
    )

    @app.post(f"/api/v1/applications/{APPLICATION}/tranches/{TRANCHE}/approve")
    async def approve(request: Request) -> JSONResponse:
        language = "vi" if request.headers.get("accept-language", "").startswith("vi") else "en"
        seen.append({"if_match": request.headers.get("if-match", ""), "language": language})
        body = {
            "status": 403,
            "title": "Four-eyes rule",
            "code": "preparer_cannot_approve",
            "detail": FOUR_EYES[language],
        }
        return JSONResponse(body, status_code=403, media_type="application/problem+json")

    return app


@pytest.mark.parametrize("language", ["vi", "en"])
async def test_the_four_eyes_refusal_is_next_to_the_button(make_client, log_in, language: str) -> None:
    seen: list[dict[str, str]] = []
    async with make_client(gateway(seen)) as client:
        session = await log_in(client, language=language, roles=["finance", "officer"], username="ke.toan.truong")
        client.cookies.set("cp_lang", language)
        page = await client.get(f"/payments/{APPLICATION}/{TRANCHE}")
        assert page.status_code == 200 and 'id="take-step"' in page.text  # an officer is offered the approval
        answer = await client.post(
            f"/payments/{APPLICATION}/{TRANCHE}/approve", data={"csrf_token": session.csrf_token, "version": "2"}
        )
        assert answer.status_code == 403
        assert seen == [{"if_match": '"2"', "language": language}]
        step = re.search(
            r'<p class="error-message" id="f-step">.*?</p>\s*<button[^>]*id="take-step"', answer.text, re.S
        )
        assert step and FOUR_EYES[language] in step[0]  # the message right before the button it refuses
        assert 'aria-describedby="f-step"' in answer.text


async def test_an_auditor_reads_the_payment_without_a_button(make_client, log_in) -> None:
    async with make_client(gateway([])) as client:
        session = await log_in(client, roles=["auditor"], username="auditor1")
        page = await client.get(f"/payments/{APPLICATION}/{TRANCHE}")
        assert page.status_code == 200 and "Trần Thị Thu" in page.text and 'id="take-step"' not in page.text
        forged = await client.post(
            f"/payments/{APPLICATION}/{TRANCHE}/approve", data={"csrf_token": session.csrf_token, "version": "2"}
        )
        assert forged.status_code == 403 and "take-step" not in forged.text


def recovery_gateway(seen: list[dict[str, Any]]) -> FastAPI:
    recovery = tranche(
        kind="recovery",
        planned_vnd=180_000_000,
        amount_vnd=180_000_000,
        status="recovery_due",
        collected_vnd=100_000_000,
        version=3,
    )
    app = application_gateway(recovery, dossier_code="D-1", title="Lò", enterprise_name="Công ty")

    @app.post(f"/api/v1/applications/{APPLICATION}/tranches/{TRANCHE}/collections")
    async def collect(request: Request) -> JSONResponse:
        body = await request.json()
        seen.append(body)
        if body["amount_vnd"] > 80_000_000:
            problem = {
                "status": 409,
                "code": "collection_exceeds_recovery",
                "detail": "Vượt quá số còn phải thu.",
                "errors": [{"field": "amount_vnd", "message": "Tối đa 80.000.000 đồng còn phải thu.", "code": "x"}],
            }
            return JSONResponse(problem, status_code=409, media_type="application/problem+json")
        return JSONResponse({**recovery, "collected_vnd": 180_000_000, "status": "recovered"})

    return app


async def test_a_part_of_a_recovery_is_collected_and_too_much_is_refused_at_the_amount(make_client, log_in) -> None:
    seen: list[dict[str, Any]] = []
    async with make_client(recovery_gateway(seen)) as client:
        session = await log_in(client, roles=["finance"], username="finance1")
        page = await client.get(f"/payments/{APPLICATION}/{TRANCHE}")
        assert page.status_code == 200 and "80.000.000" in page.text  # what is still due
        part = {"csrf_token": session.csrf_token, "version": "3", "collected_on": "2026-11-30", "reference": "UNC-2"}
        too_much = await client.post(
            f"/payments/{APPLICATION}/{TRANCHE}/collections", data={**part, "amount_vnd": "90.000.000"}
        )
        assert too_much.status_code == 409
        assert re.search(r'id="f-amount_vnd-error".*?Tối đa 80\.000\.000 đồng còn phải thu', too_much.text, re.S)
        done = await client.post(
            f"/payments/{APPLICATION}/{TRANCHE}/collections", data={**part, "amount_vnd": "80.000.000"}
        )
        assert done.status_code == 303 and done.headers["location"].endswith("?done=collections")
        assert seen[-1] == {"collected_on": "2026-11-30", "reference": "UNC-2", "amount_vnd": 80_000_000}
