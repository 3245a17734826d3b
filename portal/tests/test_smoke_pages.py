"""Public pages render in both languages with the layout, charset and security headers."""

from __future__ import annotations

from fastapi import FastAPI, Request

CALL = {
    "id": "7b0e5c4e-1111-4c5e-9a55-3f0c5c1d2e01",
    "code": "SXSH-2026-01",
    "title": "Đợt 1 năm 2026",
    "description": "Hỗ trợ đổi mới công nghệ",
    "opens_on": "2026-11-01",
    "closes_on": "2026-12-31",
    "is_open": True,
    "budget_vnd": 5_000_000_000,
    "remaining_vnd": 4_250_000_000,
    "support_rate_bp": 5000,
    "cap_per_project_vnd": 1_234_567_000,
    "eligible_sectors": ["C24"],
    "criteria": [{"code": "savings", "name": "Mức tiết kiệm năng lượng", "weight": 0.6, "max_score": 10}],
    "min_reviews": 2,
    "pass_score_pct": 65.5,
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
        english = await client.get(f"/calls/{CALL['id']}", headers={"Cookie": "cp_lang=en"})
    assert response.status_code == 200, response.text
    text = response.text
    assert "1.234.567.000\u00a0₫" in text and "01/11/2026" in text and "31/12/2026" in text
    assert "50\u00a0%" in text and "65,5\u00a0%" in text and "Sản xuất kim loại" in text
    assert '<html lang="en">' in english.text and "1,234,567,000\u00a0₫" in english.text
    assert "Basic metals" in english.text and "65.5\u00a0%" in english.text


def dossier_gateway() -> FastAPI:
    app = FastAPI()

    @app.get("/api/v1/public/dossiers/{code}")
    async def dossier(code: str):
        from fastapi.responses import JSONResponse

        if code != "000.00.01.H26-261128-0001":
            return JSONResponse(
                {"title": "Not found", "status": 404}, status_code=404, media_type="application/problem+json"
            )
        return {
            "dossier_code": code,
            "status": "under_review",
            "egov_status": 4,
            "egov_status_label": "Đang xử lý",
            "received_at": "2026-11-28T02:15:00Z",
            "due_at": "2027-01-12",
            "decided_at": None,
        }

    return app


async def test_dossier_lookup_shows_status_and_dates_only(make_client) -> None:
    async with make_client(dossier_gateway()) as client:
        empty = await client.get("/dossiers")
        found = await client.get("/dossiers", params={"code": " 000.00.01.h26-261128-0001 "})
    assert empty.status_code == 200 and "Tra cứu hồ sơ" in empty.text and "Có lỗi cần sửa" not in empty.text
    assert found.status_code == 200
    assert "Hồ sơ 000.00.01.H26-261128-0001" in found.text and "Đang xử lý" in found.text
    assert "09:15 28/11/2026" in found.text and "12/01/2027" in found.text


async def test_dossier_lookup_explains_malformed_and_unknown_codes_next_to_the_field(make_client) -> None:
    async with make_client(dossier_gateway()) as client:
        malformed = await client.get("/dossiers", params={"code": "hồ sơ <b>123</b>"})
        unknown = await client.get("/dossiers", params={"code": "000.00.01.H26-261128-0002"})
        blank = await client.get("/dossiers", params={"code": "  "})
        english = await client.get("/dossiers", params={"code": "abc"}, headers={"Cookie": "cp_lang=en"})
    assert malformed.status_code == 422
    body = malformed.text
    assert 'class="error-summary"' in body and 'href="#f-code"' in body  # the summary links to the field
    assert (
        'id="f-code"' in body
        and 'aria-invalid="true"' in body
        and 'aria-describedby="f-code-hint f-code-error"' in body
    )
    assert "Hãy nhập mã hồ sơ như trên giấy tiếp nhận" in body
    assert 'value="HỒ SƠ &lt;B&gt;123&lt;/B&gt;"' in body and "<b>123</b>" not in body  # kept, escaped
    assert unknown.status_code == 404 and "Không có hồ sơ nào mang mã này" in unknown.text
    assert 'value="000.00.01.H26-261128-0002"' in unknown.text
    assert blank.status_code == 422 and "Hãy nhập mã hồ sơ." in blank.text
    assert "Enter the dossier code as printed on your receipt" in english.text


def with_enterprise_and_facility(app: FastAPI) -> FastAPI:
    """The dashboard's two other calls: the enterprise's own record and one facility."""

    @app.get("/api/v1/enterprises")
    async def enterprises() -> dict:
        return {"items": [{"name": "Công ty Cổ phần Thép Hà Nội"}], "next_cursor": None}

    @app.get("/api/v1/facilities")
    async def facilities() -> dict:
        return {"items": [{"id": "f1", "name": "Nhà máy cán thép Đông Anh"}], "next_cursor": None}

    return app


def enterprise_gateway(seen: list) -> FastAPI:
    app = FastAPI()

    @app.get("/api/v1/applications/summaries")  # the dashboard reads summary lines
    async def applications(request: Request) -> dict:
        seen.append((request.headers.get("authorization"), request.headers.get("accept-language")))
        base = {
            "facility_name": "Nhà máy cán thép Đông Anh",
            "dossier_code": None,
            "requested_support_vnd": 800_000_000,
        }
        return {
            "items": [
                {**base, "id": "a1", "title": "Lò cảm ứng trung tần", "status": "draft"},
                {
                    **base,
                    "id": "a2",
                    "title": "Thu hồi nhiệt khí thải",
                    "status": "changes_requested",
                    "dossier_code": "000.00.01.H26-261128-0001",
                },
                {**base, "id": "a3", "title": "Biến tần quạt", "status": "approved"},
            ],
            "next_cursor": None,
        }

    return with_enterprise_and_facility(app)


async def test_enterprise_dashboard_lists_applications_and_what_needs_doing(make_client, log_in) -> None:
    seen: list = []
    async with make_client(enterprise_gateway(seen)) as client:
        store = client.app.state.portal.sessions
        session = await log_in(client, access_token="the-access-token")
        page = await client.get("/enterprise")
        staff = await client.get("/staff")
        await store.delete(session)
    assert page.status_code == 200
    text = page.text
    assert "Công ty Cổ phần Thép Hà Nội" in text and "Xin chào, Nguyễn Văn An" in text
    assert 'class="tag tag--grey">Bản nháp' in text and 'class="tag tag--orange">Yêu cầu bổ sung' in text
    assert "Đã phê duyệt" in text and "800.000.000\u00a0₫" in text and 'aria-current="page"' in text
    todo = text[text.index("Việc cần làm") : text.index("Hồ sơ của doanh nghiệp")]
    assert "Hoàn thiện và nộp bản nháp này" in todo and "Sở yêu cầu bổ sung" in todo and "Biến tần quạt" not in todo
    assert seen == [("Bearer the-access-token", "vi")] and "the-access-token" not in text
    assert staff.status_code == 403  # an enterprise is not staff


def busy_enterprise_gateway(count: int) -> FastAPI:
    """An enterprise with `count` applications, every one a draft (ids in creation order, as the API's are)."""
    app = FastAPI()

    @app.get("/api/v1/applications/summaries")
    async def applications() -> dict:
        items = [
            {
                "id": f"a{n:03d}",
                "title": f"Dự án tiết kiệm năng lượng số {n}",
                "status": "draft",
                "facility_name": "Nhà máy cán thép Đông Anh",
                "dossier_code": None,
                "requested_support_vnd": 100_000_000 + n,
            }
            for n in range(1, count + 1)
        ]
        return {"items": items, "next_cursor": None}

    return with_enterprise_and_facility(app)


async def test_a_busy_dashboard_shows_the_newest_applications_and_counts_the_rest(make_client, log_in) -> None:
    async with make_client(busy_enterprise_gateway(37)) as client:
        await log_in(client, access_token="the-access-token")
        page = await client.get("/enterprise")
    assert page.status_code == 200
    text = page.text
    todo = text[text.index("Việc cần làm") : text.index("Hồ sơ của doanh nghiệp")]
    table = text[text.index("Hồ sơ của doanh nghiệp") :]
    # The to-do group counts all 37 drafts, lists the five newest (newest first), and links to the rest.
    assert "Bản nháp cần hoàn thiện" in todo and "(37)" in todo
    assert [n for n in range(1, 38) if f"số {n}<" in todo] == [33, 34, 35, 36, 37]
    assert todo.index("số 37<") < todo.index("số 33<")
    assert "và 32 hồ sơ khác: xem tất cả hồ sơ" in todo and 'href="/enterprise/applications"' in todo
    # The table: the ten newest, newest first, and a link to all of them.
    shown = [n for n in range(1, 38) if f"số {n}<" in table]
    assert sorted(shown) == list(range(28, 38)) and table.index("số 37<") < table.index("số 28<")
    assert 'id="all-applications"' in table and "Xem tất cả 37 hồ sơ" in table


async def test_a_small_dashboard_needs_no_link_to_more(make_client, log_in) -> None:
    async with make_client(busy_enterprise_gateway(3)) as client:
        await log_in(client, access_token="the-access-token")
        text = (await client.get("/enterprise")).text
    assert "(3)" in text and "hồ sơ khác" not in text and 'id="all-applications"' not in text
    assert all(f"số {n}<" in text for n in (1, 2, 3))
