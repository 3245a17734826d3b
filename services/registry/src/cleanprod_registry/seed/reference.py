"""Loads the reference tables (sectors, sector norms) shipped with the service."""

from __future__ import annotations

import csv
import datetime as dt
import io
from importlib import resources
from typing import Any

from ..sectors.bands import parse_band


def _rows(name: str) -> list[dict[str, str]]:
    text = resources.files("cleanprod_registry.seed").joinpath(name).read_text(encoding="utf-8")
    return list(csv.DictReader(io.StringIO(text)))


def sector_rows() -> list[dict[str, Any]]:
    return [
        {
            "code": r["code"],
            "name_vi": r["name_vi"],
            "name_en": r["name_en"],
            "priority": r["priority"].strip().lower() == "true",
        }
        for r in _rows("sectors.csv")
    ]


def norm_rows() -> list[dict[str, Any]]:
    rows = []
    for r in _rows("norms_seed.csv"):
        band = parse_band(r["capacity_band"] or None)
        rows.append(
            {
                "circular": r["circular"],
                "sector_code": r["sector"],
                "product": r["product_or_stage"],
                "capacity_band": r["capacity_band"] or None,
                "unit": r["unit"],
                "value": float(r["norm_value"]),
                "valid_from": dt.date.fromisoformat(r["period_start"]),
                "valid_to": dt.date.fromisoformat(r["period_end"]),
                "source_url": r["source_url"],
                "band_min": band.minimum,
                "band_min_inclusive": band.min_inclusive,
                "band_max": band.maximum,
                "band_max_inclusive": band.max_inclusive,
            }
        )
    return rows
