"""The document upload passes the file on as it arrives: the browser's multipart body is parsed in pieces, the CSRF
token (the first field, or the htmx header) is checked before anything reaches the API, and the API receives a
multipart body with the kind and the file, byte for byte. (The real API's type and size rules: tests/e2e.)"""

from __future__ import annotations

import hashlib
from collections.abc import AsyncIterator, Iterator
from typing import Any

import pytest
from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse

APP_ID = "01a230ee-a3a8-7c30-873f-d75e9b354d3d"
BOUNDARY = "----browser-boundary-7MA4YWxkTrZu0gW"
CONTENT = b"%PDF-1.4\n" + bytes(range(256)) * 300 + b"\r\n--not-a-boundary\r\n%%EOF\n"  # CR/LF and dashes inside


def gateway(received: list[dict[str, Any]]) -> FastAPI:
    app = FastAPI()

    @app.post(f"/api/v1/applications/{APP_ID}/documents")
    async def upload(request: Request) -> JSONResponse:
        form = await request.form()
        upload = form["file"]
        received.append(
            {
                "kind": form.get("kind"),
                "filename": upload.filename,
                "content": await upload.read(),
                "content_type": upload.headers.get("content-type"),
                "fields": sorted(form.keys()),
                "authorization": request.headers.get("authorization"),
            }
        )
        return JSONResponse({"id": "d1"}, status_code=201)

    @app.get(f"/api/v1/applications/{APP_ID}")
    async def application() -> dict:
        return {
            "id": APP_ID,
            "status": "draft",
            "title": "Lò cảm ứng",
            "facility_name": "Nhà máy Nội Bài",
            "version": 3,
        }

    @app.get(f"/api/v1/applications/{APP_ID}/documents")
    async def documents() -> dict:
        return {"items": [], "next_cursor": None}

    return app


def body(fields: list[tuple[str, str]], file_first: bool = False) -> bytes:
    parts = [
        f'--{BOUNDARY}\r\nContent-Disposition: form-data; name="{name}"\r\n\r\n{value}\r\n'.encode()
        for name, value in fields
    ]
    file_part = (
        (
            f'--{BOUNDARY}\r\nContent-Disposition: form-data; name="file"; '
            f'filename="Báo cáo khả thi.pdf"\r\nContent-Type: application/pdf\r\n\r\n'
        ).encode()
        + CONTENT
        + b"\r\n"
    )
    parts = [file_part, *parts] if file_first else [*parts, file_part]
    return b"".join(parts) + f"--{BOUNDARY}--\r\n".encode()


def pieces(data: bytes, size: int) -> Iterator[bytes]:
    for start in range(0, len(data), size):
        yield data[start : start + size]


async def stream(data: bytes, size: int) -> AsyncIterator[bytes]:
    for piece in pieces(data, size):
        yield piece


@pytest.fixture
async def logged_in(make_client, log_in):  # noqa: ANN201 - (client, csrf token, what the gateway received)
    received: list[dict[str, Any]] = []
    async with make_client(gateway(received)) as client:
        store = client.app.state.portal.sessions
        session = await log_in(client, access_token="the-access-token")
        yield client, session.csrf_token, received
        await store.delete(session)


HEADERS = {"content-type": f"multipart/form-data; boundary={BOUNDARY}"}
PATH = f"/enterprise/applications/{APP_ID}/documents"


@pytest.mark.parametrize("size", [1, 7, 4096, 1 << 20])
async def test_the_file_reaches_the_api_byte_for_byte_whatever_the_pieces(logged_in, size: int) -> None:
    client, csrf, received = logged_in
    data = body([("csrf_token", csrf), ("kind", "feasibility_study")])
    answer = await client.post(PATH, content=stream(data, size), headers=HEADERS)
    assert answer.status_code == 303, answer.text
    (got,) = received
    assert hashlib.sha256(got["content"]).digest() == hashlib.sha256(CONTENT).digest()
    assert got["filename"] == "Báo cáo khả thi.pdf" and got["kind"] == "feasibility_study"
    assert got["content_type"] == "application/pdf" and got["fields"] == ["file", "kind"]  # the token stays here
    assert got["authorization"] == "Bearer the-access-token"


