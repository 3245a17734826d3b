"""Unit list, table-driven scaling and canonical production units."""

from __future__ import annotations

import pytest

from cleanprod_verification.mv.errors import UnknownUnitError
from cleanprod_verification.mv.units import convert, parse_unit, production_unit, to_canonical_production


@pytest.mark.parametrize(
    ("quantity", "src", "dst", "expected"),
    [
        (1.0, "MWh", "kWh", 1000.0),
        (2500.0, "kWh", "MWh", 2.5),
        (1.0, "GWh", "MWh", 1000.0),
        (1500.0, "kg", "t", 1.5),
        (1.0, "t", "kg", 1000.0),
        (1.0, "L", "m3", 0.001),
        (1.0, "1000 m3", "m3", 1000.0),
        (3.0, "hl", "L", 300.0),
        (12.0, "piece", "unit", 12.0),
    ],
)
def test_scaling_within_a_dimension(quantity: float, src: str, dst: str, expected: float) -> None:
    assert convert(quantity, src, dst) == pytest.approx(expected, rel=1e-15)


@pytest.mark.parametrize(
    ("typed", "symbol"),
    [
        ("kwh", "kWh"),
        (" MWh ", "MWh"),
        ("litre", "L"),
        ("l", "L"),
        ("Liters", "L"),
        ("m³", "m3"),
        ("1000m3", "1000 m3"),
        ("1000 m³", "1000 m3"),
        ("tonne", "t"),
        ("tấn", "t"),
        ("HL", "hl"),
        ("pcs", "piece"),
    ],
)
def test_common_spellings_are_accepted(typed: str, symbol: str) -> None:
    assert parse_unit(typed).symbol == symbol


@pytest.mark.parametrize("typed", ["gallon", "ton", "", "kW", "mwh/h"])
def test_unknown_unit_is_a_specific_error_with_the_field(typed: str) -> None:
    with pytest.raises(UnknownUnitError) as info:
        parse_unit(typed, "production.unit")
    assert info.value.field == "production.unit"
    assert "unknown unit" in info.value.message and "kWh" in info.value.message


def test_conversion_across_dimensions_is_refused() -> None:
    with pytest.raises(UnknownUnitError, match="cannot convert kg"):
        convert(1.0, "kg", "m3")


@pytest.mark.parametrize(
    ("quantity", "unit", "value", "canonical"),
    [
        (2.0, "t", 2.0, "t"),
        (2500.0, "kg", 2.5, "t"),
        (40.0, "hl", 4.0, "m3"),
        (500.0, "L", 0.5, "m3"),
        (7.0, "m3", 7.0, "m3"),
        (12.5, "m²", 12.5, "m2"),
        (300.0, "piece", 300.0, "unit"),
    ],
)
def test_production_goes_to_the_canonical_unit_of_its_dimension(
    quantity: float, unit: str, value: float, canonical: str
) -> None:
    assert to_canonical_production(quantity, unit) == (pytest.approx(value, rel=1e-15), canonical)


def test_electricity_units_are_not_production_units() -> None:
    with pytest.raises(UnknownUnitError, match="not a production unit"):
        production_unit("kWh", "baseline_periods[0].production.unit")
