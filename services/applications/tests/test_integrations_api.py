"""E-government integration through the applications API, on real PostgreSQL: the dossier look-up for every status,
roles, webhook subscriptions and their owners, forbidden webhook URLs, and the event feed's exactly-once paging."""

from __future__ import annotations

import asyncio
import datetime as dt
import re
import uuid
from typing import Any

import httpx
import pytest
from applications_helpers import Actors, World, assert_problem, call_body, if_match
from fastapi import FastAPI
from sqlalchemy import text

from cleanprod_applications.config import ApplicationsSettings
from cleanprod_applications.domain import ApplicationStatus
from cleanprod_applications.domain.egov_status import MAPPING
from cleanprod_applications.integrations import service as integrations_service
from cleanprod_applications.integrations.dossier import LABELS_VI
from cleanprod_applications.main import create_app
from cleanprod_kit.testing.fixtures import running

API = "/api/v1/integrations"
NATIONAL = re.compile(r"^\d{14}$")
HANOI = dt.timezone(dt.timedelta(hours=7))


def national(value: str) -> dt.datetime:
    return dt.datetime.strptime(value, "%Y%m%d%H%M%S").replace(tzinfo=HANOI)


def egov(actors: Actors, client: str = "egov-demo") -> dict[str, str]:
    return actors.headers("egov", sub=f"service-account-{client}", username=f"service-account-{client}")


async def subscribe(client: httpx.AsyncClient, headers: dict[str, str], url: str, **body: Any) -> httpx.Response:
    return await client.post(f"{API}/webhooks", headers=headers, json={"url": url, **body})


# ---- dossier look-up ----------------------------------------------------------------------------------------------
@pytest.mark.parametrize("status", list(ApplicationStatus))
async def test_dossier_status_for_every_application_state(
    status: ApplicationStatus,
    world: World,
    client: httpx.AsyncClient,
    actors: Actors,
    settings: ApplicationsSettings,
    app_and_client: tuple[FastAPI, httpx.AsyncClient],
) -> None:
    if status is ApplicationStatus.SUBMITTED:
        # Never at rest: screening runs in the submitting transaction. Put a real dossier back into it.
        application = await world.submitted()
        async with app_and_client[0].state.db.session() as session:
            await session.exec(
                text("UPDATE applications SET status = 'submitted' WHERE id = :id").bindparams(  # type: ignore[call-overload]
                    id=uuid.UUID(application["id"])
                )
            )
            await session.commit()
        application = await world.get(application)
    else:
        application = await world.at(str(status))
    expected = MAPPING[status].code
    if application["dossier_code"] is None:
        # Drafts (and drafts withdrawn — the only withdrawal the lifecycle has) never became dossiers.
        assert status in (ApplicationStatus.DRAFT, ApplicationStatus.WITHDRAWN)
        return
    assert expected is not None
    for headers in (egov(actors), actors.officer(), actors.auditor):
        response = await client.get(f"{API}/dossiers/{application['dossier_code']}", headers=headers)
        assert response.status_code == 200, response.text
    dossier = response.json()
    assert dossier["status_code"] == expected.value == application["egov_status"]
    assert dossier["status_name"] == expected.label and dossier["status_label"] == LABELS_VI[expected]
    assert dossier["dossier_code"] == application["dossier_code"]
    assert dossier["applicant_name"] == application["enterprise_name"]
    assert dossier["applicant_tax_code"] == application["enterprise_tax_code"]
    assert dossier["summary"] == application["title"]
    assert dossier["procedure_code"] == settings.procedure_code
    assert dossier["procedure_name"] == settings.procedure_name
    assert dossier["handling_unit"] == settings.handling_unit
    assert dossier["version"] == application["version"]
    received = national(dossier["received_date"])
    assert abs(received - dt.datetime.fromisoformat(application["submitted_at"])) < dt.timedelta(days=1)
    # The look-up reports the application's own due date (none while a supplement is awaited, code 5).
    if application["due_at"] is None:
        assert dossier["due_date"] is None and expected.value == 5
    else:
        due = dt.datetime.fromisoformat(application["due_at"])
        assert national(dossier["due_date"]) == due.replace(microsecond=0)
    decided, returned = dossier["decided_date"], dossier["returned_date"]
    assert (decided is not None) == (expected.value in (3, 9, 10)), dossier
    assert (returned is not None) == (expected.value == 10), dossier
    for value in (decided, returned):
        assert value is None or (NATIONAL.match(value) and national(value) >= received)


