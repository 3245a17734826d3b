"""Concurrency on a real PostgreSQL: one winner per If-Match, a budget that is never over-committed, distinct
dossier codes under parallel submissions."""

from __future__ import annotations

import asyncio
import re
from typing import Any

import httpx
from applications_helpers import Actors, World, if_match
from fastapi import FastAPI
from sqlalchemy import event, text
from sqlmodel import select

from cleanprod_applications.calls.models import Call
from cleanprod_kit.testing.data import random_tax_code


async def test_two_officers_deciding_at_once_exactly_one_wins(
    client: httpx.AsyncClient, world: World, actors: Actors
) -> None:
    application = await world.reviewed()
    url = f"/api/v1/applications/{application['id']}/decision"
    approve = client.post(
        url, json={"outcome": "approve", "reason": "Đạt"}, headers=if_match(actors.officer(8), application["version"])
    )
    reject = client.post(
        url,
        json={"outcome": "reject", "reason": "Không đạt"},
        headers=if_match(actors.officer(9), application["version"]),
    )
    results = await asyncio.gather(approve, reject)
    assert sorted(r.status_code for r in results) == [200, 412]
    winner = next(r for r in results if r.status_code == 200).json()
    final = await world.get(application)
    assert final["status"] == winner["status"] and final["version"] == application["version"] + 1
    history = (await client.get(f"/api/v1/applications/{application['id']}/history", headers=actors.officer())).json()
    assert sum(e["action"].startswith("decide") for e in history["items"]) == 1


async def test_twenty_concurrent_approvals_against_a_budget_for_ten(
    client: httpx.AsyncClient, world: World, actors: Actors, app_and_client: tuple[FastAPI, httpx.AsyncClient]
) -> None:
    call = await world.call(budget_vnd=8_000_000_000)  # ten awards of 800M
    applications = await asyncio.gather(*[world.reviewed(call=call) for _ in range(20)])
    results = await asyncio.gather(
        *[
            client.post(
                f"/api/v1/applications/{a['id']}/decision",
                json={"outcome": "approve", "reason": "Đạt"},
                headers=if_match(actors.officer(9), a["version"]),
            )
            for a in applications
        ]
    )
    codes = [r.status_code for r in results]
    assert codes.count(200) == 10 and codes.count(409) == 10, codes
    assert all(r.json()["approved_support_vnd"] == 800_000_000 for r in results if r.status_code == 200)
    assert {r.json()["type"].rsplit("/", 1)[1] for r in results if r.status_code == 409} == {"zero-support"}
    async with app_and_client[0].state.db.session() as session:
        stored = (await session.exec(select(Call).where(Call.code == call["code"]))).one()
    assert stored.committed_vnd == stored.budget_vnd == 8_000_000_000
    approved = await client.get(
        "/api/v1/applications", params={"call_id": call["id"], "status": "approved"}, headers=actors.officer()
    )
    assert len(approved.json()["items"]) == 10


async def test_fifty_parallel_submissions_get_fifty_distinct_dossier_codes(
    client: httpx.AsyncClient, world: World, actors: Actors
) -> None:
    call = await world.call()
    drafts = await asyncio.gather(*[world.draft(call) for _ in range(50)])
    results = await asyncio.gather(
        *[
            client.post(f"/api/v1/applications/{d['id']}/submit", headers=if_match(world.owner(d), d["version"]))
            for d in drafts
        ]
    )
    assert [r.status_code for r in results] == [200] * 50
    codes = [r.json()["dossier_code"] for r in results]
    assert len(set(codes)) == 50
    sequences = sorted(int(code.rsplit("-", 1)[1]) for code in codes)
    assert sequences == list(range(sequences[0], sequences[0] + 50))  # consecutive: no gaps, no repeats
    assert all(re.fullmatch(r"000\.00\.01\.H26-\d{6}-\d{4}", c) for c in codes)


def _statements(app: FastAPI) -> tuple[list[str], Any]:
    """Every statement the app's engine sends (whitespace folded), and the listener to remove."""
    seen: list[str] = []

    def record(conn, cursor, statement, parameters, context, executemany):  # type: ignore[no-untyped-def]
        seen.append(" ".join(statement.split()))

    event.listen(app.state.db.engine.sync_engine, "before_cursor_execute", record)
    return seen, record


