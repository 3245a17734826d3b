"""The auditor's search and the results pages in-process (issue 14), against a fake gateway: the three services'
audit lists merged by time across pages without gaps or repeats, old → new shown, the API's field errors next to
the field; the results charts, tables and CSV from the summary."""

from __future__ import annotations

import csv
import io
import re
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse

# The staff accounts the pages are seen with (no tax code: not an enterprise).
AUDITOR = {"username": "auditor1", "display_name": "Lê Thị Kiểm", "roles": ["auditor"], "tax_code": None}
OFFICER = {"username": "officer1", "display_name": "Trần Văn Cán Bộ", "roles": ["officer"], "tax_code": None}
BASE = datetime(2026, 12, 1, 3, 0, tzinfo=UTC)


def _entry(service: str, n: int, minutes: int) -> dict[str, Any]:
    return {
        "id": n,
        "at": (BASE + timedelta(minutes=minutes)).isoformat().replace("+00:00", "Z"),
        "entity_type": {"registry": "facility", "applications": "application", "verification": "verification"}[service],
        "entity_id": f"{service}-{n}",
        "action": "update",
        "actor_subject": "s",
        "actor_name": "dn.thep",
        "actor_role": "enterprise",
        "from_state": None,
        "to_state": None,
        "reason": None,
        "request_id": None,
        "details": {},
        "changes": [{"field": "name", "old": f"Cũ {n}", "new": f"Mới {n}"}],
    }


# Each service's entries newest first (ids descending), interleaved in time across the services.
ENTRIES = {
    "registry": [_entry("registry", n, minutes=3 * n) for n in range(20, 0, -1)],
    "applications": [_entry("applications", n, minutes=3 * n + 1) for n in range(15, 0, -1)],
    "verification": [_entry("verification", n, minutes=3 * n + 2) for n in range(5, 0, -1)],
}
GROUP = {
    "enterprises": 3,
    "cases": 4,
    "verified": 3,
    "not_achieved": 1,
    "savings_toe": 1234.5678,
    "savings_gj": 51690.1,
    "savings_tco2": 3210.25,
    "adjusted_baseline_toe": 15000.0,
    "savings_pct": 8.23,
    "target_pct": 6.0,
    "attainment_pct": 137.2,
    "meets_target": True,
}
SUMMARY = {
    "target_pct": 6.0,
    "concluded_from": None,
    "concluded_to": None,
    "period_kind": "quarter",
    "total": GROUP,
    "by_sector": [
        {**GROUP, "sector_code": "steel"},
        {**GROUP, "sector_code": "beer", "savings_pct": 4.5, "meets_target": False},
    ],
    "by_district": [{**GROUP, "district": "Huyện Sóc Sơn"}],
    "by_ward": [{**GROUP, "district": "Huyện Sóc Sơn", "ward": "Xã Nội Bài"}],
    "by_period": [{**GROUP, "period": "2026-Q3"}, {**GROUP, "period": "2026-Q4", "savings_pct": 7.1}],
    "by_sector_period": [],
}


def audit_gateway(asked: list[tuple[str, dict[str, str]]]) -> FastAPI:
    app = FastAPI()

    @app.get("/api/v1/audit/{service}")
    async def search(service: str, request: Request) -> Any:
        params = dict(request.query_params)
        asked.append((service, params))
        if params.get("to") and params.get("from") and params["to"] < params["from"]:
            return JSONResponse(
                {
                    "status": 422,
                    "title": "Khoảng thời gian không hợp lệ",
                    "code": "range_order",
                    "errors": [
                        {"field": "query.to", "message": "Ngày kết thúc trước ngày bắt đầu", "code": "range_order"}
                    ],
                },
                status_code=422,
                media_type="application/problem+json",
            )
        items = ENTRIES[service]
        start = int(params.get("cursor") or 0)
        limit = int(params["limit"])
        page = items[start : start + limit]
        more = start + limit < len(items)
        return {"items": page, "next_cursor": str(start + limit) if more else None}

    @app.get("/api/v1/programme/summary")
    async def summary() -> dict:
        return SUMMARY

    @app.get("/api/v1/public/sectors")
    async def sectors() -> dict:
        return {
            "items": [
                {"code": "steel", "name_vi": "Luyện thép", "name_en": "Steelmaking"},
                {"code": "beer", "name_vi": "Sản xuất bia", "name_en": "Brewing"},
            ],
            "next_cursor": None,
        }

    return app


