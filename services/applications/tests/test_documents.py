"""Attachments: streamed upload with a size limit, type checked by content, download only for readers."""

from __future__ import annotations

import hashlib
import io
import zipfile

import httpx
import pytest
from applications_helpers import MAX_DOCUMENT_BYTES, Actors, World, assert_problem
from sqlalchemy import text

PDF = b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n1 0 obj\n<< /Type /Catalog >>\nendobj\ntrailer\n<< /Root 1 0 R >>\n%%EOF\n"
PNG = bytes.fromhex("89504e470d0a1a0a0000000d49484452000000010000000108060000001f15c489") + b"\x00" * 64
JPEG = bytes.fromhex("ffd8ffe000104a46494600010100000100010000") + b"\x00" * 64
EXE = b"MZ\x90\x00\x03\x00\x00\x00\x04\x00\x00\x00\xff\xff\x00\x00" + b"\x00" * 48 + b"PE\x00\x00" + b"\x00" * 200

WORD_TYPES = (
    '<?xml version="1.0"?><Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
    '<Override PartName="/word/document.xml" ContentType="application/vnd.openxmlformats-officedocument.'
    'wordprocessingml.document.main+xml"/></Types>'
)
EXCEL_TYPES = (
    '<?xml version="1.0"?><Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
    '<Override PartName="/xl/workbook.xml" ContentType="application/vnd.openxmlformats-officedocument.'
    'spreadsheetml.sheet.main+xml"/></Types>'
)


