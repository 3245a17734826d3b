"""Verification results export (issue #14): CSV/XLSX rows equal the filtered list with each conclusion's
figures, typed cells, Vietnamese headers, and an enterprise exports only its own cases."""

from __future__ import annotations

import csv
import io

import httpx
from openpyxl import load_workbook
from verification_helpers import (
    Actors,
    measure_and_conclude,
    open_case,
    steel_plant,
    steel_reporting,
)

from cleanprod_verification.cases.export import RESULT_COLUMNS

KEYS = [c.key for c in RESULT_COLUMNS]


async def test_results_export_equals_the_list(
    client: httpx.AsyncClient, registry: httpx.AsyncClient, actors: Actors
) -> None:
    plant = await steel_plant(registry, actors)
    case = await open_case(client, actors, plant, claimed=8.0)
    concluded = await measure_and_conclude(client, actors, case["id"], steel_reporting(0.9))
    assert concluded.status_code == 200, concluded.text
    result = concluded.json()
    params = {"application_id": case["application_id"]}
    [listed] = (await client.get("/api/v1/verifications", params=params, headers=actors.officer)).json()["items"]

    response = await client.get(
        "/api/v1/verifications/export", params={**params, "format": "xlsx"}, headers=actors.officer
    )
    assert response.status_code == 200, response.text
    values = list(load_workbook(io.BytesIO(response.content)).active.iter_rows(values_only=True))
    assert values[0][:3] == ("Mã hồ sơ", "Tên dự án", "Doanh nghiệp")
    assert len(values) == 2
    row = dict(zip(KEYS, values[1], strict=True))
    assert row["id"] == listed["id"] and row["verdict"] == listed["conclusion"]["verdict"] == result["verdict"]
    assert row["enterprise_name"] == listed["enterprise"]["name"]  # Vietnamese text
    assert isinstance(row["verified_pct"], float) and abs(row["verified_pct"] - result["verified_savings_pct"]) < 1e-9
    assert isinstance(row["savings_toe"], float) and abs(row["savings_toe"] - result["savings"]["toe"]) < 1e-9
    assert row["concluded_at"] is not None and row["status"] == "concluded"

    english = await client.get(
        "/api/v1/verifications/export", params=params, headers={**actors.officer, "Accept-Language": "en"}
    )
    rows = list(csv.reader(io.StringIO(english.content.decode("utf-8-sig"))))
    assert rows[0][:2] == ["Dossier code", "Project title"] and rows[1][KEYS.index("verdict")] == result["verdict"]

    # The enterprise sees its own case; another enterprise exports nothing of it.
    own = await client.get(
        "/api/v1/verifications/export", params=params, headers=actors.enterprise(plant.enterprise["tax_code"])
    )
    assert len(list(csv.reader(io.StringIO(own.content.decode("utf-8-sig"))))) == 2
    other = await steel_plant(registry, actors)
    theirs = await client.get(
        "/api/v1/verifications/export", params=params, headers=actors.enterprise(other.enterprise["tax_code"])
    )
    assert theirs.status_code == 200 and list(csv.reader(io.StringIO(theirs.content.decode("utf-8-sig"))))[1:] == []
