"""Carrier quantities → TOE, GJ, t CO2, checked row by row against the shipped tables and by hand."""

from __future__ import annotations

import csv
import io
from importlib.resources import files

import pytest

from cleanprod_verification.mv.conversions import co2_tonnes, emission_factor, energy_toe, to_energy
from cleanprod_verification.mv.errors import UnknownUnitError, UnsupportedCarrierError
from cleanprod_verification.mv.factors import GJ_PER_TOE, default_tables, load_tables


def _rows(name: str) -> list[dict[str, str]]:
    text = (files("cleanprod_verification") / "reference" / name).read_text(encoding="utf-8")
    return list(csv.DictReader(io.StringIO(text)))


ENERGY_ROWS = _rows("energy_factors.csv")
EMISSION_ROWS = _rows("emission_factors.csv")
COMBUSTION = {r["carrier"]: float(r["factor"]) for r in EMISSION_ROWS if r["basis"] == "combustion"}
GRID = {int(r["valid_year"]): float(r["factor"]) for r in EMISSION_ROWS if r["basis"] == "grid"}
# the same amount in the next unit of the dimension (what a person may type instead)
SCALED = {"t": ("kg", 1000.0), "m3": ("L", 1000.0), "1000 m3": ("m3", 1000.0), "kWh": ("MWh", 0.001)}


def test_reference_tables_keep_their_source_columns() -> None:
    assert list(ENERGY_ROWS[0]) == ["carrier", "unit", "toe_per_unit", "source"]
    assert list(EMISSION_ROWS[0]) == ["carrier", "basis", "factor", "unit", "valid_year", "source"]
    assert len(ENERGY_ROWS) == 13 and all(r["source"].startswith("MOIT") for r in ENERGY_ROWS)
    assert sorted(GRID) == list(range(2014, 2024))


@pytest.mark.parametrize("row", ENERGY_ROWS, ids=lambda r: f"{r['carrier']}-{r['unit']}")
def test_each_table_row_converts_as_the_table_says(row: dict[str, str]) -> None:
    carrier, unit, toe_per_unit = row["carrier"], row["unit"], float(row["toe_per_unit"])
    amount = to_energy(carrier, 2.5, unit)
    assert amount.toe == pytest.approx(2.5 * toe_per_unit, rel=1e-14)
    assert amount.gj == pytest.approx(2.5 * toe_per_unit * 41.868, rel=1e-14)

    other_unit, scale = SCALED[unit]
    assert energy_toe(carrier, 2.5 * scale, other_unit) == pytest.approx(2.5 * toe_per_unit, rel=1e-14)

    tco2, factor = co2_tonnes(carrier, 2.5, unit, 2023)
    if carrier == "electricity":  # kWh → MWh × DCC grid factor of 2023
        assert tco2 == pytest.approx(2.5 / 1000 * GRID[2023], rel=1e-12)
        assert (factor.year, factor.unit) == (2023, "tCO2/MWh")
    else:  # TOE → TJ × IPCC kgCO2/TJ → t
        tj = 2.5 * toe_per_unit * 41.868 / 1000
        assert tco2 == pytest.approx(tj * COMBUSTION[carrier] / 1000, rel=1e-12)
        assert (factor.year, factor.unit) == (None, "kgCO2/TJ")


def test_hand_checked_examples() -> None:
    assert GJ_PER_TOE == 41.868
    # 1000 kWh = 0.1543 TOE = 6.4602324 GJ; in 2022 the grid factor is 0.6766 t/MWh
    e = to_energy("electricity", 1000, "kWh")
    assert (e.toe, e.gj) == (pytest.approx(0.1543), pytest.approx(6.4602324))
    assert co2_tonnes("electricity", 1, "MWh", 2022)[0] == pytest.approx(0.6766)
    # 1 t diesel = 1.02 TOE = 42.70536 GJ = 0.04270536 TJ; × 74 100 kg/TJ = 3 164.467 kg
    assert co2_tonnes("diesel_oil", 1, "t", 2023)[0] == pytest.approx(3.16446718, rel=1e-8)
    # 500 L diesel = 0.5 m3 × 0.88 = 0.44 TOE
    assert energy_toe("diesel_oil", 500, "litre") == pytest.approx(0.44)
    # 2 500 m3 natural gas = 2.5 × 0.90 = 2.25 TOE = 94.203 GJ; 0.094203 TJ × 56 100 = 5 284.79 kg
    assert to_energy("natural_gas", 2500, "m3").gj == pytest.approx(94.203)
    assert co2_tonnes("natural_gas", 2500, "m3", 2023)[0] == pytest.approx(5.2847883, rel=1e-7)
    # 1 t coke = 0.725 TOE (midpoint of MOIT's 0.70–0.75)
    assert energy_toe("coke", 1000, "kg") == pytest.approx(0.725)


def test_grid_factor_uses_latest_year_not_after_the_period_and_says_so() -> None:
    same = emission_factor("electricity", 2020)
    assert (same.year, same.factor, same.note) == (2020, 0.8041, "")
    later = emission_factor("electricity", 2025)
    assert (later.year, later.factor) == (2023, 0.6592)
    assert "2025" in later.note and "latest available" in later.note
    earlier = emission_factor("electricity", 2010)
    assert earlier.year == 2014 and "earliest available" in earlier.note


def test_grid_factor_with_a_gap_in_the_table() -> None:
    energy = "carrier,unit,toe_per_unit,source\nelectricity,kWh,0.0001543,x\n"
    emission = (
        "carrier,basis,factor,unit,valid_year,source\n"
        "electricity,grid,0.5,tCO2/MWh,2014,x\nelectricity,grid,0.7,tCO2/MWh,2016,x\n"
    )
    tables = load_tables(energy, emission)
    choice = tables.grid_factor(2015)
    assert (choice.year, choice.t_co2_per_mwh) == (2014, 0.5)
    assert "not after 2015" in choice.note


def test_electricity_co2_per_toe_round_trips_through_the_moit_factor() -> None:
    # 1 TOE of electricity = 1/0.1543 MWh; × 0.6592 t/MWh
    assert emission_factor("electricity", 2023).t_co2_per_toe == pytest.approx(0.6592 / 0.1543, rel=1e-12)


def test_unknown_carrier_and_incompatible_units_are_specific_errors() -> None:
    with pytest.raises(UnsupportedCarrierError) as info:
        energy_toe("biomass", 1, "t", field="consumption[0].carrier")
    assert info.value.field == "consumption[0].carrier" and "electricity" in info.value.message
    with pytest.raises(UnknownUnitError, match="coal_grade_1_2 cannot be given in m3; use one of: t, kg"):
        energy_toe("coal_grade_1_2", 1, "m3")
    with pytest.raises(UnknownUnitError, match="electricity cannot be given in t"):
        energy_toe("electricity", 1, "t")
    with pytest.raises(UnknownUnitError, match="unknown unit 'gallon'"):
        energy_toe("diesel_oil", 1, "gallon")


def test_tables_are_parsed_once_and_cover_every_carrier_with_a_co2_factor() -> None:
    tables = default_tables()
    assert default_tables() is tables
    for carrier in tables.carriers:
        assert emission_factor(carrier, 2023).t_co2_per_toe > 0
