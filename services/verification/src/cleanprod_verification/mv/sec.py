"""Specific energy consumption (SEC = E / P) comparison between baseline and reporting periods.

SEC of a set of periods is total energy over total production (not the mean of monthly ratios, which would
give a quiet month as much weight as a busy one). Savings = (SEC_base − SEC_rep) · P_rep, which equals
SEC_base·P_rep − E_rep: the baseline intensity applied to the reporting output, minus actual use; the
fraction (SEC_base − SEC_rep) / SEC_base is the same savings over that "adjusted baseline".

Caution (ISO 50006): SEC ignores the fixed part of consumption. With E = a + b·P, SEC falls as output grows
with no efficiency change, so a production increase shows up as a false saving. The regression baseline
exists to correct exactly that.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class SecComparison:
    baseline_energy: float
    baseline_production: float
    reporting_energy: float
    reporting_production: float
    sec_baseline: float  # energy per production unit
    sec_reporting: float
    adjusted_baseline: float  # SEC_base · P_rep: what the reporting output would have used at baseline SEC
    savings: float  # (SEC_base − SEC_rep) · P_rep
    savings_fraction: float | None  # (SEC_base − SEC_rep) / SEC_base; None when SEC_base = 0


def sec_comparison(
    baseline_energy: float, baseline_production: float, reporting_energy: float, reporting_production: float
) -> SecComparison:
    if baseline_production <= 0 or reporting_production <= 0:
        raise ValueError("total production must be positive in both the baseline and the reporting periods")
    sec_b = baseline_energy / baseline_production
    sec_r = reporting_energy / reporting_production
    savings = (sec_b - sec_r) * reporting_production
    return SecComparison(
        baseline_energy=baseline_energy,
        baseline_production=baseline_production,
        reporting_energy=reporting_energy,
        reporting_production=reporting_production,
        sec_baseline=sec_b,
        sec_reporting=sec_r,
        adjusted_baseline=sec_b * reporting_production,
        savings=savings,
        savings_fraction=(sec_b - sec_r) / sec_b if sec_b > 0 else None,
    )
