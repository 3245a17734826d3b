"""Issue #14's API through the real gateway with real Keycloak tokens: bulk reviewer assignment, draft review,
exports (CSV/XLSX streamed through the gateway, equal to the JSON list, typed, Vietnamese headers; another
enterprise's rows never exported) and the dossier ZIP with the verification service's report fetched by the
applications service."""

from __future__ import annotations

import csv
import hashlib
import io
import json
import zipfile
from typing import Any

import httpx
from e2e_helpers import HANOISTEEL, THANGLONG, Api, if_match, minimal_pdf, poll
from openpyxl import load_workbook


def _csv(response: httpx.Response) -> list[list[str]]:
    assert response.status_code == 200, response.text
    return list(csv.reader(io.StringIO(response.content.decode("utf-8-sig"))))


def test_bulk_assignment_draft_review_and_exports(api: Api) -> None:
    call = api.call()
    first, second = api.submitted(call), api.submitted(call, THANGLONG)
    body = {
        "assignments": [
            {"application_id": a["id"], "reviewer_subject": api.subject(r), "reviewer_username": r}
            for a in (first, second)
            for r in ("reviewer1", "reviewer2")
        ]
        + [
            {
                "application_id": first["id"],
                "reviewer_subject": api.subject("reviewer1"),
                "reviewer_username": "reviewer1",
            }
        ]
    }
    bulk = api.client.post(
        "/api/v1/applications/bulk-assignments",
        json=body,
        headers={**api.h("officer1"), "Accept-Language": "vi", "Idempotency-Key": f"e2e-{first['id']}"},
    )
    assert bulk.status_code == 207, bulk.text
    assert [r["status"] for r in bulk.json()["results"]] == [201, 201, 201, 201, 409]
    assert bulk.json()["results"][4]["problem"]["code"] == "reviewer_already_assigned"
    forged = api.client.post("/api/v1/applications/bulk-assignments", json=body, headers=api.h("auditor1"))
    assert forged.status_code == 403

    # reviewer1 saves a draft, comes back and submits it.
    url = f"/api/v1/applications/{first['id']}/reviews/draft"
    assert api.declare(first, "reviewer1").status_code == 201
    saved = api.client.put(url, json={"scores": [{"criterion": "tech", "score": 8}]}, headers=api.h("reviewer1"))
    assert saved.status_code == 201, saved.text
    again = api.client.put(
        url,
        headers=if_match(api.h("reviewer1"), 1),
        json={
            "scores": [{"criterion": "tech", "score": 8}, {"criterion": "saving", "score": 4}],
            "recommendation": "approve",
            "comment": "Hồ sơ đầy đủ, công nghệ phù hợp.",
        },
    )
    assert again.status_code == 200 and again.json()["missing"] == []
    assert api.client.get(url, headers=api.h("officer1")).status_code == 403
    submitted = api.client.post(f"{url}/submit", headers=if_match(api.h("reviewer1"), 2))
    assert submitted.status_code == 201 and submitted.json()["score_pct"] == 80.0

    # Exports through the gateway equal the JSON list.
    listed = api.client.get("/api/v1/applications", params={"call_id": call["id"]}, headers=api.h("officer1")).json()
    rows = _csv(
        api.client.get("/api/v1/applications/export", params={"call_id": call["id"]}, headers=api.h("officer1"))
    )
    assert rows[0][0] == "Mã hồ sơ" and [r[0] for r in rows[1:]] == [a["dossier_code"] for a in listed["items"]]
    xlsx = api.client.get(
        "/api/v1/applications/export",
        params={"call_id": call["id"], "format": "xlsx"},
        headers={**api.h("auditor1"), "Accept-Language": "en"},
    )
    assert xlsx.status_code == 200, xlsx.text
    values = list(load_workbook(io.BytesIO(xlsx.content)).active.iter_rows(values_only=True))
    assert values[0][0] == "Dossier code" and len(values) == 3
    assert {v[0]: v[7] for v in values[1:]} == {a["dossier_code"]: a["total_cost_vnd"] for a in listed["items"]}
    own = _csv(api.client.get("/api/v1/applications/export", params={"call_id": call["id"]}, headers=api.h(HANOISTEEL)))
    assert [r[0] for r in own[1:]] == [first["dossier_code"]]  # never Thăng Long's dossier
    with api.client.stream("GET", "/api/v1/facilities/export", headers=api.h(THANGLONG)) as response:
        assert response.status_code == 200 and response.headers["content-type"].startswith("text/csv")
        facilities = b"".join(response.iter_bytes()).decode("utf-8-sig")
    assert "0101243150" in facilities and "0100109106" not in facilities


def test_dossier_zip_with_the_verification_report(api: Api) -> None:
    call = api.call()
    approved = api.approved(call)
    upload = api.client.post(
        f"/api/v1/applications/{approved['id']}/documents",
        files={"file": ("Báo cáo kiểm toán năng lượng.pdf", minimal_pdf(), "application/pdf")},
        headers=api.h(HANOISTEEL),
    )
    assert upload.status_code == 201, upload.text

    def opened() -> list[dict[str, Any]] | None:
        page = api.client.get(
            "/api/v1/verifications", params={"application_id": approved["id"]}, headers=api.h("officer1")
        ).json()
        return page["items"] or None

    poll(opened, timeout=30, what="the verification case")
    response = api.client.get(f"/api/v1/applications/{approved['id']}/dossier.zip", headers=api.h("auditor1"))
    assert response.status_code == 200, response.text
    archive = zipfile.ZipFile(io.BytesIO(response.content))
    manifest = json.loads(archive.read("manifest.json"))
    [document] = [f for f in manifest["files"] if f.get("document_id")]
    assert document["sha256"] == document["stored_sha256"] == upload.json()["sha256"]
    assert hashlib.sha256(archive.read(document["path"])).hexdigest() == upload.json()["sha256"]
    assert manifest["verification"]["status"] == "included"
    assert json.loads(archive.read("verification/case.json"))["application_id"] == approved["id"]
    assert "verification/report.html" in archive.namelist() or manifest["verification"]["note"]
    assert (
        api.client.get(f"/api/v1/applications/{approved['id']}/dossier.zip", headers=api.h(HANOISTEEL)).status_code
        == 403
    )