@asynccontextmanager
async def auditor(make_client: Any, log_in: Any, gateway: FastAPI) -> AsyncIterator[httpx.AsyncClient]:
    async with make_client(gateway) as client:
        store = client.app.state.portal.sessions
        session = await log_in(client, access_token="tok", **AUDITOR)
        try:
            yield client
        finally:
            await store.delete(session)


def shown_ids(page: str) -> list[str]:
    return re.findall(r'id="audit-entry-([a-z]+-\d+)"', page)


async def test_search_merges_the_three_services_by_time_across_pages(make_client: Any, log_in: Any) -> None:
    asked: list = []
    async with auditor(make_client, log_in, audit_gateway(asked)) as client:
        home = await client.get("/audit")
        assert home.status_code == 200, home.text
        seen: list[str] = []
        page = await client.get("/audit/search")
        while True:
            assert page.status_code == 200, page.text
            seen += shown_ids(page.text)
            link = re.search(r'href="(/audit/search\?[^"]+)" rel="next"', page.text)
            if not link:
                break
            page = await client.get(link[1].replace("&amp;", "&"))
        first = await client.get("/audit/search")
    everything = sorted((e for s, items in ENTRIES.items() for e in items), key=lambda e: e["at"], reverse=True)
    expected = [
        f"{ {'facility': 'registry', 'application': 'applications', 'verification': 'verification'}[e['entity_type']] }-{e['id']}"
        for e in everything
    ]
    assert seen == expected  # newest first, all 40, none twice
    assert "<del>Cũ 20</del> → <ins>Mới 20</ins>" in first.text and "Đã thay đổi" in first.text
    assert "Doanh nghiệp" in first.text


async def test_a_type_filter_asks_one_service_and_api_errors_go_next_to_the_field(
    make_client: Any, log_in: Any
) -> None:
    asked: list = []
    async with auditor(make_client, log_in, audit_gateway(asked)) as client:
        only = await client.get("/audit/search", params={"entity_type": "application", "q": "thep"})
        assert only.status_code == 200
        assert {s for s, _ in asked} == {"applications"} and asked[0][1]["q"] == "thep"
        bad = await client.get("/audit/search", params={"from": "2026-12-31", "to": "01/01/2026"})
        assert bad.status_code == 422
        assert 'id="f-to-error"' in bad.text and "Ngày kết thúc trước ngày bắt đầu" in bad.text
        typo = await client.get("/audit/search", params={"from": "31/02/2026"})
        assert typo.status_code == 422 and 'id="f-from-error"' in typo.text
        exported = await client.get("/audit/search.csv", params={"entity_type": "verification"})
    rows = list(csv.reader(io.StringIO(exported.content.decode("utf-8-sig"))))
    assert rows[0][0] == "Thời điểm" and len(rows) == 1 + len(ENTRIES["verification"])
    assert rows[1][rows[0].index("Thay đổi (cũ → mới)")] == "name: Cũ 5 → Mới 5"


async def test_results_page_shows_charts_tables_and_a_csv_equal_to_the_summary(make_client: Any, log_in: Any) -> None:
    async with auditor(make_client, log_in, audit_gateway([])) as client:
        page = await client.get("/results")
        sector_csv = await client.get("/results/sector.csv")
        client.cookies.set("cp_lang", "en")
        english = await client.get("/results?period=year")
    assert page.status_code == 200, page.text
    for chart in ("chart-over-time", "chart-by-sector", "chart-by-district"):
        assert f'id="{chart}-figure"' in page.text and f'id="{chart}-table"' in page.text
    assert "Luyện thép" in page.text and "Quý 3/2026" in page.text and "1.234,6" in page.text
    rows = list(csv.DictReader(io.StringIO(sector_csv.content.decode("utf-8-sig"))))
    assert [(r["sector_code"], r["sector_name"], float(r["savings_pct"])) for r in rows] == [
        ("steel", "Luyện thép", 8.23),
        ("beer", "Sản xuất bia", 4.5),
    ]
    assert english.status_code == 200 and "Steelmaking" in english.text and "Q3/2026" in english.text


