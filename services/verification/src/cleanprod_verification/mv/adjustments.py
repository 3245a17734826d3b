"""IPMVP non-routine adjustments: energy the adjusted baseline gains (+) or loses (−) because a static factor
changed in the reporting period (a line added or shut, a building extended) — not explained by the model's
variables. Avoided energy = adjusted baseline − actual ± non-routine adjustments.

Each adjustment names its carrier; it moves that carrier's adjusted baseline and savings (and CO2, at the
carrier's factor) and the total's by the same TOE. The figures before adjustment are kept beside the adjusted
ones (``CarrierResult.unadjusted``), so a result always shows both. The model statistics and the savings
uncertainty are those of the model (an adjustment is an engineering estimate, outside the regression).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, replace

from .conversions import toe_to_gj
from .errors import InputError, InputErrors, InvalidValueError, UnsupportedCarrierError
from .results import CarrierResult, UnadjustedFigures
from .verdict import achieved_ratio


@dataclass(frozen=True, slots=True)
class NonRoutineAdjustment:
    carrier: str
    amount_toe: float  # added to the adjusted baseline (negative: removed)
    reason: str
    reference: str | None = None  # where it was approved (the service's adjustment id)


def validate_adjustments(adjustments: Sequence[NonRoutineAdjustment], carriers: Sequence[str]) -> None:
    errors: list[InputError] = []
    for i, a in enumerate(adjustments):
        if a.carrier not in carriers:
            errors.append(
                UnsupportedCarrierError(
                    f"the adjustment is for {a.carrier}, which no period measures", f"adjustments[{i}].carrier"
                )
            )
        if (
            isinstance(a.amount_toe, bool)
            or not isinstance(a.amount_toe, (int, float))
            or not math.isfinite(a.amount_toe)
        ):
            errors.append(InvalidValueError("the adjustment must be a finite number", f"adjustments[{i}].amount_toe"))
    if errors:
        raise InputErrors(errors)


def _percent(savings: float, adjusted: float) -> float | None:
    return savings / adjusted * 100.0 if adjusted > 0 else None


def adjust(result: CarrierResult, amount_toe: float, t_co2_per_toe: float | None) -> CarrierResult:
    """The result with ``amount_toe`` added to its adjusted baseline and savings (unadjusted figures kept)."""
    if amount_toe == 0:
        return result
    adjusted = result.adjusted_baseline_toe + amount_toe
    savings = result.savings_toe + amount_toe
    percent = _percent(savings, adjusted)
    return replace(
        result,
        adjusted_baseline_toe=adjusted,
        savings_toe=savings,
        savings_gj=toe_to_gj(savings),
        savings_percent=percent,
        savings_tco2=result.savings_tco2 + amount_toe * (t_co2_per_toe or 0.0),
        achieved_ratio=achieved_ratio(percent, result.claimed_percent),
        non_routine_adjustment_toe=amount_toe,
        unadjusted=UnadjustedFigures(
            result.adjusted_baseline_toe, result.savings_toe, result.savings_percent, result.savings_tco2
        ),
    )


def apply_adjustments(
    total: CarrierResult, carriers: list[CarrierResult], adjustments: Sequence[NonRoutineAdjustment]
) -> tuple[CarrierResult, list[CarrierResult]]:
    by_carrier: dict[str, float] = {}
    for a in adjustments:
        by_carrier[a.carrier] = by_carrier.get(a.carrier, 0.0) + float(a.amount_toe)
    adjusted = [adjust(c, by_carrier.get(c.carrier, 0.0), c.t_co2_per_toe) for c in carriers]
    new_total = adjust(total, sum(by_carrier.values()), None)
    # the total's CO2 is the sum of the carriers' (each at its own factor)
    return replace(new_total, savings_tco2=sum(c.savings_tco2 for c in adjusted)), adjusted