async def test_the_htmx_header_carries_the_token_too(logged_in) -> None:
    client, csrf, received = logged_in
    answer = await client.post(PATH, content=body([("kind", "quotation")]), headers={**HEADERS, "X-CSRF-Token": csrf})
    assert answer.status_code == 303 and received[0]["kind"] == "quotation"


@pytest.mark.parametrize(
    "fields,file_first",
    [
        ([("kind", "other")], False),  # no token
        ([("csrf_token", "forged"), ("kind", "other")], False),  # a wrong one
        ([("csrf_token", "<the token>"), ("kind", "other")], True),  # the token after the file: too late
    ],
)
async def test_without_the_token_first_nothing_reaches_the_api(logged_in, fields, file_first: bool) -> None:
    client, csrf, received = logged_in
    fields = [(name, csrf if value == "<the token>" else value) for name, value in fields]
    answer = await client.post(PATH, content=body(fields, file_first), headers=HEADERS)
    assert answer.status_code == 403
    assert received == []


async def test_a_form_without_a_file_asks_for_one(logged_in) -> None:
    client, csrf, received = logged_in
    data = (
        f'--{BOUNDARY}\r\nContent-Disposition: form-data; name="csrf_token"\r\n\r\n{csrf}\r\n--{BOUNDARY}--\r\n'
    ).encode()
    answer = await client.post(PATH, content=data, headers=HEADERS)
    assert answer.status_code == 422 and "Hãy chọn tệp để tải lên" in answer.text
    assert received == []


# ---- the verifier's evidence: the same relay (kind measurement_evidence, file field `evidence_file`) ------------
CASE_ID = "01a230ee-b1b1-7c30-873f-d75e9b354d3d"
EVIDENCE_PATH = f"/verify/{CASE_ID}/evidence"


def verification_gateway(received: list[dict[str, Any]]) -> FastAPI:
    app = gateway(received)

    @app.get(f"/api/v1/verifications/{CASE_ID}")
    async def case() -> dict:
        return {"id": CASE_ID, "application_id": APP_ID, "status": "measuring", "version": 4}

    @app.get(f"/api/v1/verifications/{CASE_ID}/assignment")
    async def assignment() -> dict:
        return {"current": {"verifier_subject": "sub-verifier", "status": "accepted"}}

    return app


@pytest.fixture
async def verifier_logged_in(make_client, log_in):  # noqa: ANN201 - (client, csrf token, what the gateway received)
    received: list[dict[str, Any]] = []
    async with make_client(verification_gateway(received)) as client:
        store = client.app.state.portal.sessions
        session = await log_in(
            client, access_token="the-verifier-token", subject="sub-verifier", username="verifier1", roles=["verifier"]
        )
        yield client, session.csrf_token, received
        await store.delete(session)


def evidence_body(fields: list[tuple[str, str]]) -> bytes:
    return body(fields).replace(b'name="file"', b'name="evidence_file"')


@pytest.mark.parametrize("size", [7, 1 << 20])
async def test_the_verifiers_evidence_goes_through_the_same_relay(verifier_logged_in, size: int) -> None:
    client, csrf, received = verifier_logged_in
    data = evidence_body([("csrf_token", csrf), ("kind", "contract")])  # a kind typed in the form is not used
    answer = await client.post(EVIDENCE_PATH, content=stream(data, size), headers=HEADERS)
    assert answer.status_code == 303, answer.text
    assert answer.headers["location"] == f"/verify/{CASE_ID}/measurements?evidence=d1#evidence-heading"
    (got,) = received
    assert hashlib.sha256(got["content"]).digest() == hashlib.sha256(CONTENT).digest()
    assert got["kind"] == "measurement_evidence" and got["filename"] == "Báo cáo khả thi.pdf"
    assert got["fields"] == ["file", "kind"] and got["authorization"] == "Bearer the-verifier-token"


async def test_the_verifiers_evidence_without_the_token_reaches_nothing(verifier_logged_in) -> None:
    client, _csrf, received = verifier_logged_in
    answer = await client.post(EVIDENCE_PATH, content=evidence_body([("csrf_token", "forged")]), headers=HEADERS)
    assert answer.status_code == 403 and received == []