async def test_dossier_code_errors(client: httpx.AsyncClient, actors: Actors) -> None:
    for bad in ("not-a-code", "000.00.01.H26-261340-0001", "000.00.01.H26-261128-0000", "000.00.01.h26-261128-0001"):
        body = assert_problem(await client.get(f"{API}/dossiers/{bad}", headers=egov(actors)), 422)
        assert body["errors"][0]["field"] == "path.dossier_code"
    assert_problem(await client.get(f"{API}/dossiers/000.00.01.H26-991231-9999", headers=egov(actors)), 404)


async def test_roles(client: httpx.AsyncClient, actors: Actors, world: World) -> None:
    outsiders = [actors.enterprise(world.a.tax_code), actors.reviewer(), actors.verifier, actors.service]
    requests = [
        ("GET", f"{API}/dossiers/000.00.01.H26-261128-0001", None),
        ("GET", f"{API}/events", None),
        ("GET", f"{API}/webhooks", None),
        ("POST", f"{API}/webhooks", {"url": "http://127.0.0.1:9/x"}),
    ]
    for headers in outsiders:
        for method, url, body in requests:
            assert_problem(await client.request(method, url, headers=headers, json=body), 403)
    # Auditors read, never write; officers do not subscribe (subscriptions belong to egov clients).
    assert (await client.get(f"{API}/events", headers=actors.auditor)).status_code == 200
    assert (await client.get(f"{API}/webhooks", headers=actors.auditor)).status_code == 200
    for headers in (actors.auditor, actors.officer()):
        assert_problem(await subscribe(client, headers, "http://127.0.0.1:9/x"), 403)
    assert_problem(await client.get(f"{API}/events"), 401)


