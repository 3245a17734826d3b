"""Who sees what: enterprises their own cases, verifiers the cases assigned to them, officers and auditors
everything; the programme summary is for officers and auditors."""

from __future__ import annotations

import httpx
from verification_helpers import Actors, assert_problem, new_verifier, open_case, steel_plant


async def test_enterprises_see_only_their_own_cases(
    client: httpx.AsyncClient, registry: httpx.AsyncClient, actors: Actors
) -> None:
    mine = await steel_plant(registry, actors)
    theirs = await steel_plant(registry, actors)
    my_case = await open_case(client, actors, mine)
    their_case = await open_case(client, actors, theirs)
    me = actors.enterprise(mine.enterprise["tax_code"])

    listed = (await client.get("/api/v1/verifications", headers=me)).json()["items"]
    assert [c["id"] for c in listed] == [my_case["id"]]
    assert (await client.get(f"/api/v1/verifications/{my_case['id']}", headers=me)).status_code == 200
    # another enterprise's case does not exist for me — in every sub-resource
    for path in ("", "/history", "/assignment", "/measurements", "/result", "/report"):
        assert_problem(await client.get(f"/api/v1/verifications/{their_case['id']}{path}", headers=me), 404)
    # filtering by the other application id finds nothing
    other = await client.get(
        "/api/v1/verifications", params={"application_id": their_case["application_id"]}, headers=me
    )
    assert other.json()["items"] == []
    # no preview for enterprises before the conclusion, no writes ever
    assert_problem(await client.get(f"/api/v1/verifications/{my_case['id']}/preview", headers=me), 403)
    assert_problem(
        await client.put(
            f"/api/v1/verifications/{my_case['id']}/assignment",
            headers={**me, "If-Match": "*"},
            json={"verifier_subject": "x", "verifier_username": "x"},
        ),
        403,
    )
    # an enterprise account without a tax code sees nothing
    assert_problem(await client.get("/api/v1/verifications", headers=actors.headers("enterprise")), 403)


async def test_staff_roles(client: httpx.AsyncClient, registry: httpx.AsyncClient, actors: Actors) -> None:
    plant = await steel_plant(registry, actors)
    case = await open_case(client, actors, plant)
    for headers in (actors.officer, actors.auditor):
        assert (await client.get(f"/api/v1/verifications/{case['id']}", headers=headers)).status_code == 200
    assert_problem(await client.get(f"/api/v1/verifications/{case['id']}", headers=actors.headers("reviewer")), 403)
    assert_problem(await client.get("/api/v1/verifications", headers=actors.headers("reviewer")), 403)
    assert_problem(
        await client.get(f"/api/v1/verifications/{case['id']}", headers=actors.verifier(new_verifier())), 403
    )
    assert_problem(await client.get("/api/v1/verifications"), 401)
    expired = {"Authorization": f"Bearer {actors.issuer.token('officer', expires_in=-120)}"}
    assert_problem(await client.get("/api/v1/verifications", headers=expired), 401)
    # auditors read, never write
    assert_problem(
        await client.put(
            f"/api/v1/verifications/{case['id']}/assignment",
            headers={**actors.auditor, "If-Match": "*"},
            json={"verifier_subject": "x", "verifier_username": "x"},
        ),
        403,
    )


async def test_programme_summary_roles(client: httpx.AsyncClient, actors: Actors) -> None:
    url = "/api/v1/programme/summary"
    assert (await client.get(url, headers=actors.officer)).status_code == 200
    assert (await client.get(url, headers=actors.auditor)).status_code == 200
    for headers in (
        actors.verifier(new_verifier()),
        actors.headers("enterprise", tax_code="0101234567"),
        actors.headers("reviewer"),
    ):
        assert_problem(await client.get(url, headers=headers), 403)
    assert_problem(
        await client.get(
            url, params={"concluded_from": "2026-02-01", "concluded_to": "2026-01-01"}, headers=actors.officer
        ),
        422,
    )
    assert_problem(await client.get(url, params={"concluded_from": "tháng 1"}, headers=actors.officer), 422)


async def test_the_list_and_the_case_agree_on_how_a_tax_code_is_written(
    client: httpx.AsyncClient,
    registry: httpx.AsyncClient,
    actors: Actors,
) -> None:
    """A branch unit's code is stored hyphenated (`NNNNNNNNNN-NNN`); a token may carry it compact. The list filter
    compares the canonical form, as the read check does (kit `tax_codes`), so both find the case."""
    plant = await steel_plant(registry, actors)
    branch = f"{plant.enterprise['tax_code']}-001"
    case = await open_case(client, actors, plant, enterprise_tax_code=branch)
    assert case["enterprise"]["tax_code"] == branch
    for written in (branch, branch.replace("-", "")):
        me = actors.enterprise(written)
        listed = (await client.get("/api/v1/verifications", headers=me)).json()["items"]
        assert [c["id"] for c in listed] == [case["id"]], written
        assert (await client.get(f"/api/v1/verifications/{case['id']}", headers=me)).status_code == 200
