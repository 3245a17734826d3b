"""Public pages render in both languages with the layout, charset and security headers."""

from __future__ import annotations

from fastapi import FastAPI

CALL = {
    "id": "7b0e5c4e-1111-4c5e-9a55-3f0c5c1d2e01", "code": "SXSH-2026-01", "title": "Đợt 1 năm 2026",
    "description": "Hỗ trợ đổi mới công nghệ", "opens_on": "2026-11-01", "closes_on": "2026-12-31",
    "is_open": True, "budget_vnd": 5_000_000_000, "remaining_vnd": 4_250_000_000, "support_rate_bp": 5000,
    "cap_per_project_vnd": 1_234_567_000, "eligible_sectors": ["C24"],
    "criteria": [{"code": "savings", "name": "Mức tiết kiệm năng lượng", "weight": 0.6, "max_score": 10}],
    "min_reviews": 2, "pass_score_pct": 65.5,
}


def gateway_app() -> FastAPI:
    app = FastAPI()

    @app.get("/api/v1/public/calls")
    async def calls() -> dict:
        return {"items": [CALL], "next_cursor": None}

    @app.get("/api/v1/public/calls/{call_id}")
    async def call(call_id: str) -> dict:
        return CALL

    @app.get("/api/v1/public/sectors")
    async def sectors() -> dict:
        return {"items": [{"code": "C24", "name_vi": "Sản xuất kim loại", "name_en": "Basic metals"}]}

    return app


async def test_home_in_vietnamese_by_default(make_client) -> None:
    async with make_client() as client:
        response = await client.get("/")
    assert response.status_code == 200
    assert response.headers["content-type"] == "text/html; charset=utf-8"
    assert '<html lang="vi">' in response.text and '<meta charset="utf-8">' in response.text
    assert "Sở Công Thương Hà Nội" in response.text
    assert "Chương trình hỗ trợ sản xuất sạch hơn" in response.text
    assert "6–8&nbsp;%" in response.text


async def test_call_detail_formats_money_dates_and_rates(make_client) -> None:
    async with make_client(gateway_app()) as client:
        response = await client.get(f"/calls/{CALL['id']}")
        english = await client.get(f"/calls/{CALL['id']}", cookies={"cp_lang": "en"})
    assert response.status_code == 200, response.text
    text = response.text
    assert "1.234.567.000\u00a0₫" in text and "01/11/2026" in text and "31/12/2026" in text
    assert "50\u00a0%" in text and "65,5\u00a0%" in text and "Sản xuất kim loại" in text
    assert '<html lang="en">' in english.text and "1,234,567,000\u00a0₫" in english.text
    assert "Basic metals" in english.text and "65.5\u00a0%" in english.text