async def _submit_recording(
    client: httpx.AsyncClient, world: World, app: FastAPI, draft: dict[str, Any]
) -> tuple[httpx.Response, list[str]]:
    seen, record = _statements(app)
    try:
        response = await client.post(
            f"/api/v1/applications/{draft['id']}/submit", headers=if_match(world.owner(draft), draft["version"])
        )
    finally:
        event.remove(app.state.db.engine.sync_engine, "before_cursor_execute", record)
    return response, seen


async def test_the_daily_counter_is_taken_after_every_read_of_a_submission(
    client: httpx.AsyncClient, world: World, app_and_client: tuple[FastAPI, httpx.AsyncClient]
) -> None:
    """The counter row stays locked from its statement until the commit, so concurrent submissions queue there.
    Its statement is the submission's one read (session 8: the locked read takes the number, `filing.py`); after
    it come only the change's writes — one statement: the application's UPDATE and the INSERTs of its queued
    rows (two audit entries, two events, the notification) — and no read."""
    draft = await world.draft(await world.call())
    response, seen = await _submit_recording(client, world, app_and_client[0], draft)
    assert response.status_code == 200, response.text
    counter = next(i for i, s in enumerate(seen) if "INSERT INTO dossier_sequences" in s)
    assert "FOR UPDATE" in seen[counter] and "JOIN calls" in seen[counter], seen[counter]
    assert not [s for s in seen[:counter] if s.startswith("SELECT") or s.startswith("WITH")], seen[:counter]
    after = seen[counter + 1 :]
    # One statement (session 6: the application's UPDATE joined the queued rows' INSERTs as one more CTE).
    assert len(after) == 1, after
    assert 'UPDATE "applications" SET' in after[0] and '"dossier_code" = queued."dossier_code"' in after[0]
    assert all(f'INSERT INTO "{table}"' in after[0] for table in ("audit_log", "outbox_events", "notifications"))
    assert sum("UPDATE applications" in s or 'UPDATE "applications"' in s for s in seen) == 1
    history = (await client.get(f"/api/v1/applications/{draft['id']}/history", headers=world.owner(draft))).json()
    assert [e["action"] for e in history["items"]][-2:] == ["submit", "screen_pass"]
    assert history["items"][-2]["details"]["dossier_code"] == response.json()["dossier_code"]


async def test_a_support_type_with_documents_takes_its_number_after_reading_them(
    client: httpx.AsyncClient, world: World, app_and_client: tuple[FastAPI, httpx.AsyncClient]
) -> None:
    """A replication's documents are read after the row's lock (an upload holding it commits first), so its
    number is not taken in the locked read but by the counter's own statement after that read."""
    draft = await world.draft(await world.call(support_types=["replication"]), support_type="replication")
    response, seen = await _submit_recording(client, world, app_and_client[0], draft)
    assert response.status_code == 422 and response.json()["code"] == "documents_missing", response.text
    locked = [s for s in seen if "FOR UPDATE" in s]
    assert len(locked) == 1 and not [s for s in seen if s.startswith("INSERT INTO dossier_sequences")], seen
    assert any(s.startswith("SELECT documents.kind") for s in seen[seen.index(locked[0]) + 1 :]), seen


async def test_a_refused_first_submission_gives_its_number_back(
    client: httpx.AsyncClient, world: World, actors: Actors
) -> None:
    """The locked read takes the day's number before If-Match and the dossier's rules are checked: a submission
    refused after it (412 stale, 422 incomplete) rolls back and the number is the next submission's."""
    call = await world.call()
    first = await world.draft(call)
    submitted = await client.post(
        f"/api/v1/applications/{first['id']}/submit", headers=if_match(world.owner(first), first["version"])
    )
    assert submitted.status_code == 200, submitted.text
    number = int(submitted.json()["dossier_code"].rsplit("-", 1)[1])
    stale = await world.draft(call)
    refused = await client.post(
        f"/api/v1/applications/{stale['id']}/submit", headers=if_match(world.owner(stale), stale["version"] + 1)
    )
    assert refused.status_code == 412, refused.text
    owner = world.owner(first)
    empty = await client.post(
        "/api/v1/applications", json={"call_id": call["id"], "facility_id": world.a.steel_facility}, headers=owner
    )
    assert empty.status_code == 201, empty.text
    refused = await client.post(f"/api/v1/applications/{empty.json()['id']}/submit", headers=if_match(owner, 1))
    assert refused.status_code == 422 and refused.json()["code"] == "application_incomplete", refused.text
    after = await client.post(
        f"/api/v1/applications/{stale['id']}/submit", headers=if_match(world.owner(stale), stale["version"])
    )
    assert after.status_code == 200, after.text
    assert int(after.json()["dossier_code"].rsplit("-", 1)[1]) == number + 1  # no gap


