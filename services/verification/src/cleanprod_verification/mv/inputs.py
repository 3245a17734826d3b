"""What the service layer hands to the computations: measured periods and the claim."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date


@dataclass(frozen=True, slots=True)
class Quantity:
    quantity: float
    unit: str


@dataclass(frozen=True, slots=True)
class CarrierQuantity:
    """Consumption of one energy carrier in one period, e.g. ``CarrierQuantity("electricity", 120.5, "MWh")``.

    A carrier listed twice in a period (two meters) is summed; a carrier absent from a period counts as zero.
    """

    carrier: str
    quantity: float
    unit: str


@dataclass(frozen=True, slots=True)
class Period:
    """One metering period. ``end`` is the last day included; two periods may share a boundary day, so both
    inclusive (Jan 1–Jan 31, Feb 1–Feb 28) and half-open (Jan 1–Feb 1, Feb 1–Mar 1) conventions are accepted.
    ``cdd``/``hdd``: cooling/heating degree-days of the period (same station and base temperature throughout).
    """

    start: date
    end: date
    production: Quantity
    consumption: Sequence[CarrierQuantity]
    cdd: float | None = None
    hdd: float | None = None


@dataclass(frozen=True, slots=True)
class Claim:
    """Savings claimed in the application, in percent (8.0 means 8 %).

    ``per_carrier_percent`` may hold negative values: a fuel switch claims more electricity and less coal.
    """

    overall_percent: float
    per_carrier_percent: Mapping[str, float] = field(default_factory=dict)
