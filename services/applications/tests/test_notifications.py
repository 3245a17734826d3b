"""Notifications (issue 10): who is told what — each rule written in the transaction of its cause, to the right
audience, with the params its text needs, in Vietnamese and English; what a caller sees of them (only its own:
404 otherwise), unread counts and read marks per user, preferences (statutory kinds cannot be switched off), and
the scheduled reminders and overdue checks (one runner at a time, never twice)."""

from __future__ import annotations

import asyncio
import datetime as dt
import uuid
from typing import Any

import httpx
from applications_helpers import Actors, World, assert_problem
from sqlalchemy import text

from cleanprod_applications.config import ApplicationsSettings
from cleanprod_applications.holiday_calendar import default_calendar
from cleanprod_applications.main import create_app
from cleanprod_applications.notifications.scheduler import LOCK_KEY, NotificationScheduler
from cleanprod_kit.db import Database
from cleanprod_kit.local_time import LOCAL_TZ, local_date
from cleanprod_kit.testing.fixtures import running

API = "/api/v1/notifications"
EN = {"Accept-Language": "en"}


async def rows_of(settings: ApplicationsSettings, application_id: str, kind: str | None = None) -> list[dict[str, Any]]:
    """The notification rows about one application (straight from the table), oldest first."""
    db = Database(settings.database_url, pool_size=1, max_overflow=0)
    try:
        async with db.engine.connect() as connection:
            result = await connection.execute(
                text(
                    "SELECT kind, statutory, recipient_user_id, recipient_enterprise_id::text AS enterprise, "
                    "recipient_role, params, link, dedupe_key, id::text AS id FROM notifications "
                    "WHERE application_id = :id AND (CAST(:kind AS text) IS NULL OR kind = :kind) ORDER BY id"
                ),
                {"id": application_id, "kind": kind},
            )
            return [dict(r._mapping) for r in result]
    finally:
        await db.dispose()


async def only(settings: ApplicationsSettings, application: dict[str, Any], kind: str) -> dict[str, Any]:
    found = await rows_of(settings, application["id"], kind)
    assert len(found) == 1, found
    return found[0]


async def inbox(client: httpx.AsyncClient, headers: dict[str, str], **params: Any) -> list[dict[str, Any]]:
    response = await client.get(API, headers=headers, params={"limit": 200, **params})
    assert response.status_code == 200, response.text
    return list(response.json()["items"])


async def item(
    client: httpx.AsyncClient, headers: dict[str, str], application: dict[str, Any], kind: str
) -> dict[str, Any]:
    found = [i for i in await inbox(client, headers) if i["application_id"] == application["id"] and i["kind"] == kind]
    assert len(found) == 1, found
    return found[0]


def due_on(application: dict[str, Any]) -> dt.date:
    return local_date(dt.datetime.fromisoformat(application["due_at"]))


# ---- enterprise ------------------------------------------------------------------------------------------------


async def test_submission_tells_the_enterprise_its_dossier_code_and_due_date(
    client: httpx.AsyncClient, world: World, settings: ApplicationsSettings
) -> None:
    application = await world.submitted()
    row = await only(settings, application, "dossier_received")
    assert row["enterprise"] == world.a.id and row["recipient_user_id"] is None and row["recipient_role"] is None
    assert row["statutory"] is True and row["link"] == f"/enterprise/applications/{application['id']}"
    assert row["params"]["dossier_code"] == application["dossier_code"]
    assert row["params"]["due_on"] == due_on(application).isoformat()
    owner = world.owner(application)
    vi = await item(client, owner, application, "dossier_received")
    assert vi["title"] == f"Đã tiếp nhận hồ sơ {application['dossier_code']}"
    assert due_on(application).strftime("%d/%m/%Y") in vi["body"] and vi["read"] is False
    assert vi["dossier_code"] == application["dossier_code"] and vi["link"] == row["link"]
    en = [i for i in await inbox(client, {**owner, **EN}) if i["id"] == vi["id"]][0]
    assert en["title"] == f"Dossier {application['dossier_code']} received" and "due to be processed by" in en["body"]
    # Screening passed tells no one; nothing else was written about this dossier.
    assert [r["kind"] for r in await rows_of(settings, application["id"])] == ["dossier_received"]