def showcase_gateway(posted: list[tuple[dict, str | None]]) -> FastAPI:
    app = audit_gateway([])
    state = {"given": False, "version": 0}
    application = {"id": "0190a1b2-0000-7000-8000-000000000001", "title": "Thu hồi nhiệt khói lò", "status": "verified"}

    @app.get("/api/v1/public/showcase")
    async def showcase() -> dict:
        items = (
            [
                {
                    "application_id": application["id"],
                    "title": application["title"],
                    "technology": "Bộ trao đổi nhiệt tấm",
                    "sector_code": "steel",
                    "enterprise_name": "Công ty Cổ phần Thép Hà Nội",
                    "facility_name": "Nhà máy Nội Bài",
                    "verified_savings_pct": 9.1,
                    "verified_at": "2026-11-30T03:00:00Z",
                }
            ]
            if state["given"]
            else []
        )
        return {"items": items, "next_cursor": None}

    @app.get("/api/v1/applications/{application_id}")
    async def read(application_id: str) -> dict:
        return application

    @app.get("/api/v1/applications/{application_id}/showcase-consent")
    async def consent() -> JSONResponse:
        return JSONResponse(
            {
                "application_id": application["id"],
                "given": state["given"],
                "changed_at": None,
                "version": state["version"],
            },
            headers={"ETag": f'"{state["version"]}"'},
        )

    @app.post("/api/v1/applications/{application_id}/showcase-consent")
    async def change(request: Request) -> JSONResponse:
        body = await request.json()
        posted.append((body, request.headers.get("if-match")))
        if request.headers.get("if-match") != f'"{state["version"]}"':
            return JSONResponse(
                {"status": 412, "code": "stale_version", "title": "Đã thay đổi"},
                status_code=412,
                media_type="application/problem+json",
            )
        state["given"], state["version"] = body["given"], state["version"] + 1
        return JSONResponse(
            {**body, "application_id": application["id"], "changed_at": None, "version": state["version"]}
        )

    return app


async def test_showcase_appears_after_the_enterprise_consents(make_client: Any, log_in: Any) -> None:
    posted: list = []
    async with make_client(showcase_gateway(posted)) as client:
        before = await client.get("/showcase")
        assert before.status_code == 200 and 'id="showcase-empty"' in before.text
        store = client.app.state.portal.sessions
        session = await log_in(client, access_token="tok")
        url = "/enterprise/applications/0190a1b2-0000-7000-8000-000000000001/showcase"
        page = await client.get(url)
        assert page.status_code == 200 and 'id="give-showcase"' in page.text
        csrf = re.search(r'name="csrf_token" value="([^"]+)"', page.text)[1]
        stale = await client.post(url, data={"csrf_token": csrf, "etag": '"7"', "given": "true"})
        assert (
            stale.status_code == 409
            and "Changed meanwhile" not in stale.text
            and "notification-banner--warning" in stale.text
        )
        saved = await client.post(url, data={"csrf_token": csrf, "etag": '"0"', "given": "true"})
        assert saved.status_code == 303
        after = await client.get("/showcase")
        withdraw = await client.get(url)
        await store.delete(session)
    assert posted == [({"given": True}, '"7"'), ({"given": True}, '"0"')]
    assert "Thu hồi nhiệt khói lò" in after.text and "9,1" in after.text and "Luyện thép" in after.text
    assert 'id="withdraw-showcase"' in withdraw.text


