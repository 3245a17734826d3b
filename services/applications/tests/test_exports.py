"""Exports (issue #14): CSV and XLSX of the filtered applications list and of its tranches equal the JSON list
(same filters, same access rules), Vietnamese headers (English on request), typed XLSX cells, streamed pages;
and the dossier ZIP with every document whose SHA-256 matches the stored one."""

from __future__ import annotations

import csv
import datetime as dt
import hashlib
import io
import json
import zipfile
from typing import Any

import httpx
from applications_helpers import Actors, World, assert_problem
from openpyxl import load_workbook

from cleanprod_applications.exports.columns import APPLICATION_COLUMNS

PDF = b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n1 0 obj\n<< /Type /Catalog >>\nendobj\ntrailer\n<< /Root 1 0 R >>\n%%EOF\n"
PNG = bytes.fromhex("89504e470d0a1a0a0000000d49484452000000010000000108060000001f15c489") + b"\x00" * 64


async def _json_list(client: httpx.AsyncClient, headers: dict[str, str], **params: Any) -> list[dict[str, Any]]:
    items: list[dict[str, Any]] = []
    cursor = None
    while True:
        page = (
            await client.get(
                "/api/v1/applications",
                headers=headers,
                params={**params, "limit": 200, **({"cursor": cursor} if cursor else {})},
            )
        ).json()
        items += page["items"]
        if not (cursor := page["next_cursor"]):
            return items


def _csv_rows(response: httpx.Response) -> list[list[str]]:
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith("text/csv")
    assert response.content.startswith("\ufeff".encode())  # BOM, for Excel
    return list(csv.reader(io.StringIO(response.content.decode("utf-8-sig"))))


async def _mixed_call(world: World) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    call = await world.call()
    own = [await world.draft(call=call, title=f"Cải tạo lò hơi số {n} — tiết kiệm than") for n in range(3)]
    own.append(await world.draft(call=call, total_cost_vnd=4_500_000_000, claimed_overall_saving_pct=7.25))
    other = await world.draft(call=call, enterprise=world.b, facility=world.b.paper_facility)
    return call, [*own, other]


async def test_csv_equals_the_filtered_json_list(client: httpx.AsyncClient, world: World, actors: Actors) -> None:
    call, _ = await _mixed_call(world)
    expected = await _json_list(client, actors.officer(), call_id=call["id"])
    assert len(expected) == 5
    rows = _csv_rows(
        await client.get(
            "/api/v1/applications/export", headers=actors.officer(), params={"format": "csv", "call_id": call["id"]}
        )
    )
    assert rows[0] == [c.vi for c in APPLICATION_COLUMNS] and rows[0][0] == "Mã hồ sơ"
    by_id = {r[-1]: dict(zip([c.key for c in APPLICATION_COLUMNS], r, strict=True)) for r in rows[1:]}
    assert list(by_id) == [a["id"] for a in expected]  # same rows, same order
    for application in expected:
        row = by_id[application["id"]]
        assert row["title"] == application["title"]  # Vietnamese text round-trips
        assert row["enterprise_tax_code"] == application["enterprise_tax_code"]
        assert int(row["total_cost_vnd"]) == application["total_cost_vnd"]
        assert float(row["claimed_overall_saving_pct"]) == application["claimed_overall_saving_pct"]
        assert row["implementation_start"] == application["implementation_start"]
        assert row["status"] == application["status"] and row["dossier_code"] == ""

    english = _csv_rows(
        await client.get(
            "/api/v1/applications/export",
            params={"call_id": call["id"]},
            headers={**actors.officer(), "Accept-Language": "en"},
        )
    )
    assert english[0][:2] == ["Dossier code", "Project title"] and len(english) == 6