async def test_ineligible_dossier_is_told_with_the_reasons(
    client: httpx.AsyncClient, world: World, settings: ApplicationsSettings
) -> None:
    application = await world.at("ineligible")
    row = await only(settings, application, "screening_ineligible")
    assert row["enterprise"] == world.a.id and row["statutory"] is True
    reasons = row["params"]["reasons"]
    assert reasons and all(r["code"] and r["message"] for r in reasons)
    assert [r["code"] for r in reasons] == ["sector_not_eligible"]  # a paper mill; the call takes steel and beer
    en = await item(client, {**world.owner(application), **EN}, application, "screening_ineligible")
    assert en["title"] == f"Dossier {application['dossier_code']} is not eligible"
    assert (
        en["body"]
        == "Your dossier did not pass eligibility screening: the facility's sector is not supported by this call"
    )
    vi = await item(client, world.owner(application), application, "screening_ineligible")
    assert vi["body"] == "Hồ sơ không đạt kiểm tra điều kiện: ngành của cơ sở không thuộc đợt hỗ trợ"


async def test_changes_requested_is_told_with_the_list(
    client: httpx.AsyncClient, world: World, settings: ApplicationsSettings
) -> None:
    application = await world.reviewed()
    wanted = "1. Bổ sung báo giá thiết bị.\n2. Sửa chi phí hợp lệ theo hóa đơn."
    application = await world.act(
        application, "decision", world.actors.officer(9), json={"outcome": "request_changes", "reason": wanted}
    )
    row = await only(settings, application, "changes_requested")
    assert row["enterprise"] == world.a.id and row["params"]["reason"] == wanted
    shown = await item(client, world.owner(application), application, "changes_requested")
    assert shown["title"] == f"Yêu cầu chỉnh sửa hồ sơ {application['dossier_code']}" and wanted in shown["body"]


async def test_approval_is_told_with_the_amount_and_the_advance_payable(
    client: httpx.AsyncClient, world: World, settings: ApplicationsSettings
) -> None:
    application = await world.approved()
    decision = await only(settings, application, "decision_made")
    assert decision["enterprise"] == world.a.id and decision["statutory"] is True
    assert decision["params"]["outcome"] == "approved" and decision["params"]["amount_vnd"] == 800_000_000
    payable = await only(settings, application, "tranche_payable")
    assert payable["params"] == {
        "dossier_code": application["dossier_code"],
        "tranche": "advance",
        "amount_vnd": 240_000_000,  # 30 % of the award
    }
    assert payable["statutory"] is False
    owner = world.owner(application)
    vi = await item(client, owner, application, "decision_made")
    assert "phê duyệt" in vi["title"] and "800.000.000 đồng" in vi["body"]
    en = await item(client, {**owner, **EN}, application, "tranche_payable")
    assert en["body"] == "The advance of 240,000,000 VND is now payable."