# ---- subscriptions --------------------------------------------------------------------------------------------------
async def test_subscription_belongs_to_its_client(
    client: httpx.AsyncClient, actors: Actors, app_and_client: tuple[FastAPI, httpx.AsyncClient]
) -> None:
    owner, other = egov(actors, "egov-quan-ba-dinh"), egov(actors, "egov-quan-hoan-kiem")
    response = await subscribe(
        client,
        owner,
        "http://127.0.0.1:9/hooks",
        event_types=["application.*"],
        description="Cổng một cửa quận Ba Đình",
    )
    assert response.status_code == 201, response.text
    created = response.json()
    secret = created["secret"]
    assert secret.startswith("whsec_") and response.headers["cache-control"] == "no-store"
    assert response.headers["etag"] == '"1"' and response.headers["location"].endswith(created["id"])
    assert created["owner_subject"] == "service-account-egov-quan-ba-dinh" and created["active"] is True
    url = f"{API}/webhooks/{created['id']}"

    # The secret is never shown again and is not stored in clear.
    read = (await client.get(url, headers=owner)).json()
    assert "secret" not in read and read["id"] == created["id"]
    async with app_and_client[0].state.db.session() as session:
        stored = (
            await session.exec(
                text("SELECT secret_ciphertext FROM webhook_subscriptions WHERE id = :id").bindparams(
                    id=uuid.UUID(created["id"])
                )
            )
        ).scalar_one()  # type: ignore[call-overload]
    assert secret not in stored and secret.removeprefix("whsec_") not in stored and stored.startswith("v1.")

    # Another client sees nothing of it.
    assert_problem(await client.get(url, headers=other), 404)
    assert_problem(await client.patch(url, headers=if_match(other, 1), json={"active": False}), 404)
    assert_problem(await client.delete(url, headers=other), 404)
    assert_problem(await client.get(f"{url}/deliveries", headers=other), 404)
    listed = (await client.get(f"{API}/webhooks", headers=other)).json()["items"]
    assert created["id"] not in {s["id"] for s in listed}
    assert created["id"] in {s["id"] for s in (await client.get(f"{API}/webhooks", headers=owner)).json()["items"]}
    # Officers and auditors see it.
    for staff in (actors.officer(), actors.auditor):
        assert (await client.get(url, headers=staff)).status_code == 200

    # Changes need If-Match; an officer may only pause/resume.
    assert_problem(await client.patch(url, headers=owner, json={"description": "x"}), 428)
    assert_problem(await client.patch(url, headers=if_match(owner, 7), json={"description": "x"}), 412)
    assert_problem(
        await client.patch(url, headers=if_match(actors.officer(), 1), json={"url": "http://127.0.0.1:8/x"}), 403
    )
    response = await client.patch(url, headers=if_match(actors.officer(), 1), json={"active": False})
    assert response.status_code == 200 and response.json()["active"] is False and response.headers["etag"] == '"2"'
    response = await client.patch(
        url, headers=if_match(owner, 2), json={"active": True, "event_types": ["application.approved", "call.*"]}
    )
    assert response.status_code == 200, response.text
    assert response.json()["event_types"] == ["application.approved", "call.*"]
    assert_problem(await client.patch(url, headers=if_match(owner, 3), json={"url": "http://169.254.169.254/"}), 422)
    assert_problem(await client.patch(url, headers=if_match(owner, 3), json={"active": None}), 422)

    history = (await client.get(f"{url}/history", headers=actors.auditor)).json()["items"]
    assert [h["action"] for h in history] == ["create", "update", "update"]
    assert history[1]["actor_role"] == "officer" and history[1]["to_status"] == "paused"
    assert all(secret not in str(h) for h in history)
    # What changed, old → new, in the kit's one shape (issue #14).
    assert history[1]["changes"] == [{"field": "active", "old": True, "new": False}]
    assert {c["field"]: c["new"] for c in history[2]["changes"]} == {
        "active": True,
        "event_types": ["application.approved", "call.*"],
    }

    response = await client.delete(url, headers=if_match(owner, 3))
    assert response.status_code == 204
    assert_problem(await client.get(url, headers=owner), 404)


async def test_subscription_input(client: httpx.AsyncClient, actors: Actors) -> None:
    headers = egov(actors, "egov-input")
    own_secret = "whsec_" + "QUJDREVGR0hJSktMTU5PUFFSU1RVVldYWVo0NTY3ODk="
    response = await subscribe(client, headers, "http://127.0.0.1:9/a", secret=own_secret)
    assert response.status_code == 201 and response.json()["secret"] == own_secret
    for body, field in (
        ({"secret": "plain-password"}, "secret"),
        ({"event_types": ["application.nothing"]}, "event_types"),
        ({"event_types": []}, "event_types"),
        ({"event_types": ["*", "*"]}, "event_types"),
        ({"extra": 1}, "extra"),
        ({"url": ""}, "url"),
    ):
        payload = {"url": "http://127.0.0.1:9/a", **body}
        problem = assert_problem(await client.post(f"{API}/webhooks", headers=headers, json=payload), 422)
        assert problem["errors"][0]["field"].startswith(field), problem
    # Idempotency-Key: the retry gets the first answer, without the secret.
    keyed = {**headers, "Idempotency-Key": str(uuid.uuid4())}
    first = await subscribe(client, keyed, "http://127.0.0.1:9/b")
    again = await subscribe(client, keyed, "http://127.0.0.1:9/b")
    assert first.status_code == again.status_code == 201
    assert again.headers["idempotent-replayed"] == "true"
    assert again.json()["id"] == first.json()["id"] and first.json()["secret"] and again.json()["secret"] is None
    for response in (first, await client.get(f"{API}/webhooks", headers=headers)):
        assert response.status_code in (200, 201)
    for item in (await client.get(f"{API}/webhooks", headers=headers)).json()["items"]:
        assert (await client.delete(f"{API}/webhooks/{item['id']}", headers=headers)).status_code == 204