async def test_xlsx_has_typed_cells_and_vietnamese_headers(
    client: httpx.AsyncClient, world: World, actors: Actors
) -> None:
    call, _ = await _mixed_call(world)
    expected = await _json_list(client, actors.officer(), call_id=call["id"])
    response = await client.get(
        "/api/v1/applications/export", headers=actors.officer(), params={"format": "xlsx", "call_id": call["id"]}
    )
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith("application/vnd.openxmlformats-officedocument.spreadsheetml")
    assert 'filename="applications.xlsx"' in response.headers["content-disposition"]
    sheet = load_workbook(io.BytesIO(response.content)).active
    values = [[cell.value for cell in row] for row in sheet.iter_rows()]
    assert values[0] == [c.vi for c in APPLICATION_COLUMNS]
    keys = [c.key for c in APPLICATION_COLUMNS]
    rows = [dict(zip(keys, v, strict=True)) for v in values[1:]]
    assert [r["id"] for r in rows] == [a["id"] for a in expected]
    for row, application in zip(rows, expected, strict=True):
        assert row["title"] == application["title"]
        assert isinstance(row["total_cost_vnd"], int) and row["total_cost_vnd"] == application["total_cost_vnd"]
        assert isinstance(row["claimed_overall_saving_pct"], float)
        assert row["claimed_overall_saving_pct"] == application["claimed_overall_saving_pct"]
        assert isinstance(row["implementation_start"], dt.datetime)  # a date cell (openpyxl reads it as datetime)
        assert row["implementation_start"].date().isoformat() == application["implementation_start"]
        assert row["approved_support_vnd"] is None
    date_cell = sheet.cell(row=2, column=keys.index("implementation_start") + 1)
    assert date_cell.is_date and date_cell.number_format == "DD/MM/YYYY"
    assert sheet.cell(row=2, column=keys.index("enterprise_tax_code") + 1).data_type == "s"  # text, zeros kept


async def test_an_enterprise_exports_only_its_own(client: httpx.AsyncClient, world: World, actors: Actors) -> None:
    call, applications = await _mixed_call(world)
    own = _csv_rows(
        await client.get(
            "/api/v1/applications/export", params={"call_id": call["id"]}, headers=actors.enterprise(world.a.tax_code)
        )
    )
    assert sorted(r[-1] for r in own[1:]) == sorted(a["id"] for a in applications[:4])
    # Asking for the other enterprise's dossiers gives an empty file, not theirs.
    cross = _csv_rows(
        await client.get(
            "/api/v1/applications/export",
            headers=actors.enterprise(world.b.tax_code),
            params={"call_id": call["id"], "enterprise_id": world.a.id},
        )
    )
    assert cross[1:] == []
    xlsx = await client.get(
        "/api/v1/applications/export",
        headers=actors.enterprise(world.b.tax_code),
        params={"call_id": call["id"], "enterprise_id": world.a.id, "format": "xlsx"},
    )
    assert load_workbook(io.BytesIO(xlsx.content)).active.max_row == 1  # the header only
    assert_problem(await client.get("/api/v1/applications/export", headers=actors.egov), 403)
    bad = await client.get("/api/v1/applications/export", headers=actors.officer(), params={"format": "pdf"})
    assert assert_problem(bad, 422)["errors"][0]["field"] == "query.format"


async def test_a_few_hundred_rows_stream_page_by_page(client: httpx.AsyncClient, world: World, actors: Actors) -> None:
    call = await world.call()
    created = {
        (await world.draft(call=call, title=f"Dự án số {n:03d} — thu hồi nhiệt thải"))["id"] for n in range(230)
    }  # more than one page of 200
    async with client.stream(
        "GET", "/api/v1/applications/export", headers=actors.officer(), params={"call_id": call["id"]}
    ) as response:
        assert response.status_code == 200 and "content-length" not in response.headers
        body = b"".join([chunk async for chunk in response.aiter_bytes()])
    rows = list(csv.reader(io.StringIO(body.decode("utf-8-sig"))))
    assert len(rows) == 231 and {r[-1] for r in rows[1:]} == created
    sheet = load_workbook(
        io.BytesIO(
            (
                await client.get(
                    "/api/v1/applications/export",
                    headers=actors.officer(),
                    params={"call_id": call["id"], "format": "xlsx"},
                )
            ).content
        )
    )
    assert sheet.active.max_row == 231