async def test_tranche_paid_is_recorded_by_an_officer_and_told(
    client: httpx.AsyncClient, world: World, settings: ApplicationsSettings, actors: Actors
) -> None:
    application = await world.approved()
    url = f"/api/v1/applications/{application['id']}/tranches"
    body = {"paid_on": local_date(dt.datetime.now(dt.UTC)).isoformat(), "reference": "UNC-2026/0417 Kho bạc Hà Nội"}
    assert (await client.post(f"{url}/advance/payment", json=body, headers=world.owner(application))).status_code == 403
    future = {**body, "paid_on": (local_date(dt.datetime.now(dt.UTC)) + dt.timedelta(days=1)).isoformat()}
    assert_problem(await client.post(f"{url}/advance/payment", json=future, headers=actors.officer()), 422)
    withheld = await client.post(f"{url}/balance/payment", json=body, headers=actors.officer())
    assert assert_problem(withheld, 409)["code"] == "tranche_not_payable"
    assert await rows_of(settings, application["id"], "tranche_paid") == []

    paid = await client.post(f"{url}/advance/payment", json=body, headers=actors.officer())
    assert paid.status_code == 200, paid.text
    assert paid.json()["status"] == "paid" and paid.json()["paid_on"] == body["paid_on"]
    assert paid.json()["payment_reference"] == body["reference"]
    assert paid.headers["etag"] == f'"{application["version"] + 1}"'
    again = await client.post(f"{url}/advance/payment", json=body, headers=actors.officer())
    assert assert_problem(again, 409)["code"] == "tranche_not_payable"
    row = await only(settings, application, "tranche_paid")
    assert row["enterprise"] == world.a.id and row["statutory"] is False
    assert row["params"] == {
        "dossier_code": application["dossier_code"],
        "tranche": "advance",
        "amount_vnd": 240_000_000,
        "paid_on": body["paid_on"],
    }
    shown = await item(client, world.owner(application), application, "tranche_paid")
    paid_day = dt.date.fromisoformat(body["paid_on"]).strftime("%d/%m/%Y")
    assert shown["body"] == f"Khoản tạm ứng 240.000.000 đồng đã được chi trả ngày {paid_day}."
    listed = (await client.get(url, headers=world.owner(application))).json()
    assert {t["kind"]: t["status"] for t in listed} == {"advance": "paid", "balance": "withheld"}
    history = (
        await client.get(f"/api/v1/applications/{application['id']}/history", headers=world.owner(application))
    ).json()["items"]
    assert any(e["action"] == "record_payment" for e in history)


async def test_rejection_is_told(client: httpx.AsyncClient, world: World, settings: ApplicationsSettings) -> None:
    application = await world.at("rejected")
    row = await only(settings, application, "decision_made")
    assert row["params"]["outcome"] == "rejected" and row["params"]["reason"] == "Chưa đạt yêu cầu."
    assert await rows_of(settings, application["id"], "tranche_payable") == []
    shown = await item(client, {**world.owner(application), **EN}, application, "decision_made")
    assert shown["title"].endswith(": rejected")


async def test_verification_concluded_is_told_with_the_balance_payable(
    client: httpx.AsyncClient, world: World, settings: ApplicationsSettings
) -> None:
    application = await world.at("verified")
    row = await only(settings, application, "verification_concluded")
    assert row["enterprise"] == world.a.id
    assert row["params"]["verdict"] == "verified" and row["params"]["balance_vnd"] == 560_000_000
    assert row["params"]["recover_vnd"] == 0 and row["params"]["achieved_pct"] == 100.0
    balance = [
        r for r in await rows_of(settings, application["id"], "tranche_payable") if r["params"]["tranche"] == "balance"
    ]
    assert len(balance) == 1 and balance[0]["params"]["amount_vnd"] == 560_000_000
    shown = await item(client, world.owner(application), application, "verification_concluded")
    assert "đạt mức tiết kiệm" in shown["body"] and "560.000.000 đồng" in shown["body"]


async def test_supplement_request_is_told_with_its_items(
    client: httpx.AsyncClient, world: World, settings: ApplicationsSettings, actors: Actors
) -> None:
    application = await world.submitted()
    needed = ["Báo cáo kiểm toán năng lượng năm 2025", "Báo giá thiết bị"]
    response = await client.post(
        f"/api/v1/applications/{application['id']}/supplement-requests",
        json={"items": [{"needed": n} for n in needed], "note": "Bổ sung trong 10 ngày."},
        headers={**actors.officer(), "If-Match": f'"{application["version"]}"'},
    )
    assert response.status_code == 201, response.text
    row = await only(settings, application, "supplement_requested")
    assert row["enterprise"] == world.a.id and row["statutory"] is True
    assert row["params"]["items"] == needed and row["params"]["note"] == "Bổ sung trong 10 ngày."
    shown = await item(client, world.owner(application), application, "supplement_requested")
    assert shown["title"] == f"Hồ sơ {application['dossier_code']}: yêu cầu bổ sung"
    assert shown["body"] == "Sở đề nghị doanh nghiệp bổ sung hồ sơ: " + "; ".join(needed)


