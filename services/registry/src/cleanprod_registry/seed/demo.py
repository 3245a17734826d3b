"""Demo data for `./cleanprod up`: real-style Hà Nội enterprises (Vietnamese names and addresses, wards after
the 2025 two-level reform with the former district kept for reference), their facilities, and 24 monthly
baseline periods for the two facilities whose demo accounts exist in Keycloak. Idempotent: skips what exists."""

from __future__ import annotations

import asyncio
import datetime as dt
import math
import random
import sys
from typing import Any

from sqlmodel import select
from sqlmodel.ext.asyncio.session import AsyncSession

from cleanprod_kit.db import Database

from .. import models  # noqa: F401 - every table must be known before the first flush
from ..baselines.models import Baseline
from ..enterprises.models import Enterprise, LegalForm, SizeClass
from ..facilities.models import Facility

ENTERPRISES: list[dict[str, Any]] = [
    {
        "tax_code": "0100109106",
        "name": "Công ty Cổ phần Thép Hà Nội",
        "name_en": "Hanoi Steel JSC",
        "legal_form": LegalForm.joint_stock,
        "size_class": SizeClass.large,
        "address": "Lô 12, Khu công nghiệp Nội Bài, Hà Nội",
        "ward": "Xã Nội Bài",
        "district": "Huyện Sóc Sơn",
        "contact_name": "Nguyễn Văn An",
        "contact_email": "an.nguyen@thephanoi.example.vn",
        "contact_phone": "+84 24 3884 1001",
        "facilities": [
            {
                "name": "Nhà máy luyện phôi thép lò điện hồ quang Nội Bài",
                "sector_code": "steel",
                "products": ["billet electric arc furnace"],
                "capacity_quantity": 200000,
                "capacity_unit": "t/yr",
                "address": "Lô 12, KCN Nội Bài",
                "ward": "Xã Nội Bài",
                "district": "Huyện Sóc Sơn",
                "latitude": 21.2412,
                "longitude": 105.8055,
                "baseline": {
                    "unit": "t",
                    "p": (14000, 19000),
                    "carriers": {"electricity": ("kWh", 2_100_000, 410.0), "natural_gas": ("1000 m3", 40, 0.021)},
                },
            }
        ],
    },
    {
        "tax_code": "0101243150",
        "name": "Công ty TNHH Bia Thăng Long",
        "name_en": "Thang Long Brewery Co., Ltd",
        "legal_form": LegalForm.llc_multi_member,
        "size_class": SizeClass.medium,
        "address": "Đường số 3, Khu công nghiệp Quang Minh, Hà Nội",
        "ward": "Xã Quang Minh",
        "district": "Huyện Mê Linh",
        "contact_name": "Trần Thị Hồng Nhung",
        "contact_email": "nhung.tran@biathanglong.example.vn",
        "contact_phone": "+84 24 3525 2002",
        "facilities": [
            {
                "name": "Nhà máy bia Thăng Long – Quang Minh",
                "sector_code": "beer",
                "products": ["beer"],
                "capacity_quantity": 50,
                "capacity_unit": "million L/yr",
                "address": "Đường số 3, KCN Quang Minh",
                "ward": "Xã Quang Minh",
                "district": "Huyện Mê Linh",
                "latitude": 21.1960,
                "longitude": 105.7550,
                "baseline": {
                    "unit": "hl",
                    "p": (30000, 48000),
                    "carriers": {"electricity": ("kWh", 180_000, 9.5), "coal_grade_3_4": ("t", 60, 0.0135)},
                },
            }
        ],
    },
    {
        "tax_code": "0100100079",
        "name": "Công ty Cổ phần Giấy Sông Đuống",
        "name_en": "Song Duong Paper JSC",
        "legal_form": LegalForm.joint_stock,
        "size_class": SizeClass.small,
        "address": "Thôn Phù Dực, Hà Nội",
        "ward": "Xã Phù Đổng",
        "district": "Huyện Gia Lâm",
        "contact_name": "Lê Minh Đức",
        "contact_email": "duc.le@giaysongduong.example.vn",
        "facilities": [
            {
                "name": "Xưởng giấy tissue Phù Đổng",
                "sector_code": "paper",
                "products": ["tissue"],
                "capacity_quantity": 8000,
                "capacity_unit": "t/yr",
                "address": "Thôn Phù Dực",
                "ward": "Xã Phù Đổng",
                "district": "Huyện Gia Lâm",
            }
        ],
    },
    {
        "tax_code": "0102030405",
        "name": "Công ty Cổ phần Nước giải khát Hồ Tây",
        "legal_form": LegalForm.joint_stock,
        "size_class": SizeClass.medium,
        "address": "Số 28 đường Lạc Long Quân, Hà Nội",
        "ward": "Phường Tây Hồ",
        "district": "Quận Tây Hồ",
        "contact_name": "Phạm Quốc Bảo",
        "facilities": [
            {
                "name": "Dây chuyền nước giải khát có ga Tây Hồ",
                "sector_code": "beverage",
                "products": ["soft drinks carbonated (or carbonated+still)"],
                "address": "Số 28 Lạc Long Quân",
                "ward": "Phường Tây Hồ",
                "district": "Quận Tây Hồ",
            }
        ],
    },
    {
        "tax_code": "0100233583",
        "name": "Công ty TNHH Dệt may Minh Khai",
        "legal_form": LegalForm.llc_single_member,
        "size_class": SizeClass.medium,
        "address": "Số 423 phố Minh Khai, Hà Nội",
        "ward": "Phường Vĩnh Tuy",
        "district": "Quận Hai Bà Trưng",
        "contact_name": "Đỗ Thị Thu Trang",
        "facilities": [
            {
                "name": "Xưởng nhuộm hoàn tất Minh Khai",
                "sector_code": "textile",
                "products": ["dyed fabric"],
                "address": "Số 423 phố Minh Khai",
                "ward": "Phường Vĩnh Tuy",
                "district": "Quận Hai Bà Trưng",
            }
        ],
    },
    {
        "tax_code": "0101360697",
        "name": "Công ty Cổ phần Chế biến Thủy sản Long Biên",
        "legal_form": LegalForm.joint_stock,
        "size_class": SizeClass.small,
        "address": "Khu công nghiệp Sài Đồng B, Hà Nội",
        "ward": "Phường Phúc Lợi",
        "district": "Quận Long Biên",
        "contact_name": "Vũ Đình Khoa",
        "facilities": [
            {
                "name": "Nhà máy chế biến cá tra Sài Đồng",
                "sector_code": "seafood",
                "products": ["catfish (pangasius) products - fish-equivalent"],
                "capacity_quantity": 1200,
                "capacity_unit": "t product/yr",
                "address": "KCN Sài Đồng B",
                "ward": "Phường Phúc Lợi",
                "district": "Quận Long Biên",
            }
        ],
    },
]


