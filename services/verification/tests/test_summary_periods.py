"""Programme results over time and in public (issue #14): the summary by quarter/year of conclusion, each
group's distinct enterprises, and `GET /api/v1/public/results` — anonymous, aggregates only, small groups
suppressed."""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Any
from zoneinfo import ZoneInfo

import httpx
import pytest
from test_summary import conclude_project, group, summary
from verification_helpers import Actors, steel_plant, steel_reporting


def this_quarter() -> str:
    today = dt.datetime.now(ZoneInfo("Asia/Ho_Chi_Minh")).date()
    return f"{today.year}-Q{(today.month - 1) // 3 + 1}"


async def test_summary_groups_by_quarter_and_year_of_conclusion(
    client: httpx.AsyncClient, registry: httpx.AsyncClient, actors: Actors
) -> None:
    before = await summary(client, actors)
    district = f"Huyện Thử {uuid.uuid4().hex[:6]}"
    plants = [await steel_plant(registry, actors, ward=f"Xã {n}", district=district) for n in range(2)]
    done = [await conclude_project(client, actors, p, 8.0, steel_reporting(0.9)) for p in plants]
    after = await summary(client, actors)
    assert after["period_kind"] == "quarter"
    quarter = this_quarter()
    added_cases = (
        group(after["by_period"], period=quarter)["cases"] - group(before["by_period"], period=quarter)["cases"]
    )
    assert added_cases == 2
    grown = (
        group(after["by_period"], period=quarter)["savings_toe"]
        - group(before["by_period"], period=quarter)["savings_toe"]
    )
    assert grown == pytest.approx(sum(d["savings"]["toe"] for d in done), rel=1e-9)
    assert [g["period"] for g in after["by_period"]] == sorted(g["period"] for g in after["by_period"])
    assert sum(g["cases"] for g in after["by_period"]) == after["total"]["cases"]
    steel_now = group(after["by_sector_period"], sector_code="steel", period=quarter)
    assert steel_now["cases"] >= 2 and steel_now["sector_code"] == "steel"
    assert group(after["by_district"], district=district)["enterprises"] == 2

    yearly = await summary(client, actors, period="year")
    assert yearly["period_kind"] == "year"
    assert {g["period"] for g in yearly["by_period"]} >= {quarter[:4]}
    bad = await client.get("/api/v1/programme/summary", params={"period": "month"}, headers=actors.auditor)
    assert bad.status_code == 422


async def test_public_results_need_no_token_show_no_enterprise_and_suppress_small_groups(
    client: httpx.AsyncClient, registry: httpx.AsyncClient, actors: Actors
) -> None:
    tag = uuid.uuid4().hex[:6]
    alone, shared = f"Huyện Một {tag}", f"Huyện Ba {tag}"
    single = await steel_plant(registry, actors, ward="Xã Lẻ", district=alone)
    trio = [await steel_plant(registry, actors, ward=f"Xã {n}", district=shared) for n in range(3)]
    for plant in [single, *trio]:
        await conclude_project(client, actors, plant, 8.0, steel_reporting(0.9))

    response = await client.get("/api/v1/public/results")  # no Authorization header at all
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    assert body["min_enterprises"] == 3
    districts = {g["district"]: g for g in body["by_district"]}
    assert alone not in districts  # one enterprise: its own figures — suppressed
    assert districts[shared]["enterprises"] == 3 and districts[shared]["verified"] == 3
    full = await summary(client, actors)
    assert districts[shared]["savings_toe"] == pytest.approx(group(full["by_district"], district=shared)["savings_toe"])
    assert body["suppressed_groups"] >= 1
    assert all(g["enterprises"] >= 3 for key in ("by_sector", "by_district", "by_period") for g in body[key])

    # Aggregates only: no enterprise, facility, case or tax code anywhere in the answer.
    text = response.text
    for plant in [single, *trio]:
        for secret in (
            plant.enterprise["tax_code"],
            plant.enterprise["name"],
            plant.facility["id"],
            plant.facility["name"],
            plant.enterprise["id"],
        ):
            assert secret not in text
    assert set(body["by_district"][0]) == {
        "sector_code",
        "district",
        "period",
        "enterprises",
        "verified",
        "savings_toe",
        "savings_gj",
        "savings_tco2",
        "savings_pct",
        "target_pct",
        "meets_target",
    }