async def test_event_replayed_does_not_tell_twice(
    client: httpx.AsyncClient, world: World, settings: ApplicationsSettings
) -> None:
    """A verdict event delivered twice (at least once delivery) is one notification."""
    application = await world.completed()
    event_id = str(uuid.uuid4())
    await world.conclude(application, "verified", event_id=event_id)
    await world.conclude(application, "verified", event_id=event_id)
    assert len(await rows_of(settings, application["id"], "verification_concluded")) == 1


# ---- reviewers and officers ------------------------------------------------------------------------------------


async def test_reviewer_is_told_of_the_assignment_with_its_due_date(
    client: httpx.AsyncClient, world: World, settings: ApplicationsSettings, actors: Actors
) -> None:
    application = await world.submitted()
    await world.assign(application, 31)
    row = await only(settings, application, "review_assigned")
    assert row["recipient_user_id"] == "reviewer-31" and row["enterprise"] is None
    expected = local_date(
        default_calendar().add_working_days(dt.datetime.now(dt.UTC), settings.review_period_working_days)
    )
    assert row["params"]["due_on"] == expected.isoformat() and row["link"] == f"/review/{application['id']}"
    shown = await item(client, {**actors.reviewer(31), **EN}, application, "review_assigned")
    assert shown["title"] == f"Review assigned: dossier {application['dossier_code']}"
    assert expected.strftime("%d/%m/%Y") in shown["body"]
    reviews = (await client.get(f"/api/v1/applications/{application['id']}/reviews", headers=actors.officer())).json()
    assert [(r["reviewer_subject"], r["due_on"]) for r in reviews] == [("reviewer-31", expected.isoformat())]


async def test_officers_are_told_when_the_reviews_are_complete(
    client: httpx.AsyncClient, world: World, settings: ApplicationsSettings, actors: Actors
) -> None:
    application = await world.submitted()
    await world.reviewed(application, reviewers=(1,))
    assert await rows_of(settings, application["id"], "ready_to_decide") == []  # one of the two reviews needed
    await world.assign(application, 2)
    assert (await world.declare(application, 2)).status_code == 201
    assert await rows_of(settings, application["id"], "ready_to_decide") == []  # declared but not scored
    assert (await world.score(application, 2)).status_code == 201
    row = await only(settings, application, "ready_to_decide")
    assert row["recipient_role"] == "officer" and row["params"]["reviews_counted"] == 2
    assert row["link"] == f"/officer/applications/{application['id']}"
    shown = await item(client, actors.officer(5), application, "ready_to_decide")
    assert shown["title"] == f"Hồ sơ {application['dossier_code']}: đã đủ đánh giá, chờ quyết định"


async def test_recusal_that_completes_the_reviews_tells_officers(world: World, settings: ApplicationsSettings) -> None:
    application = await world.reviewed(reviewers=(1, 2))
    assert len(await rows_of(settings, application["id"], "ready_to_decide")) == 1
    await world.assign(application, 3)  # a third reviewer, who then recuses: still complete, same count
    assert (await world.declare(application, 3, conflict=True)).status_code == 201
    assert len(await rows_of(settings, application["id"], "ready_to_decide")) == 1


# ---- verifiers -------------------------------------------------------------------------------------------------


async def test_verifier_is_told_of_the_assignment_and_of_the_completion(
    client: httpx.AsyncClient, world: World, settings: ApplicationsSettings, actors: Actors
) -> None:
    application = await world.in_progress()
    assert (await world.assign_verifier(application, subject="verifier-41", username="verifier41")).status_code == 200
    assigned = await only(settings, application, "verifier_assigned")
    assert assigned["recipient_user_id"] == "verifier-41" and assigned["link"].startswith("/verify/")
    assert await rows_of(settings, application["id"], "measurements_can_start") == []
    application = await world.act(application, "completion", world.owner(application), json={"reason": "Xong."})
    start = await only(settings, application, "measurements_can_start")
    assert start["recipient_user_id"] == "verifier-41"
    assert start["params"]["completed_on"] == application["completed_on"]
    shown = await item(client, {**actors.verifier_n(41), **EN}, application, "measurements_can_start")
    assert "measurements can start" in shown["body"]


# ---- what a caller sees ----------------------------------------------------------------------------------------


