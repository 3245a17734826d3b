"""The programme summary adds up verified savings by sector and by ward/district against the target."""

from __future__ import annotations

import uuid
from typing import Any

import httpx
import pytest
from verification_helpers import (
    Actors,
    beer_plant,
    beer_reporting,
    measure_and_conclude,
    open_case,
    steel_plant,
    steel_reporting,
)


async def summary(client: httpx.AsyncClient, actors: Actors, **params: Any) -> dict[str, Any]:
    response = await client.get("/api/v1/programme/summary", params=params, headers=actors.auditor)
    assert response.status_code == 200, response.text
    return response.json()


def group(rows: list[dict[str, Any]], **keys: Any) -> dict[str, Any]:
    return next(
        (r for r in rows if all(r[k] == v for k, v in keys.items())),
        {
            "cases": 0,
            "verified": 0,
            "not_achieved": 0,
            "savings_toe": 0.0,
            "savings_gj": 0.0,
            "savings_tco2": 0.0,
            "adjusted_baseline_toe": 0.0,
        },
    )


async def conclude_project(
    client: httpx.AsyncClient, actors: Actors, plant: Any, claimed: float, reporting: list[dict[str, Any]]
) -> dict[str, Any]:
    case = await open_case(client, actors, plant, claimed=claimed, per_carrier={})
    response = await measure_and_conclude(client, actors, case["id"], reporting)
    assert response.status_code == 200, response.text
    return response.json()


async def test_summary_sums_by_sector_and_ward(
    client: httpx.AsyncClient, registry: httpx.AsyncClient, actors: Actors
) -> None:
    tag = uuid.uuid4().hex[:6]
    district, ward_a, ward_b = f"Quận Thử {tag}", f"Phường Một {tag}", f"Phường Hai {tag}"
    before = await summary(client, actors)

    steel_a = await conclude_project(
        client, actors, await steel_plant(registry, actors, ward=ward_a, district=district), 8.0, steel_reporting(0.9)
    )
    steel_b = await conclude_project(
        client, actors, await steel_plant(registry, actors, ward=ward_b, district=district), 8.0, steel_reporting(0.95)
    )
    beer = await conclude_project(
        client, actors, await beer_plant(registry, actors, ward=ward_a, district=district), 10.0, beer_reporting(0.96)
    )
    assert [steel_a["verdict"], steel_b["verdict"], beer["verdict"]] == ["verified", "not_achieved", "not_achieved"]

    after = await summary(client, actors)
    target = after["target_pct"]
    assert target == 6.0

    # by ward: exact (the wards are new)
    a = group(after["by_ward"], district=district, ward=ward_a)
    assert (a["cases"], a["verified"], a["not_achieved"]) == (2, 1, 1)
    assert a["savings_toe"] == pytest.approx(steel_a["savings"]["toe"] + beer["savings"]["toe"], rel=1e-9)
    assert a["savings_gj"] == pytest.approx(steel_a["savings"]["gj"] + beer["savings"]["gj"], rel=1e-9)
    assert a["savings_tco2"] == pytest.approx(steel_a["savings"]["tco2"] + beer["savings"]["tco2"], rel=1e-9)
    adjusted = steel_a["savings"]["adjusted_baseline_toe"] + beer["savings"]["adjusted_baseline_toe"]
    assert a["savings_pct"] == pytest.approx(a["savings_toe"] / adjusted * 100, rel=1e-9)
    assert a["attainment_pct"] == pytest.approx(a["savings_pct"] / target * 100, rel=1e-9)
    assert a["meets_target"] is (a["savings_pct"] >= target)
    b = group(after["by_ward"], district=district, ward=ward_b)
    assert (b["cases"], b["verified"], b["not_achieved"]) == (1, 0, 1)
    assert b["savings_pct"] == pytest.approx(5.0, rel=1e-9) and b["meets_target"] is False
    assert b["attainment_pct"] == pytest.approx(5.0 / 6.0 * 100, rel=1e-9)
    d = group(after["by_district"], district=district)
    assert d["cases"] == 3 and d["savings_toe"] == pytest.approx(a["savings_toe"] + b["savings_toe"], rel=1e-9)

    # by sector and in total: what these three added
    def added(key: str, rows: str, **keys: Any) -> float:
        return group(after[rows], **keys)[key] - group(before[rows], **keys)[key]

    assert added("cases", "by_sector", sector_code="steel") == 2
    assert added("verified", "by_sector", sector_code="steel") == 1
    assert added("not_achieved", "by_sector", sector_code="steel") == 1
    assert added("savings_toe", "by_sector", sector_code="steel") == pytest.approx(
        steel_a["savings"]["toe"] + steel_b["savings"]["toe"], rel=1e-9
    )
    assert added("cases", "by_sector", sector_code="beer") == 1
    assert added("savings_tco2", "by_sector", sector_code="beer") == pytest.approx(beer["savings"]["tco2"], rel=1e-9)
    assert after["total"]["cases"] - before["total"]["cases"] == 3
    assert after["total"]["savings_gj"] - before["total"]["savings_gj"] == pytest.approx(
        steel_a["savings"]["gj"] + steel_b["savings"]["gj"] + beer["savings"]["gj"], rel=1e-9
    )

    # filters: a sector, and a window that excludes everything
    only_beer = await summary(client, actors, sector="beer")
    assert [g["sector_code"] for g in only_beer["by_sector"]] == ["beer"]
    empty = await summary(client, actors, concluded_to="2000-01-01")
    assert empty["total"]["cases"] == 0 and empty["total"]["savings_pct"] is None
    assert empty["by_sector"] == [] and empty["total"]["meets_target"] is False