async def test_subscription_limit(client: httpx.AsyncClient, actors: Actors, settings: ApplicationsSettings) -> None:
    headers = egov(actors, "egov-limit")
    results = await asyncio.gather(
        *(subscribe(client, headers, f"http://127.0.0.1:9/{n}") for n in range(settings.webhook_max_subscriptions + 3))
    )
    assert sorted(r.status_code for r in results).count(201) == settings.webhook_max_subscriptions
    assert {r.status_code for r in results} == {201, 409}
    for item in (await client.get(f"{API}/webhooks", headers=headers, params={"limit": 200})).json()["items"]:
        await client.delete(f"{API}/webhooks/{item['id']}", headers=headers)


@pytest.mark.parametrize(
    ("url", "code"),
    [
        ("http://169.254.169.254/latest/meta-data/iam/", "metadata_address"),
        ("http://[fe80::1]/hook", "link_local_address"),
        ("http://metadata.google.internal/computeMetadata/v1/", "metadata_address"),
        ("https://metadata.google.internal/", "metadata_address"),
        ("http://10.0.0.1/hook", "private_address"),
        ("http://[::ffff:10.0.0.1]/hook", "private_address"),
        ("http://0.0.0.0:8080/hook", "unspecified_address"),
        ("https://no-such-host.invalid/hook", "unresolvable_host"),
        ("file:///etc/passwd", "scheme_not_allowed"),
    ],
)
async def test_forbidden_webhook_urls(url: str, code: str, client: httpx.AsyncClient, actors: Actors) -> None:
    problem = assert_problem(await subscribe(client, egov(actors, "egov-ssrf"), url), 422, "webhook-url-refused")
    assert problem["errors"][0] == {"field": "url", "code": code, "message": problem["errors"][0]["message"]}


async def test_loopback_only_when_settings_allow(
    settings: ApplicationsSettings, actors: Actors, client: httpx.AsyncClient
) -> None:
    headers = egov(actors, "egov-loopback")
    allowed = await subscribe(client, headers, "http://127.0.0.1:9/ok")  # this test app runs as dev
    assert allowed.status_code == 201, allowed.text
    await client.delete(f"{API}/webhooks/{allowed.json()['id']}", headers=headers)
    strict = settings.model_copy(update={"webhook_allow_loopback": False})
    async with running(create_app(strict)) as other:
        for url in ("http://127.0.0.1:9/hook", "http://localhost:9/hook", "http://[::1]:9/hook", "http://127.1:9/hook"):
            problem = assert_problem(await subscribe(other, headers, url), 422, "webhook-url-refused")
            assert problem["errors"][0]["code"] == "loopback_address", (url, problem)
    production = settings.model_copy(
        update={"environment": "production", "webhook_allow_loopback": False, "webhook_secret_key": None}
    )
    async with running(create_app(production)) as other:
        problem = assert_problem(await subscribe(other, headers, "http://hooks.example.vn/x"), 422)
        assert problem["errors"][0]["code"] == "https_required"


# ---- the event feed -------------------------------------------------------------------------------------------------
async def read_feed(
    client: httpx.AsyncClient, headers: dict[str, str], after: str | None, limit: int = 200, **params: Any
) -> tuple[list[dict[str, Any]], str]:
    """Every page until caught up: (items, cursor)."""
    items: list[dict[str, Any]] = []
    while True:
        query = {"limit": limit, **params, **({"after": after} if after else {})}
        response = await client.get(f"{API}/events", headers=headers, params=query)
        assert response.status_code == 200, response.text
        page = response.json()
        items += page["items"]
        after = page["next_cursor"]
        assert after
        if not page["has_more"]:
            return items, after