async def test_a_caller_sees_only_its_own_notifications(
    client: httpx.AsyncClient, world: World, settings: ApplicationsSettings, actors: Actors
) -> None:
    application = await world.submitted()
    await world.assign(application, 51)
    received = await only(settings, application, "dossier_received")
    assigned = await only(settings, application, "review_assigned")
    other_enterprise = actors.enterprise(world.b.tax_code)
    assert all(i["application_id"] != application["id"] for i in await inbox(client, other_enterprise))
    assert all(i["id"] != assigned["id"] for i in await inbox(client, actors.reviewer(52)))
    officer_items = await inbox(client, actors.officer())
    assert all(i["id"] not in (received["id"], assigned["id"]) for i in officer_items)
    for headers, notification in (
        (other_enterprise, received),
        (actors.reviewer(52), assigned),
        (actors.officer(), assigned),
        (world.owner(application), assigned),
    ):
        response = await client.post(f"{API}/{notification['id']}/read", headers={**headers, "Accept-Language": "vi"})
        assert assert_problem(response, 404)["code"] == "notification_not_found"
    # Every login of the enterprise sees the enterprise's rows; role rows reach every officer, no enterprise.
    assert any(i["id"] == received["id"] for i in await inbox(client, actors.enterprise(world.a.tax_code, 2)))
    assert assert_problem(await client.post(f"{API}/{uuid.uuid4()}/read", headers=actors.officer()), 404)
    services = await client.get(API, headers=actors.service)
    assert services.status_code == 403


async def test_unread_count_and_read_marks_are_per_user(
    client: httpx.AsyncClient, world: World, settings: ApplicationsSettings, actors: Actors
) -> None:
    enterprise = await world.new_enterprise("Công ty TNHH Bia Đông Á")
    first, second = actors.enterprise(enterprise.tax_code, 1), actors.enterprise(enterprise.tax_code, 2)

    async def unread(headers: dict[str, str]) -> int:
        response = await client.get(f"{API}/unread-count", headers=headers)
        assert response.status_code == 200, response.text
        return int(response.json()["unread"])

    assert await unread(first) == 0
    one = await world.submitted(enterprise=enterprise)
    await world.submitted(enterprise=enterprise)
    assert await unread(first) == 2 and await unread(second) == 2
    newest, oldest = await inbox(client, first)
    assert newest["created_at"] >= oldest["created_at"] and oldest["application_id"] == one["id"]
    assert (await client.post(f"{API}/{oldest['id']}/read", headers=first)).status_code == 204
    assert (await client.post(f"{API}/{oldest['id']}/read", headers=first)).status_code == 204  # again: no change
    assert await unread(first) == 1 and await unread(second) == 2
    assert [i["id"] for i in await inbox(client, first, unread="true")] == [newest["id"]]
    assert {i["id"]: i["read"] for i in await inbox(client, first)} == {newest["id"]: False, oldest["id"]: True}
    assert (await client.post(f"{API}/read-all", headers=second)).status_code == 204
    assert await unread(second) == 0 and await unread(first) == 1
    page = (await client.get(API, headers=first, params={"limit": 1})).json()
    assert [i["id"] for i in page["items"]] == [newest["id"]] and page["next_cursor"]
    rest = (await client.get(API, headers=first, params={"limit": 1, "cursor": page["next_cursor"]})).json()
    assert [i["id"] for i in rest["items"]] == [oldest["id"]]