def _months(start: dt.date, count: int) -> list[tuple[dt.date, dt.date]]:
    periods = []
    year, month = start.year, start.month
    for _ in range(count):
        first = dt.date(year, month, 1)
        year, month = (year + 1, 1) if month == 12 else (year, month + 1)
        periods.append((first, dt.date(year, month, 1) - dt.timedelta(days=1)))
    return periods


def baseline_rows(facility_id: Any, spec: dict[str, Any], seed: int) -> list[Baseline]:
    """24 months of 2024–2025: production with a seasonal swing, energy = fixed + variable × production + noise."""
    rng = random.Random(seed)
    low, high = spec["p"]
    rows = []
    for i, (start, end) in enumerate(_months(dt.date(2024, 1, 1), 24)):
        production = round(low + (high - low) * (0.5 + 0.4 * math.sin(i / 12 * 2 * math.pi)) + rng.uniform(-300, 300))
        consumption = [
            {
                "carrier": carrier,
                "unit": unit,
                "quantity": round((fixed + per_unit * production) * rng.uniform(0.98, 1.02), 3),
            }
            for carrier, (unit, fixed, per_unit) in spec["carriers"].items()
        ]
        rows.append(
            Baseline(
                facility_id=facility_id,
                period_start=start,
                period_end=end,
                production_quantity=production,
                production_unit=spec["unit"],
                consumption=consumption,
            )
        )
    return rows


async def load_demo(session: AsyncSession) -> int:
    created = 0
    for index, spec in enumerate(ENTERPRISES):
        data = {k: v for k, v in spec.items() if k != "facilities"}
        existing = (await session.exec(select(Enterprise).where(Enterprise.tax_code == data["tax_code"]))).first()
        if existing is not None:
            continue
        enterprise = Enterprise(**data)
        session.add(enterprise)
        await session.flush()
        for facility_spec in spec["facilities"]:
            fields = {k: v for k, v in facility_spec.items() if k != "baseline"}
            facility = Facility(enterprise_id=enterprise.id, **fields)
            session.add(facility)
            await session.flush()
            if "baseline" in facility_spec:
                session.add_all(baseline_rows(facility.id, facility_spec["baseline"], seed=index))
        created += 1
    await session.commit()
    return created


async def main(database_url: str) -> None:
    database = Database(database_url, pool_size=1, max_overflow=0)
    async with database.session() as session:
        created = await load_demo(session)
    await database.dispose()
    print(f"demo data: {created} enterprises added")


if __name__ == "__main__":
    asyncio.run(main(sys.argv[1]))
