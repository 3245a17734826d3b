"""Facilities export (issue #14): CSV/XLSX equal the filtered JSON list, Vietnamese headers, typed cells, and an
enterprise exports only its own facilities."""

from __future__ import annotations

import csv
import io
import uuid

import httpx
from openpyxl import load_workbook
from registry_helpers import Actors, create_enterprise, create_facility


async def test_facilities_export_equals_the_list(client: httpx.AsyncClient, actors: Actors) -> None:
    enterprise = await create_enterprise(client, actors)
    ward = f"Phường Thử {uuid.uuid4().hex[:6]}"
    made = [
        await create_facility(
            client, actors, enterprise["id"], name=f"Nhà máy bia Hà Nội số {n}", ward=ward, capacity_quantity=1000 + n
        )
        for n in range(3)
    ]
    listed = (await client.get("/api/v1/facilities", params={"ward": ward}, headers=actors.officer)).json()["items"]
    assert [f["id"] for f in listed] == [f["id"] for f in made]

    response = await client.get("/api/v1/facilities/export", params={"ward": ward}, headers=actors.officer)
    assert response.status_code == 200, response.text
    rows = list(csv.reader(io.StringIO(response.content.decode("utf-8-sig"))))
    assert rows[0][:3] == ["Tên cơ sở", "Mã số thuế doanh nghiệp", "Ngành"]
    assert [(r[0], r[-1], float(r[4])) for r in rows[1:]] == [
        (f["name"], f["id"], f["capacity_quantity"]) for f in listed
    ]

    xlsx = await client.get(
        "/api/v1/facilities/export",
        params={"ward": ward, "format": "xlsx"},
        headers={**actors.officer, "Accept-Language": "en"},
    )
    values = list(load_workbook(io.BytesIO(xlsx.content)).active.iter_rows(values_only=True))
    assert values[0][:3] == ("Facility", "Enterprise tax code", "Sector")
    assert [(v[0], v[4]) for v in values[1:]] == [(f["name"], f["capacity_quantity"]) for f in listed]
    assert all(isinstance(v[4], int | float) for v in values[1:])  # a number cell, not text

    # Another enterprise's export holds none of these.
    stranger = await create_enterprise(client, actors)
    theirs = await client.get(
        "/api/v1/facilities/export", params={"ward": ward}, headers=actors.enterprise(stranger["tax_code"])
    )
    assert list(csv.reader(io.StringIO(theirs.content.decode("utf-8-sig"))))[1:] == []
    own = await client.get(
        "/api/v1/facilities/export", params={"ward": ward}, headers=actors.enterprise(enterprise["tax_code"])
    )
    assert len(list(csv.reader(io.StringIO(own.content.decode("utf-8-sig"))))) == 4