async def test_preferences_switch_optional_kinds_off_and_refuse_statutory_ones(
    client: httpx.AsyncClient, world: World, settings: ApplicationsSettings, actors: Actors
) -> None:
    reviewer = actors.reviewer(61)
    listed = (await client.get("/api/v1/notification-preferences", headers=reviewer)).json()
    by_kind = {p["kind"]: p for p in listed}
    assert by_kind["dossier_received"] == {"kind": "dossier_received", "statutory": True, "in_app": True, "email": True}
    assert by_kind["review_assigned"] == {"kind": "review_assigned", "statutory": False, "in_app": True, "email": True}
    assert len(listed) == 18

    refused = await client.put(
        "/api/v1/notification-preferences",
        headers={**reviewer, "Accept-Language": "vi"},
        json=[
            {"kind": "review_assigned", "channel": "email", "enabled": False},
            {"kind": "decision_made", "channel": "in_app", "enabled": False},
        ],
    )
    body = assert_problem(refused, 422)
    assert body["code"] == "notification_statutory" and body["title"] == "Không thể tắt thông báo bắt buộc"
    assert [e["field"] for e in body["errors"]] == ["1.enabled"]
    unchanged = (await client.get("/api/v1/notification-preferences", headers=reviewer)).json()
    assert unchanged == listed  # all or nothing
    bad = await client.put(
        "/api/v1/notification-preferences", headers=reviewer, json=[{"kind": "nope", "channel": "sms", "enabled": 1}]
    )
    assert assert_problem(bad, 422)["code"] == "validation_failed"

    application = await world.submitted()
    await world.assign(application, 61)
    assert any(i["application_id"] == application["id"] for i in await inbox(client, reviewer))
    changed = await client.put(
        "/api/v1/notification-preferences",
        headers=reviewer,
        json=[{"kind": "review_assigned", "channel": "in_app", "enabled": False}],
    )
    assert changed.status_code == 200, changed.text
    now = {p["kind"]: p for p in changed.json()}
    assert now["review_assigned"]["in_app"] is False and now["review_assigned"]["email"] is True
    assert all(i["kind"] != "review_assigned" for i in await inbox(client, reviewer))
    assert (await client.get(f"{API}/unread-count", headers=reviewer)).json() == {"unread": 0}
    # Still recorded (for e-mail, which stays on); switching back on shows it again.
    assert len(await rows_of(settings, application["id"], "review_assigned")) == 1
    await client.put(
        "/api/v1/notification-preferences",
        headers=reviewer,
        json=[{"kind": "review_assigned", "channel": "in_app", "enabled": True}],
    )
    assert any(i["kind"] == "review_assigned" for i in await inbox(client, reviewer))


# ---- scheduled reminders ---------------------------------------------------------------------------------------


def _local_noon(day: dt.date) -> dt.datetime:
    return dt.datetime.combine(day, dt.time(12), LOCAL_TZ)


async def test_reviewer_reminded_before_the_due_date_then_told_it_is_overdue_once(
    world: World, settings: ApplicationsSettings
) -> None:
    calendar = default_calendar()
    application = await world.submitted()
    await world.assign(application, 71)
    due = dt.date.fromisoformat((await only(settings, application, "review_assigned"))["params"]["due_on"])
    db = Database(settings.database_url, pool_size=2, max_overflow=0)
    scheduler = NotificationScheduler(db, settings)
    try:
        three_before = calendar.add_working_days(_local_noon(local_date(dt.datetime.now(dt.UTC))), 7)  # 3 left
        assert await scheduler.run_once(three_before)
        assert await rows_of(settings, application["id"], "review_due_soon") == []
        two_before = calendar.add_working_days(three_before, 1)
        assert calendar.working_days_between(two_before, _local_noon(due)) == settings.review_reminder_working_days
        assert await scheduler.run_once(two_before)
        assert await scheduler.run_once(calendar.add_working_days(two_before, 1))  # a day later: no second reminder
        soon = await only(settings, application, "review_due_soon")
        assert soon["recipient_user_id"] == "reviewer-71" and soon["params"]["due_on"] == due.isoformat()
        assert await rows_of(settings, application["id"], "review_overdue") == []
        after = _local_noon(due + dt.timedelta(days=1))
        assert await scheduler.run_once(after)
        assert await scheduler.run_once(after + dt.timedelta(days=3))
        overdue = await only(settings, application, "review_overdue")
        assert overdue["recipient_user_id"] == "reviewer-71" and overdue["dedupe_key"].endswith(due.isoformat())
        # A review submitted is never reminded.
        other = await world.reviewed(reviewers=(72,))
        assert await scheduler.run_once(after + dt.timedelta(days=30))
        assert await rows_of(settings, other["id"], "review_overdue") == []
    finally:
        await db.dispose()


