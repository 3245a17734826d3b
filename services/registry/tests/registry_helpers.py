"""Helpers for the registry tests (importable by name: this folder is in pytest's `pythonpath`)."""

from __future__ import annotations

from typing import Any

import httpx

from cleanprod_kit.testing.data import random_tax_code
from cleanprod_kit.testing.issuer import TestIssuer


class Actors:
    """Bearer headers for each role; enterprise users are bound to a tax code."""

    def __init__(self, issuer: TestIssuer) -> None:
        self.issuer = issuer

    def headers(self, *roles: str, tax_code: str | None = None, **extra: Any) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.issuer.token(*roles, tax_code=tax_code)}", **extra}

    @property
    def officer(self) -> dict[str, str]:
        return self.headers("officer")

    @property
    def auditor(self) -> dict[str, str]:
        return self.headers("auditor")

    def enterprise(self, tax_code: str) -> dict[str, str]:
        return self.headers("enterprise", tax_code=tax_code)


def enterprise_body(tax_code: str | None = None, **overrides: Any) -> dict[str, Any]:
    body = {
        "tax_code": tax_code or random_tax_code(),
        "name": "Công ty Cổ phần Thép Đông Anh",
        "legal_form": "joint_stock",
        "size_class": "medium",
        "address": "Số 12 đường Cao Lỗ, Hà Nội",
        "ward": "Xã Đông Anh",
        "district": "Huyện Đông Anh",
        "contact_name": "Trần Thị Bích Ngọc",
        "contact_email": "ngoc.tran@thepdonganh.vn",
        "contact_phone": "+84 24 3883 1234",
    }
    body.update(overrides)
    return body


def facility_body(**overrides: Any) -> dict[str, Any]:
    body = {
        "name": "Nhà máy cán thép Đông Anh",
        "sector_code": "steel",
        "products": ["hot rolling long products"],
        "capacity_quantity": 250000,
        "capacity_unit": "t/yr",
        "address": "Khu công nghiệp Thăng Long, Hà Nội",
        "ward": "Xã Đông Anh",
        "district": "Huyện Đông Anh",
        "latitude": 21.1344,
        "longitude": 105.7831,
    }
    body.update(overrides)
    return body


def baseline_body(
    period_start: str,
    period_end: str,
    /,  # so that the overrides may replace either date
    production: float = 1,
    electricity: tuple[float, str] = (1, "kWh"),
    **overrides: Any,
) -> dict[str, Any]:
    """A baseline period: production in tonnes and one carrier, electricity."""
    body = {
        "period_start": period_start,
        "period_end": period_end,
        "production": {"quantity": production, "unit": "t"},
        "consumption": [{"carrier": "electricity", "quantity": electricity[0], "unit": electricity[1]}],
    }
    body.update(overrides)
    return body


async def create_enterprise(client: httpx.AsyncClient, actors: Actors, **overrides: Any) -> dict[str, Any]:
    response = await client.post("/api/v1/enterprises", json=enterprise_body(**overrides), headers=actors.officer)
    assert response.status_code == 201, response.text
    return response.json()


async def create_facility(
    client: httpx.AsyncClient, actors: Actors, enterprise_id: str, **overrides: Any
) -> dict[str, Any]:
    response = await client.post(
        f"/api/v1/enterprises/{enterprise_id}/facilities", json=facility_body(**overrides), headers=actors.officer
    )
    assert response.status_code == 201, response.text
    return response.json()