def zipped(parts: dict[str, str]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, text in parts.items():
            archive.writestr(name, text)
    return buffer.getvalue()


DOCX = zipped({"[Content_Types].xml": WORD_TYPES, "word/document.xml": "<w:document/>"})
XLSX = zipped({"[Content_Types].xml": EXCEL_TYPES, "xl/workbook.xml": "<workbook/>"})
DOCM = zipped(
    {
        "[Content_Types].xml": WORD_TYPES.replace("document.main+xml", "document.macroEnabled.main+xml"),
        "word/document.xml": "<w:document/>",
        "word/vbaProject.bin": "evil",
    }
)
PLAIN_ZIP = zipped({"readme.txt": "not an office file"})


async def upload(
    client: httpx.AsyncClient,
    application: dict,
    headers: dict[str, str],
    name: str,
    content: bytes,
    content_type: str = "application/octet-stream",
    kind: str | None = None,
    extra: dict[str, str] | None = None,
) -> httpx.Response:
    data = {"kind": kind} if kind else {}
    return await client.post(
        f"/api/v1/applications/{application['id']}/documents",
        data=data,
        files={"file": (name, content, content_type)},
        headers={**headers, **(extra or {})},
    )


@pytest.mark.parametrize(
    ("name", "content", "media_type"),
    [
        ("Báo cáo khả thi.pdf", PDF, "application/pdf"),
        ("so-do.png", PNG, "image/png"),
        ("anh-hien-truong.jpg", JPEG, "image/jpeg"),
        ("thuyet-minh.docx", DOCX, "application/vnd.openxmlformats-officedocument.wordprocessingml.document"),
        ("du-toan.xlsx", XLSX, "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"),
    ],
)
async def test_allowed_types_round_trip(
    client: httpx.AsyncClient, world: World, actors: Actors, name: str, content: bytes, media_type: str
) -> None:
    draft = await world.draft()
    response = await upload(client, draft, world.owner(draft), name, content, kind="feasibility_study")
    assert response.status_code == 201, response.text
    document = response.json()
    assert document["media_type"] == media_type and document["size_bytes"] == len(content)
    assert document["sha256"] == hashlib.sha256(content).hexdigest() and document["filename"] == name
    download = await client.get(document["download_url"], headers=actors.auditor)
    assert download.status_code == 200 and download.content == content
    assert download.headers["content-type"].startswith(media_type)
    assert download.headers["x-content-type-options"] == "nosniff"
    assert "attachment" in download.headers["content-disposition"]
    # The document names every type a download can have (Schemathesis: the answered Content-Type is documented).
    openapi = (await client.get("/openapi.json")).json()
    documented = openapi["paths"]["/api/v1/applications/{application_id}/documents/{document_id}"]["get"]
    assert media_type in documented["responses"]["200"]["content"]
    listed = await client.get(f"/api/v1/applications/{draft['id']}/documents", headers=world.owner(draft))
    assert [d["id"] for d in listed.json()["items"]] == [document["id"]]


async def test_other_enterprise_gets_404(client: httpx.AsyncClient, world: World, actors: Actors) -> None:
    draft = await world.draft()
    document = (await upload(client, draft, world.owner(draft), "a.pdf", PDF)).json()
    stranger = actors.enterprise(world.b.tax_code)
    assert_problem(await client.get(document["download_url"], headers=stranger), 404)
    assert_problem(await client.get(f"/api/v1/applications/{draft['id']}/documents", headers=stranger), 404)
    assert_problem(await upload(client, draft, stranger, "b.pdf", PDF), 404)
    other = await world.draft(enterprise=world.b)
    wrong_parent = document["download_url"].replace(draft["id"], other["id"])
    assert_problem(await client.get(wrong_parent, headers=world.owner(other)), 404)


async def test_too_large_is_413(client: httpx.AsyncClient, world: World) -> None:
    draft = await world.draft()
    big = PDF + b"0" * MAX_DOCUMENT_BYTES
    assert_problem(await upload(client, draft, world.owner(draft), "big.pdf", big), 413)

    async def chunks():  # no Content-Length: the limit is enforced on the bytes that arrive
        boundary = b"xyzBOUNDARYxyz"
        yield b"--" + boundary + b'\r\nContent-Disposition: form-data; name="file"; filename="big.pdf"\r\n\r\n'
        yield PDF
        for _ in range(40):
            yield b"0" * 32_768
        yield b"\r\n--" + boundary + b"--\r\n"

    streamed = await client.post(
        f"/api/v1/applications/{draft['id']}/documents",
        content=chunks(),
        headers={**world.owner(draft), "Content-Type": "multipart/form-data; boundary=xyzBOUNDARYxyz"},
    )
    assert_problem(streamed, 413)
    exactly = PDF + b"0" * (MAX_DOCUMENT_BYTES - len(PDF))
    assert (await upload(client, draft, world.owner(draft), "fits.pdf", exactly)).status_code == 201


@pytest.mark.parametrize(
    ("name", "content"),
    [
        ("ho-so.pdf", EXE),  # an executable named like a PDF
        ("thuyet-minh.docx", PLAIN_ZIP),  # a ZIP that is not Office Open XML
        ("thuyet-minh.docx", DOCM),  # macro-enabled document
        ("notes.pdf", b"just some text, not a PDF"),
        ("image.pdf", PNG),  # allowed type, but not what its name says
    ],
)
async def test_disguised_or_unknown_content_is_415(
    client: httpx.AsyncClient, world: World, name: str, content: bytes
) -> None:
    draft = await world.draft()
    assert_problem(await upload(client, draft, world.owner(draft), name, content, "application/pdf"), 415)
    listed = await client.get(f"/api/v1/applications/{draft['id']}/documents", headers=world.owner(draft))
    assert listed.json()["items"] == []


async def test_bad_upload_requests(client: httpx.AsyncClient, world: World, actors: Actors) -> None:
    draft = await world.draft()
    url = f"/api/v1/applications/{draft['id']}/documents"
    owner = world.owner(draft)
    assert_problem(await client.post(url, json={"file": "x"}, headers=owner), 415)
    assert_problem(await client.post(url, data={"kind": "other"}, files={"other": ("a.pdf", PDF)}, headers=owner), 422)
    assert_problem(await upload(client, draft, owner, "a.pdf", PDF, kind="love_letter"), 422)
    assert_problem(await upload(client, draft, owner, "empty.pdf", b""), 422)
    assert_problem(
        await client.post(
            url, content=b"--b\r\ngarbage", headers={**owner, "Content-Type": "multipart/form-data; boundary=b"}
        ),
        400,
    )
    assert_problem(await upload(client, draft, actors.auditor, "a.pdf", PDF), 403)
    assert_problem(await upload(client, draft, actors.reviewer(), "a.pdf", PDF), 403)


async def test_dossier_is_frozen_while_under_review(client: httpx.AsyncClient, world: World, actors: Actors) -> None:
    application = await world.submitted()
    assert_problem(
        await upload(client, application, world.owner(application), "a.pdf", PDF), 409, "not-accepting-documents"
    )


async def test_same_content_is_stored_once_and_idempotent_retry(
    client: httpx.AsyncClient, world: World, actors: Actors, settings, app_and_client
) -> None:
    draft = await world.draft()
    content = PDF + b"% unique " + draft["id"].encode()
    headers = {"Idempotency-Key": f"doc-{draft['id']}"}
    first = await upload(client, draft, world.owner(draft), "a.pdf", content, extra=headers)
    again = await upload(client, draft, world.owner(draft), "a.pdf", content, extra=headers)
    assert first.status_code == again.status_code == 201 and first.json()["id"] == again.json()["id"]
    officer_copy = await upload(client, draft, actors.officer(), "b.pdf", content)
    assert officer_copy.status_code == 201
    sha = hashlib.sha256(content).hexdigest()
    blobs = app_and_client[0].state.blob_store
    assert blobs.kind == settings.document_storage == "postgres"  # the tests' (and the dev stack's) default
    assert b"".join([chunk async for chunk in blobs.get(sha)]) == content
    async with app_and_client[0].state.db.engine.connect() as conn:  # stored once: one blob row for the content
        rows = await conn.execute(text("SELECT count(*) FROM document_blobs WHERE sha256 = :s"), {"s": sha})
        assert rows.scalar_one() == 1
    assert list(settings.upload_tmp_dir.iterdir()) == []
    history = (await client.get(f"/api/v1/applications/{draft['id']}/history", headers=world.owner(draft))).json()
    assert [e["action"] for e in history["items"]].count("attach_document") == 2


async def test_download_headers_and_bytes_missing_from_the_store(
    client: httpx.AsyncClient, world: World, actors: Actors, app_and_client, caplog: pytest.LogCaptureFixture
) -> None:
    draft = await world.draft()
    content = PDF + b"% gone " + draft["id"].encode()
    document = (await upload(client, draft, world.owner(draft), "Biên bản.pdf", content)).json()
    download = await client.get(document["download_url"], headers=world.owner(draft))
    sha = hashlib.sha256(content).hexdigest()
    assert download.headers["etag"] == f'"{sha}"' and download.headers["cache-control"] == "private, no-store"
    assert download.headers["repr-digest"].startswith("sha-256=:")
    assert download.content == content and download.headers["content-length"] == str(len(content))
    assert download.headers["content-disposition"] == "attachment; filename*=utf-8''Bi%C3%AAn%20b%E1%BA%A3n.pdf"
    await app_and_client[0].state.blob_store.delete(sha)
    missing = await client.get(document["download_url"], headers=world.owner(draft))
    assert_problem(missing, 404, "content-missing")
    assert any(r.getMessage() == "document content missing from storage" for r in caplog.records)