async def test_officers_warned_of_a_dossier_approaching_then_past_its_due_date(
    client: httpx.AsyncClient, world: World, settings: ApplicationsSettings, actors: Actors
) -> None:
    calendar = default_calendar()
    application = await world.submitted()
    due_at = dt.datetime.fromisoformat(application["due_at"])
    db = Database(settings.database_url, pool_size=2, max_overflow=0)
    scheduler = NotificationScheduler(db, settings)
    try:
        first = dt.datetime.fromisoformat(application["submitted_at"])
        assert await scheduler.run_once(calendar.add_working_days(first, 1))
        assert await rows_of(settings, application["id"], "dossier_due_soon") == []
        days = settings.processing_days - settings.dossier_reminder_working_days
        assert await scheduler.run_once(calendar.add_working_days(first, days))
        soon = await only(settings, application, "dossier_due_soon")
        assert soon["recipient_role"] == "officer" and soon["params"]["due_on"] == due_on(application).isoformat()
        assert await scheduler.run_once(due_at + dt.timedelta(hours=1))
        assert await scheduler.run_once(due_at + dt.timedelta(days=2))
        overdue = await only(settings, application, "dossier_overdue")
        assert (
            overdue["recipient_role"] == "officer" and overdue["link"] == f"/officer/applications/{application['id']}"
        )
        shown = await item(client, {**actors.officer(3), **EN}, application, "dossier_overdue")
        assert shown["body"] == f"Dossier {application['dossier_code']} was due on {due_on(application):%d/%m/%Y}."
    finally:
        await db.dispose()


async def test_two_runners_at_once_write_one_set_of_reminders(world: World, settings: ApplicationsSettings) -> None:
    application = await world.submitted()
    await world.assign(application, 81)
    due_at = dt.datetime.fromisoformat(application["due_at"])
    later = due_at + dt.timedelta(days=60)  # every open review and dossier is overdue by then
    dbs = [Database(settings.database_url, pool_size=2, max_overflow=0) for _ in range(2)]
    try:
        runners = [NotificationScheduler(db, settings) for db in dbs]
        results = await asyncio.gather(*(r.run_once(later) for r in runners), *(r.run_once(later) for r in runners))
        assert any(results)
        assert len(await rows_of(settings, application["id"], "review_overdue")) == 1
        assert len(await rows_of(settings, application["id"], "dossier_overdue")) == 1

        # While another replica holds the lock, a runner does nothing and says so.
        async with dbs[0].engine.connect() as holder:
            await holder.execute(text("SELECT pg_advisory_lock(:key)"), {"key": LOCK_KEY})
            try:
                assert await runners[1].run_once(later) is False
            finally:
                await holder.execute(text("SELECT pg_advisory_unlock(:key)"), {"key": LOCK_KEY})
        assert await runners[1].run_once(later) is True
    finally:
        for db in dbs:
            await db.dispose()


async def test_the_service_runs_the_scheduler_in_its_lifespan(world: World, settings: ApplicationsSettings) -> None:
    """A replica with the outbox on starts the pass at start-up and every interval, and stops it on shutdown."""
    application = await world.submitted()
    db = Database(settings.database_url, pool_size=1, max_overflow=0)
    try:
        async with db.engine.begin() as connection:  # a dossier whose due date passed yesterday
            await connection.execute(
                text("UPDATE applications SET due_at = now() - interval '1 day' WHERE id = :id"),
                {"id": application["id"]},
            )
    finally:
        await db.dispose()
    replica = create_app(
        settings.model_copy(
            update={
                "outbox_enabled": True,
                "webhook_dispatcher_enabled": False,
                "notification_scheduler_interval_seconds": 0.2,
            }
        )
    )
    async with running(replica):
        scheduler = replica.state.notification_scheduler
        assert isinstance(scheduler, NotificationScheduler)
        for _ in range(100):
            if await rows_of(settings, application["id"], "dossier_overdue"):
                break
            await asyncio.sleep(0.1)
        assert len(await rows_of(settings, application["id"], "dossier_overdue")) == 1
        await asyncio.sleep(0.5)  # more passes: still one
        assert len(await rows_of(settings, application["id"], "dossier_overdue")) == 1
    assert scheduler._task is None