async def test_a_change_reads_and_locks_the_application_with_its_call_in_one_statement(
    client: httpx.AsyncClient, world: World, actors: Actors, app_and_client: tuple[FastAPI, httpx.AsyncClient]
) -> None:
    """Submit's one read: the application locked `FOR UPDATE` joined with its call (no separate read of the
    application or of the call); a withdrawal's the same without the counter. A caller who may not see the
    application is answered 404 at once while another transaction holds its lock: the access rule is in that
    statement's WHERE clause, so the stranger's statement finds no row to wait for."""
    draft = await world.draft(await world.call())
    engine = app_and_client[0].state.db.engine
    response, seen = await _submit_recording(client, world, app_and_client[0], draft)
    assert response.status_code == 200, response.text
    locked = [s for s in seen if "FOR UPDATE" in s]
    assert len(locked) == 1 and "JOIN calls" in locked[0] and "INSERT INTO dossier_sequences" in locked[0], seen
    assert not [s for s in seen if s.startswith("SELECT calls.") or s.startswith("SELECT applications.")], seen

    withdrawn = await world.draft(await world.call())
    seen, record = _statements(app_and_client[0])
    try:
        response = await client.post(
            f"/api/v1/applications/{withdrawn['id']}/withdraw",
            headers=if_match(world.owner(withdrawn), withdrawn["version"]),
        )
    finally:
        event.remove(engine.sync_engine, "before_cursor_execute", record)
    assert response.status_code == 200, response.text
    reads = [s for s in seen if s.startswith("SELECT")]
    assert len(reads) == 1 and "JOIN calls" in reads[0] and "FOR UPDATE OF applications" in reads[0], reads

    other = await world.draft(await world.call())
    stranger = actors.enterprise(random_tax_code())  # another enterprise's staff
    async with engine.connect() as holder:
        transaction = await holder.begin()
        await holder.execute(text("SELECT 1 FROM applications WHERE id = :id FOR UPDATE"), {"id": other["id"]})
        try:
            answer = await asyncio.wait_for(
                client.post(f"/api/v1/applications/{other['id']}/submit", headers=if_match(stranger, 1)), 60
            )
        finally:
            await transaction.rollback()
    assert answer.status_code == 404, answer.text
    assert answer.json()["code"] == "application_not_found"


async def test_two_submissions_of_one_draft_at_once_one_wins_and_one_number_is_used(
    client: httpx.AsyncClient, world: World
) -> None:
    """Both lock the row in their first statement; the second waits, then reads the submitted row (the locked
    CTE's values are the row's latest), takes no number and is answered 412: the next submission of the day gets
    the number after the winner's."""
    call = await world.call()
    draft, later = await world.draft(call), await world.draft(call)
    url = f"/api/v1/applications/{draft['id']}/submit"
    results = await asyncio.gather(
        *[client.post(url, headers=if_match(world.owner(draft), draft["version"])) for _ in range(2)]
    )
    assert sorted(r.status_code for r in results) == [200, 412], [r.text for r in results]
    winner = next(r for r in results if r.status_code == 200).json()
    following = await client.post(
        f"/api/v1/applications/{later['id']}/submit", headers=if_match(world.owner(later), later["version"])
    )
    assert following.status_code == 200, following.text
    number = int(winner["dossier_code"].rsplit("-", 1)[1])
    assert int(following.json()["dossier_code"].rsplit("-", 1)[1]) == number + 1