async def test_feed_pages_exactly_once_while_writers_write(client: httpx.AsyncClient, actors: Actors) -> None:
    headers = egov(actors)
    _, start = await read_feed(client, headers, None)
    officer = actors.officer()
    created: list[str] = []

    async def writer(n: int) -> None:
        for _ in range(n):
            response = await client.post("/api/v1/calls", json=call_body(), headers=officer)
            assert response.status_code == 201, response.text
            created.append(response.json()["id"])
            await asyncio.sleep(0)

    seen: list[dict[str, Any]] = []
    cursor = start
    writers = asyncio.gather(*(writer(8) for _ in range(4)))
    while not writers.done():  # small pages, concurrently with the writers
        response = await client.get(f"{API}/events", headers=headers, params={"after": cursor, "limit": 3})
        page = response.json()
        seen += page["items"]
        cursor = page["next_cursor"]
        await asyncio.sleep(0.005)
    await writers
    rest, _ = await read_feed(client, headers, cursor, limit=5)
    seen += rest
    ids = [e["id"] for e in seen]
    assert len(ids) == len(set(ids)), "an event was served twice"
    call_events = {e["aggregate_id"] for e in seen if e["type"] == "call.created"}
    assert call_events == set(created) and len(created) == 32


async def test_feed_never_skips_a_late_commit_with_a_lower_seq(
    client: httpx.AsyncClient, actors: Actors, app_and_client: tuple[FastAPI, httpx.AsyncClient]
) -> None:
    headers = egov(actors)
    _, start = await read_feed(client, headers, None)
    probe = uuid.uuid4()
    async with app_and_client[0].state.db.engine.connect() as slow:
        transaction = await slow.begin()
        low_seq = (
            await slow.execute(
                text(
                    "INSERT INTO outbox_events (id, event_type, aggregate_type, aggregate_id, payload, occurred_at, attempts) "
                    "VALUES (:id, 'call.updated', 'call', :agg, '{}'::jsonb, now(), 0) RETURNING seq"
                ).bindparams(id=probe, agg=str(uuid.uuid4()))
            )
        ).scalar_one()
        # A younger transaction commits an event with a higher seq while the first one is still open.
        response = await client.post("/api/v1/calls", json=call_body(), headers=actors.officer())
        assert response.status_code == 201
        later_call = response.json()["id"]
        held, cursor = await read_feed(client, headers, start)
        assert str(probe) not in {e["id"] for e in held}
        assert later_call not in {e["aggregate_id"] for e in held}, "served past an open transaction"
        await transaction.commit()
    after_commit, _ = await read_feed(client, headers, cursor)
    order = [e["id"] for e in after_commit]
    later_event = next(e for e in after_commit if e["aggregate_id"] == later_call)
    assert str(probe) in order and order.index(str(probe)) < order.index(later_event["id"])
    probe_event = after_commit[order.index(str(probe))]
    assert probe_event["seq"] == low_seq < later_event["seq"]


async def test_feed_filters_and_hides_drafts(client: httpx.AsyncClient, actors: Actors, world: World) -> None:
    headers = egov(actors)
    _, start = await read_feed(client, headers, None)
    draft = await world.draft()
    await world.act(draft, "withdraw", world.owner(draft))
    submitted = await world.submitted()
    items, _ = await read_feed(client, headers, start)
    assert draft["id"] not in {e["aggregate_id"] for e in items}, "a draft is not a dossier"
    mine = [e for e in items if e["aggregate_id"] == submitted["id"]]
    assert [e["type"] for e in mine] == ["application.submitted", "application.screening_passed"]
    assert [e["data"]["egov_status"] for e in mine] == [1, 4]
    assert all(e["data"]["dossier_code"] == submitted["dossier_code"] for e in mine)
    calls_only, _ = await read_feed(client, headers, start, type=["call.*"])
    assert calls_only and all(e["type"].startswith("call.") for e in calls_only)
    exact, _ = await read_feed(client, headers, start, type=["application.screening_passed", "call.updated"])
    assert {e["type"] for e in exact} <= {"application.screening_passed", "call.updated"}
    assert submitted["id"] in {e["aggregate_id"] for e in exact}
    assert_problem(await client.get(f"{API}/events", headers=headers, params={"type": "applications.*"}), 422)
    assert_problem(await client.get(f"{API}/events", headers=headers, params={"after": "bm90LWEtY3Vyc29y"}), 422)
    assert_problem(await client.get(f"{API}/events", headers=headers, params={"limit": 201}), 422)


