"""Enterprise record pages in-process, against a stub gateway answering the registry's documented contract:
empty states (a new enterprise), the dashboard's "what needs doing" groups, no inline script or style. The real
stack is exercised by tests/e2e/test_portal_enterprise_records.py."""

from __future__ import annotations

import re

from fastapi import FastAPI

from cleanprod_portal.enterprise.routes import what_needs_doing

APPLICATIONS = [
    {
        "id": "a1",
        "status": "draft",
        "title": "Lò cảm ứng",
        "missing_fields": ["technology", "total_cost_vnd"],
        "dossier_code": None,
        "facility_name": "Nhà máy A",
        "requested_support_vnd": None,
    },
    {
        "id": "a2",
        "status": "changes_requested",
        "title": "Thu hồi nhiệt",
        "missing_fields": ["documents"],
        "dossier_code": "000.00.01.H26-261201-0001",
        "facility_name": "Nhà máy A",
        "requested_support_vnd": 5,
    },
    {
        "id": "a3",
        "status": "in_progress",
        "title": "Biến tần",
        "dossier_code": "000.00.01.H26-261201-0002",
        "facility_name": "Nhà máy B",
        "requested_support_vnd": 7,
    },
    {
        "id": "a4",
        "status": "under_review",
        "title": "Đang thẩm định",
        "dossier_code": "x",
        "facility_name": "B",
        "requested_support_vnd": 1,
    },
]


def test_what_needs_doing_groups_by_status_and_missing_documents() -> None:
    groups = {g["key"]: [a["id"] for a in g["applications"]] for g in what_needs_doing(APPLICATIONS)}
    assert groups == {"drafts": ["a1"], "changes_requested": ["a2"], "documents_missing": ["a2"], "completion": ["a3"]}
    assert [g["key"] for g in what_needs_doing(APPLICATIONS)] == [
        "drafts",
        "changes_requested",
        "documents_missing",
        "completion",
    ]
    assert what_needs_doing([APPLICATIONS[3]]) == []


def registry_stub(applications: list[dict]) -> FastAPI:
    app = FastAPI()

    @app.get("/api/v1/facilities")
    async def facilities() -> dict:
        return {"items": [], "next_cursor": None}

    @app.get("/api/v1/sectors")
    async def sectors() -> list:
        return [{"code": "steel", "name_vi": "Sản xuất thép", "name_en": "Steel", "priority": True, "version": 1}]

    @app.get("/api/v1/enterprises")
    async def enterprises() -> dict:
        return {"items": [], "next_cursor": None}

    @app.get("/api/v1/applications/summaries")  # the dashboard reads summary lines
    async def list_applications() -> dict:
        return {"items": applications, "next_cursor": None}

    return app


# A new enterprise's account (the session's name is its company name).
ENT_MOI = dict(username="ent-moi", display_name="Công ty TNHH Sản xuất Bao bì Đông Anh", tax_code="0101243150")


async def test_empty_states_tell_a_new_enterprise_what_to_do(make_client, log_in) -> None:  # noqa: ANN001
    async with make_client(registry_stub([])) as client:
        await log_in(client, **ENT_MOI)
        facilities = await client.get("/enterprise/facilities")
        assert facilities.status_code == 200 and 'id="facilities-empty"' in facilities.text
        assert "Bạn chưa đăng ký cơ sở sản xuất nào" in facilities.text and 'id="add-facility"' in facilities.text
        baselines = await client.get("/enterprise/baselines")
        assert "Hãy thêm cơ sở trước" in baselines.text
        dashboard = await client.get("/enterprise")
        assert 'id="todo-facility"' in dashboard.text and "Doanh nghiệp chưa có hồ sơ nào" in dashboard.text
        profile = await client.get("/enterprise/profile")
        assert profile.status_code == 200 and "chưa có trong cơ sở dữ liệu" in profile.text
        assert (await client.get("/enterprise/profile/edit")).status_code == 404
        for page in (facilities, baselines, dashboard, profile):
            assert not re.search(r"<script(?![^>]*\bsrc=)[^>]*>", page.text)
            assert " style=" not in page.text and "<style" not in page.text


async def test_dashboard_shows_each_group_with_status_tags_and_dossier_codes(make_client, log_in) -> None:  # noqa: ANN001
    async with make_client(registry_stub(APPLICATIONS)) as client:
        await log_in(client, **ENT_MOI)
        page = await client.get("/enterprise")
    assert page.status_code == 200
    drafts = re.search(r'id="todo-drafts">(.*?)</div>', page.text, re.S).group(1)
    assert "Lò cảm ứng" in drafts and "Còn thiếu 2 mục" in drafts and "Bản nháp" in drafts
    documents = re.search(r'id="todo-documents_missing">(.*?)</div>', page.text, re.S).group(1)
    assert "Thu hồi nhiệt" in documents and "000.00.01.H26-261201-0001" in documents
    completion = re.search(r'id="todo-completion">(.*?)</div>', page.text, re.S).group(1)
    assert "Biến tần" in completion and 'href="/enterprise/applications/a3"' in completion
    assert "Đang thẩm định" in page.text  # listed with the others, not as a task
    assert "Đang thẩm định" not in "".join(re.findall(r'class="todo-group".*?</div>', page.text, re.S))
