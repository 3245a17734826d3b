"""Handbooks library (issue #14): officers create a handbook (vi/en titles, sector) and publish PDF versions (type
by content, size limit, SHA-256); anyone lists the published ones by sector and downloads each version; nobody
but officers writes."""

from __future__ import annotations

import hashlib
import uuid

import httpx
from applications_helpers import Actors, assert_problem

from cleanprod_applications.config import ApplicationsSettings

PDF = b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n1 0 obj\n<< /Type /Catalog >>\nendobj\ntrailer\n<< /Root 1 0 R >>\n%%EOF\n"
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64


async def _handbook(client: httpx.AsyncClient, actors: Actors, sector: str) -> dict:
    response = await client.post(
        "/api/v1/handbooks",
        headers=actors.officer(),
        json={
            "sector_code": sector,
            "title_vi": "Sổ tay sản xuất sạch hơn ngành thép",
            "title_en": "Cleaner production handbook for steelmaking",
        },
    )
    assert response.status_code == 201, response.text
    return response.json()


async def _upload(
    client: httpx.AsyncClient,
    headers: dict,
    handbook_id: str,
    name: str,
    content: bytes,
    content_type: str = "application/pdf",
) -> httpx.Response:
    return await client.post(
        f"/api/v1/handbooks/{handbook_id}/versions", headers=headers, files={"file": (name, content, content_type)}
    )


async def test_an_officer_publishes_versions_that_anyone_lists_and_downloads(
    client: httpx.AsyncClient, actors: Actors
) -> None:
    sector = f"steel-{uuid.uuid4().hex[:6]}"
    handbook = await _handbook(client, actors, sector)
    public = (await client.get("/api/v1/public/handbooks", params={"sector": sector})).json()
    assert public["items"] == []  # no file yet: not public

    first = await _upload(client, actors.officer(), handbook["id"], "So tay thep 2026.pdf", PDF)
    assert first.status_code == 201, first.text
    second_bytes = PDF + b"% phien ban 2\n"
    second = await _upload(client, actors.officer(), handbook["id"], "Sổ tay thép – bản 2.pdf", second_bytes)
    assert second.status_code == 201, second.text

    listed = (await client.get("/api/v1/public/handbooks", params={"sector": sector})).json()["items"]
    [shown] = listed
    assert (shown["title_vi"], shown["title_en"]) == (
        "Sổ tay sản xuất sạch hơn ngành thép",
        "Cleaner production handbook for steelmaking",
    )
    assert shown["latest_version"] == 2 and [v["number"] for v in shown["versions"]] == [2, 1]
    assert shown["versions"][0]["sha256"] == hashlib.sha256(second_bytes).hexdigest()
    assert shown["versions"][0]["filename"] == "Sổ tay thép – bản 2.pdf"
    for version, content in ((1, PDF), (2, second_bytes)):
        download = await client.get(f"/api/v1/public/handbooks/{handbook['id']}/versions/{version}")
        assert download.status_code == 200 and download.content == content
        assert download.headers["content-type"] == "application/pdf"
    assert (await client.get(f"/api/v1/public/handbooks/{handbook['id']}/versions/3")).status_code == 404
    history = (
        await client.get("/api/v1/audit/applications", params={"entity_id": handbook["id"]}, headers=actors.auditor)
    ).json()["items"]
    assert [e["action"] for e in history] == ["publish_version", "publish_version", "create"]


async def test_only_pdfs_within_the_limit_and_only_officers(
    client: httpx.AsyncClient, actors: Actors, settings: ApplicationsSettings
) -> None:
    handbook = await _handbook(client, actors, "beer")
    png = await _upload(client, actors.officer(), handbook["id"], "bia.png", PNG, "image/png")
    assert assert_problem(png, 415)["code"] == "handbook_not_pdf"
    disguised = await _upload(client, actors.officer(), handbook["id"], "bia.pdf", PNG)
    assert disguised.status_code == 415
    too_big = await _upload(
        client, actors.officer(), handbook["id"], "lon.pdf", PDF + b"0" * (settings.max_document_bytes + 1)
    )
    assert too_big.status_code == 413
    for headers in (actors.auditor, actors.reviewer(), actors.enterprise("0100109106")):
        assert (await _upload(client, headers, handbook["id"], "a.pdf", PDF)).status_code == 403
        assert (
            await client.post(
                "/api/v1/handbooks", headers=headers, json={"sector_code": "beer", "title_vi": "x", "title_en": "x"}
            )
        ).status_code == 403
    missing = await _upload(client, actors.officer(), str(uuid.uuid4()), "a.pdf", PDF)
    assert assert_problem(missing, 404)["code"] == "handbook_not_found"
    bad = await client.post("/api/v1/handbooks", headers=actors.officer(), json={"sector_code": "beer", "title_vi": ""})
    assert bad.status_code == 422
    fields = {e["field"] for e in bad.json()["errors"]}
    assert {"title_vi", "title_en"} <= fields