async def test_an_empty_filtered_page_moves_the_cursor_past_what_it_scanned(
    client: httpx.AsyncClient, actors: Actors
) -> None:
    """A poller for a rare type (here one this test never causes) must not rescan the stream on every poll."""
    headers = egov(actors)
    rare = {"type": ["application.not_achieved"]}
    _, start = await read_feed(client, headers, None, **rare)
    again, same = await read_feed(client, headers, start, **rare)
    assert again == [] and same == start, "nothing new: the cursor stays"
    response = await client.post("/api/v1/calls", json=call_body(), headers=actors.officer())
    assert response.status_code == 201
    call_id = response.json()["id"]
    empty, moved = await read_feed(client, headers, start, **rare)
    assert empty == [] and moved != start, "the page scanned the new event: its cursor moves past it"
    # Nothing is skipped by moving: the unfiltered feed from the old cursor has the call's event, from the new one not.
    from_start, _ = await read_feed(client, headers, start)
    from_moved, _ = await read_feed(client, headers, moved)
    assert call_id in {e["aggregate_id"] for e in from_start}
    assert call_id not in {e["aggregate_id"] for e in from_moved}
    # And a matching event after the moved cursor is still served.
    response = await client.post("/api/v1/calls", json=call_body(), headers=actors.officer())
    later = response.json()["id"]
    calls, _ = await read_feed(client, headers, moved, type=["call.*"])
    assert later in {e["aggregate_id"] for e in calls}


async def test_a_filtered_page_looks_at_one_window_of_the_stream(
    client: httpx.AsyncClient, actors: Actors, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A page reads at most SCAN_WINDOW events past its cursor, so a filter that matches little costs one window per
    poll: such a page may hold fewer items than asked, even none, with `has_more` — and paging on still serves
    every match exactly once."""
    headers = egov(actors)
    _, start = await read_feed(client, headers, None)
    officer = actors.officer()
    created = []
    for _ in range(7):  # seven call.created events, the middle one of interest
        response = await client.post("/api/v1/calls", json=call_body(), headers=officer)
        assert response.status_code == 201, response.text
        created.append(response.json()["id"])
    updated = await client.patch(
        f"/api/v1/calls/{created[3]}",
        json={"title": "Đợt hỗ trợ đã đổi tên"},
        headers={**officer, "If-Match": f'"{1}"'},
    )
    assert updated.status_code == 200, updated.text
    monkeypatch.setattr(integrations_service, "SCAN_WINDOW", 3)
    pages = []
    after = start
    while True:
        response = await client.get(f"{API}/events", headers=headers, params={"after": after, "type": "call.updated"})
        page = response.json()
        pages.append(page)
        after = page["next_cursor"]
        if not page["has_more"]:
            break
    served = [e["aggregate_id"] for page in pages for e in page["items"]]
    assert served == [created[3]]
    assert len(pages) >= 3 and any(p["has_more"] and not p["items"] for p in pages)  # 8 events, windows of 3
    everything, _ = await read_feed(client, headers, start, limit=2)  # unfiltered, pages of two in windows of three
    assert [e["aggregate_id"] for e in everything if e["type"] == "call.created"] == created


@pytest.mark.parametrize(
    "url",
    [
        "http://[::1",
        "http://%zz/x",
        "http://127.0.0.1:0/x",
        "http://127.0.0.1:70000/x",
        "http://\u0000evil/",
        "http://xn--/x",
        "http://a..b/x",
        "//127.0.0.1/x",
        "http://" + "a" * 64 + ".vn/x",
        "javascript:alert(1)",
        "http://[v1.fe80::a]/x",
        "http://127.0.0.1\\@10.0.0.1/x",
        "https://ẠẠẠ.vn/x",
    ],
)
async def test_hostile_webhook_urls_are_422_never_500(url: str, client: httpx.AsyncClient, actors: Actors) -> None:
    response = await subscribe(client, egov(actors, "egov-hostile"), url)
    assert_problem(response, 422)