async def test_summary_of_no_conclusion_is_one_total_of_zeros(client: httpx.AsyncClient, actors: Actors) -> None:
    """One pass over the conclusions (GROUPING SETS) still answers a filter nothing matches with a total of zeros."""
    empty = await summary(client, actors, concluded_from="2099-01-01")
    assert empty["total"]["cases"] == 0 and empty["total"]["savings_toe"] == 0.0
    assert empty["total"]["savings_pct"] is None and empty["total"]["meets_target"] is False
    for key in ("by_sector", "by_district", "by_ward", "by_period", "by_sector_period"):
        assert empty[key] == [], key


async def test_a_summary_is_computed_once_per_change_of_what_it_reads(
    client: httpx.AsyncClient,
    registry: httpx.AsyncClient,
    actors: Actors,
    app: Any,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Reads reuse the summary computed at the current generation; a conclusion — also one written by plain SQL,
    bypassing the service — moves the generation on in its own transaction, and the next read sees it."""
    from sqlalchemy import text

    from cleanprod_verification.programme import service as programme

    computed: list[dict[str, Any]] = []
    real = programme.summary

    async def counting(session: Any, **parameters: Any) -> Any:
        computed.append(parameters)
        return await real(session, **parameters)

    monkeypatch.setattr(programme, "summary", counting)
    first = await summary(client, actors)
    assert await summary(client, actors) == first and len(computed) <= 1  # at most the first read computes
    computed.clear()
    sector = f"s{uuid.uuid4().hex[:8]}"  # parameters no read has used yet
    await summary(client, actors, sector=sector)
    await summary(client, actors, sector=sector)
    assert [p["sector"] for p in computed] == [sector]  # computed once, then kept too

    case = await open_case(client, actors, await steel_plant(registry, actors), claimed=8.0, per_carrier={})
    async with app.state.db.session() as session:
        await session.exec(
            text(  # type: ignore[call-overload]
                "INSERT INTO conclusions (id, case_id, concluded_at, concluded_by_subject, verdict, method, "
                "requires_review, claimed_pct, savings_toe, savings_gj, savings_tco2, adjusted_baseline_toe, "
                "reporting_energy_toe, measurements_used, norm, result) VALUES (gen_random_uuid(), CAST(:c AS uuid), now(), 'v', "
                "'verified', 'sec', false, 8, 2.5, 100, 7, 40, 37.5, '[]', '{}', '{}')"
            ).bindparams(c=case["id"])
        )
        await session.commit()
    after = await summary(client, actors)
    assert after["total"]["cases"] == first["total"]["cases"] + 1
    assert after["total"]["savings_toe"] == pytest.approx(first["total"]["savings_toe"] + 2.5)
    public = await client.get("/api/v1/public/results")
    assert public.status_code == 200
