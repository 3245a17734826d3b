"""Messages on an application: a thread between officers and the enterprise, shared or internal, with attachments
under the documents' rules. Internal messages and their attachments never reach an enterprise token, through any
endpoint that returns messages or documents (thread, one message, documents list and download, history, the
public and e-gov look-ups, the event feed, the notifications, the dossier ZIP)."""

from __future__ import annotations

import hashlib
import io
import json
import zipfile
from typing import Any

import httpx
from applications_helpers import Actors, World, assert_problem, if_match
from sqlalchemy import text
from sqlalchemy.ext.asyncio import create_async_engine

from cleanprod_applications.config import ApplicationsSettings

PDF = b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n1 0 obj\n<< /Type /Catalog >>\nendobj\ntrailer\n<< /Root 1 0 R >>\n%%EOF\n"
EXE = b"MZ\x90\x00\x03\x00\x00\x00\x04\x00\x00\x00\xff\xff\x00\x00" + b"\x00" * 48 + b"PE\x00\x00" + b"\x00" * 200
SECRET = "Ghi chú nội bộ: nghi ngờ báo giá bị nâng khống"
SECRET_FILE = "Biên bản thẩm định nội bộ.pdf"
INTERNAL_PDF = PDF + b"% internal\n"


def thread(application: dict[str, Any]) -> str:
    return f"/api/v1/applications/{application['id']}/messages"


async def post(
    client: httpx.AsyncClient, application: dict[str, Any], headers: dict[str, str], body: str, visibility: str
) -> dict[str, Any]:
    response = await client.post(thread(application), json={"body": body, "visibility": visibility}, headers=headers)
    assert response.status_code == 201, response.text
    return response.json()


async def attach(
    client: httpx.AsyncClient, message: dict[str, Any], headers: dict[str, str], name: str, content: bytes
) -> httpx.Response:
    return await client.post(
        f"/api/v1/applications/{message['application_id']}/messages/{message['id']}/attachments",
        files={"file": (name, content, "application/octet-stream")},
        headers=headers,
    )


async def test_thread_with_attachments_shared_and_internal(
    client: httpx.AsyncClient, world: World, actors: Actors
) -> None:
    application = await world.submitted()
    owner = world.owner(application)
    officer = actors.officer()
    asked = await post(client, application, officer, "Đề nghị doanh nghiệp gửi bản chụp hóa đơn điện.", "shared")
    assert asked["author_role"] == "officer" and asked["visibility"] == "shared" and asked["attachments"] == []
    note = await post(client, application, officer, SECRET, "internal")
    answer = await post(client, application, owner, "Chúng tôi gửi kèm hóa đơn tháng 10.", "shared")
    assert answer["author_role"] == "enterprise"

    # Attachments: the documents' rules (type by content, SHA-256), at any status, by the message's author only.
    sent = await attach(client, answer, owner, "Hóa đơn điện tháng 10.pdf", PDF)
    assert sent.status_code == 201, sent.text
    document = sent.json()
    assert document["sha256"] == hashlib.sha256(PDF).hexdigest() and document["message_id"] == answer["id"]
    assert assert_problem(await attach(client, answer, owner, "virus.pdf", EXE), 415)
    assert assert_problem(await attach(client, answer, officer, "x.pdf", PDF), 403)["code"] == (
        "message_attachment_forbidden"
    )
    hidden = await attach(client, note, officer, SECRET_FILE, INTERNAL_PDF)
    assert hidden.status_code == 201, hidden.text
    hidden_doc = hidden.json()

    # Officers see the whole thread, oldest first, with the attachments.
    staff_view = (await client.get(thread(application), headers=officer)).json()["items"]
    assert [m["id"] for m in staff_view] == [asked["id"], note["id"], answer["id"]]
    assert [d["id"] for d in staff_view[2]["attachments"]] == [document["id"]]
    assert [d["id"] for d in staff_view[1]["attachments"]] == [hidden_doc["id"]]
    download = await client.get(hidden_doc["download_url"], headers=actors.auditor)
    assert download.status_code == 200 and download.content == INTERNAL_PDF

    # The enterprise sees the shared ones only, and its own attachment among the application's documents.
    own_view = (await client.get(thread(application), headers=owner)).json()["items"]
    assert [m["id"] for m in own_view] == [asked["id"], answer["id"]]
    listed = (await client.get(f"/api/v1/applications/{application['id']}/documents", headers=owner)).json()
    assert [d["id"] for d in listed["items"]] == [document["id"]]

    # Refusals: an enterprise writes no internal message; reviewers and other enterprises do not write here.
    refused = await client.post(thread(application), json={"body": "x", "visibility": "internal"}, headers=owner)
    assert assert_problem(refused, 403)["code"] == "internal_message_forbidden"
    assert assert_problem(await client.post(thread(application), json={"body": "x"}, headers=actors.reviewer()), 403)
    other = await world.new_enterprise("Công ty TNHH Cơ khí Đông Anh")
    stranger = actors.enterprise(other.tax_code)
    assert assert_problem(await client.get(thread(application), headers=stranger), 404)
    empty = await client.post(thread(application), json={"body": "  ", "visibility": "shared"}, headers=owner)
    assert assert_problem(empty, 422)["errors"][0]["field"] == "body"
    unknown = await client.post(thread(application), json={"body": "x", "visibility": "secret"}, headers=officer)
    assert assert_problem(unknown, 422)["errors"][0]["field"] == "visibility"