def handbooks_gateway(uploads: list[tuple[str, bytes]]) -> FastAPI:
    app = audit_gateway([])
    handbook = {
        "id": "0190a1b2-0000-7000-8000-0000000000a1",
        "sector_code": "steel",
        "title_vi": "Sổ tay sản xuất sạch hơn ngành thép",
        "title_en": "Cleaner production in steelmaking",
        "latest_version": 1,
        "created_at": "2026-11-01T00:00:00Z",
        "updated_at": "2026-11-01T00:00:00Z",
        "versions": [
            {
                "number": 1,
                "filename": "so-tay.pdf",
                "media_type": "application/pdf",
                "size_bytes": 20480,
                "sha256": "0" * 64,
                "uploaded_at": "2026-11-01T00:00:00Z",
                "download_url": "x",
            }
        ],
    }

    @app.get("/api/v1/public/handbooks")
    async def public() -> dict:
        return {"items": [handbook], "next_cursor": None}

    @app.get("/api/v1/handbooks")
    async def staff() -> dict:
        return {"items": [handbook], "next_cursor": None}

    @app.post("/api/v1/handbooks/{handbook_id}/versions")
    async def upload(handbook_id: str, request: Request) -> JSONResponse:
        form = await request.form()
        content = await form["file"].read()
        uploads.append((form["file"].filename, content))
        if not content.startswith(b"%PDF"):
            return JSONResponse(
                {"status": 415, "code": "handbook_not_pdf", "title": "x"},
                status_code=415,
                media_type="application/problem+json",
            )
        return JSONResponse(handbook, status_code=201)

    @app.get("/api/v1/public/handbooks/{handbook_id}/versions/{number}")
    async def download(handbook_id: str, number: int) -> Any:
        from fastapi.responses import Response as Plain

        return Plain(b"%PDF-1.7 so tay", media_type="application/pdf")

    return app


async def test_handbooks_library_and_the_officers_upload(make_client: Any, log_in: Any) -> None:
    uploads: list = []
    async with make_client(handbooks_gateway(uploads)) as client:
        library = await client.get("/handbooks")
        client.cookies.set("cp_lang", "en")
        english = await client.get("/handbooks")
        client.cookies.set("cp_lang", "vi")
        pdf = await client.get("/handbooks/0190a1b2-0000-7000-8000-0000000000a1/versions/1")
        refused = await client.get("/handbooks/manage")
        store = client.app.state.portal.sessions
        session = await log_in(client, access_token="tok", **OFFICER)
        manage = await client.get("/handbooks/manage")
        csrf = re.search(r'name="csrf_token" value="([^"]+)"', manage.text)[1]
        url = "/handbooks/manage/0190a1b2-0000-7000-8000-0000000000a1/versions"
        png = await client.post(url, data={"csrf_token": csrf}, files={"file": ("a.png", b"\x89PNG....", "image/png")})
        ok = await client.post(
            url, data={"csrf_token": csrf}, files={"file": ("b.pdf", b"%PDF-1.7", "application/pdf")}
        )
        await store.delete(session)
    assert library.status_code == 200 and "Sổ tay sản xuất sạch hơn ngành thép" in library.text
    assert 'lang="en">Cleaner production in steelmaking' in library.text and "Luyện thép" in library.text
    assert "Tải phiên bản 1 (PDF, 20 kB)" in library.text
    assert english.text.index("Cleaner production in steelmaking") < english.text.index("Sổ tay sản xuất")
    assert pdf.status_code == 200 and pdf.content == b"%PDF-1.7 so tay"
    assert refused.status_code in (303, 307) or refused.status_code == 403
    assert manage.status_code == 200 and 'id="create-handbook"' in manage.text
    assert png.status_code == 422 and "Sổ tay phải là tệp PDF." in png.text
    assert 'id="f-file-0190a1b2-0000-7000-8000-0000000000a1-error"' in png.text
    assert ok.status_code == 303 and uploads == [("a.png", b"\x89PNG...."), ("b.pdf", b"%PDF-1.7")]