async def test_tranches_export_lists_each_tranche(client: httpx.AsyncClient, world: World, actors: Actors) -> None:
    approved = await world.approved()
    response = await client.get(
        "/api/v1/applications/tranches/export",
        headers=actors.officer(),
        params={"format": "xlsx", "dossier_code": approved["dossier_code"]},
    )
    assert response.status_code == 200, response.text
    values = [[c.value for c in row] for row in load_workbook(io.BytesIO(response.content)).active.iter_rows()]
    assert values[0][:2] == ["Mã hồ sơ", "Doanh nghiệp"]
    assert [(v[5], v[7]) for v in values[1:]] == [(t["kind"], t["planned_vnd"]) for t in approved["tranches"]]
    assert all(isinstance(v[7], int) for v in values[1:])


async def test_dossier_zip_holds_everything_with_matching_digests(
    client: httpx.AsyncClient, world: World, actors: Actors
) -> None:
    approved = await world.approved()
    uploads = [("Báo cáo khả thi — lò cảm ứng.pdf", PDF), ("Sơ đồ công nghệ.png", PNG)]
    for name, content in uploads:
        response = await client.post(
            f"/api/v1/applications/{approved['id']}/documents",
            files={"file": (name, content, "application/octet-stream")},
            headers=world.owner(approved),
        )
        assert response.status_code == 201, response.text
    stored = (await client.get(f"/api/v1/applications/{approved['id']}/documents", headers=actors.officer())).json()
    response = await client.get(f"/api/v1/applications/{approved['id']}/dossier.zip", headers=actors.auditor)
    assert response.status_code == 200, response.text
    assert response.headers["content-type"] == "application/zip"
    archive = zipfile.ZipFile(io.BytesIO(response.content))
    manifest = json.loads(archive.read("manifest.json"))
    assert manifest["dossier_code"] == approved["dossier_code"]
    documents = [f for f in manifest["files"] if f.get("document_id")]
    assert len(documents) == len(stored["items"]) == 2
    for entry in documents:
        meta = next(d for d in stored["items"] if d["id"] == entry["document_id"])
        content = archive.read(entry["path"])
        assert hashlib.sha256(content).hexdigest() == entry["sha256"] == entry["stored_sha256"] == meta["sha256"]
        assert entry["matches_stored"] is True and entry["filename"] == meta["filename"]
        assert content == dict(uploads)[meta["filename"]]  # the original bytes, under the original name
    for entry in manifest["files"]:
        assert hashlib.sha256(archive.read(entry["path"])).hexdigest() == entry["sha256"]
    assert {"application.json", "history.json", "reviews.json", "decision.json", "tranches.json"} <= set(
        archive.namelist()
    )
    application = json.loads(archive.read("application.json"))
    assert application["id"] == approved["id"] and application["title"] == approved["title"]
    history = json.loads(archive.read("history.json"))
    assert [e["action"] for e in history][:2] == ["create", "submit"]
    assert len(json.loads(archive.read("reviews.json"))) == 2
    decision = json.loads(archive.read("decision.json"))
    assert decision["approved_support_vnd"] == approved["approved_support_vnd"]
    assert [e["action"] for e in decision["entries"]] == ["decide_approve"]
    assert json.loads(archive.read("tranches.json")) == approved["tranches"]
    # No verification service answers in these tests: the manifest says so instead of failing.
    assert manifest["verification"]["status"] in {"no_case", "unavailable"} and manifest["verification"]["note"]

    for headers in (world.owner(approved), actors.reviewer(1)):
        assert_problem(await client.get(f"/api/v1/applications/{approved['id']}/dossier.zip", headers=headers), 403)