async def test_internal_never_reaches_an_enterprise_token(
    client: httpx.AsyncClient, world: World, actors: Actors
) -> None:
    """Every endpoint an enterprise token can call that returns messages, documents or what happened to the
    application: no answer carries the internal message, its attachment, or any trace of them."""
    application = await world.submitted()
    owner = world.owner(application)
    officer = actors.officer()
    shared = await post(client, application, officer, "Hồ sơ đã được tiếp nhận đầy đủ.", "shared")
    note = await post(client, application, officer, SECRET, "internal")
    hidden = (await attach(client, note, officer, SECRET_FILE, INTERNAL_PDF)).json()
    base = f"/api/v1/applications/{application['id']}"
    secrets = (SECRET, note["id"], hidden["id"], hidden["sha256"], SECRET_FILE)

    answers: dict[str, httpx.Response] = {}
    for path in (
        base,
        f"{base}/messages",
        f"{base}/documents",
        f"{base}/history",
        f"{base}/supplement-requests",
        "/api/v1/applications",
        f"/api/v1/public/dossiers/{application['dossier_code']}",
        "/api/v1/integrations/events",
        "/api/v1/notifications",
    ):
        answers[path] = await client.get(path, headers=owner)
    assert answers[f"{base}/messages"].status_code == 200
    assert [m["id"] for m in answers[f"{base}/messages"].json()["items"]] == [shared["id"]]
    assert answers[f"{base}/history"].status_code == 200 and answers[f"{base}/documents"].status_code == 200
    told = answers["/api/v1/notifications"]
    assert told.status_code == 200 and "Hồ sơ đã được tiếp nhận đầy đủ." in told.text  # the shared one, told
    # The ones that name the internal things directly are answered as if they did not exist.
    for path in (f"{base}/messages/{note['id']}", f"{base}/documents/{hidden['id']}"):
        answers[path] = await client.get(path, headers=owner)
        assert assert_problem(answers[path], 404)
    attaching = await attach(client, note, owner, "x.pdf", PDF)
    assert assert_problem(attaching, 404)["code"] == "message_not_found"
    answers["attach"] = attaching
    answers["zip"] = await client.get(f"{base}/dossier.zip", headers=owner)
    assert answers["zip"].status_code == 403
    for what, response in answers.items():
        # A 404 repeats the id the caller asked for (it knew it already); nothing else of them is given away.
        for secret in secrets if response.status_code != 404 else secrets[3:] + (SECRET,):
            assert secret not in response.text, (what, secret)
        assert SECRET_FILE.encode() not in response.content and INTERNAL_PDF not in response.content, what

    # ... while the Department's views hold them: history (internal action), documents, and the dossier ZIP.
    history = (await client.get(f"{base}/history", headers=officer)).json()["items"]
    assert {"post_internal_message", "attach_internal_document", "post_message"} <= {e["action"] for e in history}
    archive = zipfile.ZipFile(io.BytesIO((await client.get(f"{base}/dossier.zip", headers=actors.auditor)).content))
    assert [m["id"] for m in json.loads(archive.read("messages.json"))] == [shared["id"], note["id"]]
    assert any(f.get("document_id") == hidden["id"] for f in json.loads(archive.read("manifest.json"))["files"])


async def notifications_of(settings: ApplicationsSettings, application_id: str) -> list[dict[str, Any]]:
    engine = create_async_engine(settings.database_url)
    try:
        async with engine.connect() as connection:
            rows = await connection.execute(
                text(
                    "SELECT kind, recipient_enterprise_id, recipient_role, params, link FROM notifications"
                    " WHERE application_id = :id AND kind IN ('message_received', 'supplement_requested')"
                    " ORDER BY created_at, id"
                ),
                {"id": application_id},
            )
            return [dict(r._mapping) for r in rows]
    finally:
        await engine.dispose()


async def test_shared_messages_and_supplement_requests_notify_internal_ones_do_not(
    client: httpx.AsyncClient, world: World, actors: Actors, settings: ApplicationsSettings
) -> None:
    application = await world.reviewed()
    owner = world.owner(application)
    await post(client, application, actors.officer(), "Đề nghị bổ sung hóa đơn.", "shared")
    await post(client, application, actors.officer(), SECRET, "internal")
    await post(client, application, owner, "Đã gửi hóa đơn.", "shared")
    current = await world.get(application)
    opened = await client.post(
        f"/api/v1/applications/{application['id']}/supplement-requests",
        json={"items": [{"needed": "Báo giá thiết bị"}, {"needed": "Hóa đơn điện tháng 10"}]},
        headers=if_match(actors.officer(), current["version"]),
    )
    assert opened.status_code == 201, opened.text
    rows = await notifications_of(settings, application["id"])
    told = [(r["kind"], str(r["recipient_enterprise_id"] or r["recipient_role"])) for r in rows]
    enterprise_id = current["enterprise_id"]
    assert told == [
        ("message_received", enterprise_id),
        ("message_received", "officer"),
        ("supplement_requested", enterprise_id),
    ]
    assert all(SECRET not in json.dumps(r["params"], ensure_ascii=False) for r in rows)
    assert rows[0]["params"]["excerpt"] == "Đề nghị bổ sung hóa đơn." and rows[0]["params"]["dossier_code"]
    assert rows[0]["link"] == f"/enterprise/applications/{application['id']}#messages"
    assert rows[1]["link"] == f"/officer/applications/{application['id']}/messages"
    assert rows[2]["params"]["items"] == ["Báo giá thiết bị", "Hóa đơn điện tháng 10"]
