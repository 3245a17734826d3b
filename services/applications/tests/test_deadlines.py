"""Statutory deadlines through the API: the due date on the application, the clock stopped while changes are
requested (e-gov 5) and restarted on resubmission, the same date in the public and e-gov look-ups, and the
overdue list (`GET /applications?overdue=true`). The counting itself is in tests/unit/test_working_days.py."""

from __future__ import annotations

import datetime as dt
from typing import Any

import httpx
from applications_helpers import Actors, World, assert_problem
from sqlalchemy import text
from sqlalchemy.ext.asyncio import create_async_engine

from cleanprod_applications.config import ApplicationsSettings
from cleanprod_applications.holiday_calendar import default_calendar
from cleanprod_kit.models import utcnow

CAL = default_calendar()


async def sql(settings: ApplicationsSettings, statement: str, **params: Any) -> list[Any]:
    engine = create_async_engine(settings.database_url)
    try:
        async with engine.begin() as connection:
            result = await connection.execute(text(statement), params)
            return list(result.mappings().all()) if result.returns_rows else []
    finally:
        await engine.dispose()


def instant(value: str) -> dt.datetime:
    return dt.datetime.fromisoformat(value)


async def lookups(client: httpx.AsyncClient, actors: Actors, code: str) -> tuple[str | None, str | None]:
    egov = await client.get(f"/api/v1/integrations/dossiers/{code}", headers=actors.egov)
    public = await client.get(f"/api/v1/public/dossiers/{code}")
    assert egov.status_code == public.status_code == 200, (egov.text, public.text)
    return egov.json()["due_date"], public.json()["due_at"]


def national(value: dt.datetime) -> str:
    return value.astimezone(dt.timezone(dt.timedelta(hours=7))).strftime("%Y%m%d%H%M%S")


async def test_due_date_on_reception_and_in_both_lookups(
    client: httpx.AsyncClient, world: World, actors: Actors, settings: ApplicationsSettings
) -> None:
    draft = await world.draft()
    assert draft["due_at"] is None and draft["overdue"] is False
    application = await world.act(draft, "submit", world.owner(draft))
    received = instant(application["first_submitted_at"])
    assert instant(application["due_at"]) == CAL.add_working_days(received, settings.processing_days)
    assert application["clock_stopped_at"] is None and application["overdue"] is False
    egov_due, public_due = await lookups(client, actors, application["dossier_code"])
    assert egov_due == national(instant(application["due_at"]))
    assert public_due is not None and instant(public_due) == instant(application["due_at"])


async def test_changes_requested_stops_the_clock_and_resubmission_restarts_it(
    client: httpx.AsyncClient, world: World, actors: Actors, settings: ApplicationsSettings
) -> None:
    reviewed = await world.reviewed()
    first_due = instant(reviewed["due_at"])
    waiting = await world.decide(reviewed, "request_changes", "Bổ sung báo cáo kiểm toán năng lượng.")
    assert waiting["status"] == "changes_requested" and waiting["egov_status"] == 5
    assert waiting["due_at"] is None and waiting["clock_stopped_at"] is not None
    assert await lookups(client, actors, waiting["dossier_code"]) == (None, None)
    # Pretend the request went out on Wednesday 11/02/2026 for a dossier received Monday 02/02 (7 days used),
    # as if it had waited over Tết: the clock keeps the days used, not the days waited.
    await sql(
        settings,
        "UPDATE applications SET first_submitted_at = :received, clock_stops = CAST(:stops AS jsonb) WHERE id = :id",
        id=waiting["id"],
        received=dt.datetime(2026, 2, 2, 2, 0, tzinfo=dt.UTC),
        stops='[{"stopped_at": "2026-02-11T08:00:00+00:00", "restarted_at": null}]',
    )
    again = await world.act(waiting, "resubmit", world.owner(waiting))
    assert again["status"] == "under_review" and again["clock_stopped_at"] is None
    [row] = await sql(settings, "SELECT clock_stops FROM applications WHERE id = :id", id=again["id"])
    [stop] = row["clock_stops"]
    restarted = instant(stop["restarted_at"])
    assert abs(restarted - utcnow()) < dt.timedelta(minutes=1)
    assert instant(again["due_at"]) == CAL.add_working_days(restarted, settings.processing_days - 7)
    assert instant(again["due_at"]) != first_due
    egov_due, public_due = await lookups(client, actors, again["dossier_code"])
    assert egov_due == national(instant(again["due_at"])) and instant(public_due or "") == instant(again["due_at"])


async def test_overdue_list(
    client: httpx.AsyncClient, world: World, actors: Actors, settings: ApplicationsSettings
) -> None:
    late, on_time, decided = await world.submitted(), await world.submitted(), await world.approved()
    past = utcnow() - dt.timedelta(days=1)
    await sql(
        settings,
        "UPDATE applications SET due_at = :past WHERE id IN (:a, :b)",
        past=past,
        a=late["id"],
        b=decided["id"],
    )  # an approved dossier with a past due date met its deadline
    ids: dict[str, set[str]] = {}
    for flag in ("true", "false"):
        seen: set[str] = set()
        cursor = None
        while True:
            params = {"overdue": flag, "limit": 200} | ({"cursor": cursor} if cursor else {})
            response = await client.get("/api/v1/applications", params=params, headers=actors.officer())
            assert response.status_code == 200, response.text
            page = response.json()
            seen |= {item["id"] for item in page["items"]}
            assert all(item["overdue"] is (flag == "true") for item in page["items"])
            if not (cursor := page["next_cursor"]):
                break
        ids[flag] = seen
    assert late["id"] in ids["true"] and on_time["id"] not in ids["true"] and decided["id"] not in ids["true"]
    assert {on_time["id"], decided["id"]} <= ids["false"] and late["id"] not in ids["false"]
    assert (await world.get(late))["overdue"] is True
    # An enterprise's overdue list holds only its own dossiers.
    for enterprise, expected in ((world.a, True), (world.b, False)):
        response = await client.get(
            "/api/v1/applications",
            params={"overdue": "true", "limit": 200},
            headers=actors.enterprise(enterprise.tax_code),
        )
        assert (late["id"] in {item["id"] for item in response.json()["items"]}) is expected
    assert_problem(await client.get("/api/v1/applications", params={"overdue": "yes"}, headers=actors.officer()), 422)
