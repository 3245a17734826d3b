"""Measurement & verification computations: pure functions, no I/O, no database, no web.

Map of the modules:
  units          fixed unit list, scaling within a dimension, canonical production units
  factors        MOIT energy and DCC/IPCC emission factor tables (CSV shipped in the package)
  conversions    carrier quantity → TOE, GJ, tCO2
  distributions  Student t (CDF, quantile) and F (p-value), from SciPy
  regression     OLS baseline model and its statistics
  uncertainty    ASHRAE G14 Annex B fractional savings uncertainty
  criteria       model acceptance criteria (defaults documented there)
  sec            specific energy consumption comparison
  norms          sector norms and SEC unit conversion
  verdict        verified / not_achieved rules
  validation     input checks with field paths
  savings        ``compute_savings`` — the entry point the service calls
  batch          ``compute_savings_many`` — many cases at once, the same results
  records        ``compute_savings_records`` — many cases at once, the same records (``to_dict()``), column-wise;
                 ``compute_savings_batch`` — the same batch, headline figures at once, records made on access
"""

from .batch import SavingsBatch, SavingsCase, compute_savings_batch, compute_savings_many, compute_savings_records
from .conversions import EmissionFactorUsed, EnergyAmount, co2_tonnes, emission_factor, energy_toe, to_energy, toe_to_gj
from .criteria import AcceptanceCriteria, CriterionCheck
from .errors import (
    InputError,
    InputErrors,
    InvalidPeriodError,
    InvalidValueError,
    MVError,
    UnknownUnitError,
    UnsupportedCarrierError,
)
from .factors import GJ_PER_TOE, FactorTables, default_tables
from .inputs import CarrierQuantity, Claim, Period, Quantity
from .norms import NormComparison, SectorNorm, compare_with_norm, convert_sec
from .results import CarrierResult, InputsUsed, PeriodUsed, RegressionResult, SavingsHeadline, SavingsResult, SecResult
from .savings import compute_savings
from .settings import MVSettings
from .uncertainty import SavingsUncertainty
from .units import convert, to_canonical_production
from .validation import ValidationLimits, prepare_inputs
from .verdict import NOT_ACHIEVED, VERIFIED, Verdict, VerdictRules, decide

__all__ = [
    "GJ_PER_TOE",
    "NOT_ACHIEVED",
    "VERIFIED",
    "AcceptanceCriteria",
    "CarrierQuantity",
    "CarrierResult",
    "Claim",
    "CriterionCheck",
    "EmissionFactorUsed",
    "EnergyAmount",
    "FactorTables",
    "InputError",
    "InputErrors",
    "InputsUsed",
    "InvalidPeriodError",
    "InvalidValueError",
    "MVError",
    "MVSettings",
    "NormComparison",
    "Period",
    "PeriodUsed",
    "Quantity",
    "RegressionResult",
    "SavingsCase",
    "SavingsBatch",
    "SavingsHeadline",
    "SavingsResult",
    "SavingsUncertainty",
    "SecResult",
    "SectorNorm",
    "UnknownUnitError",
    "UnsupportedCarrierError",
    "ValidationLimits",
    "Verdict",
    "VerdictRules",
    "co2_tonnes",
    "compare_with_norm",
    "compute_savings",
    "compute_savings_batch",
    "compute_savings_many",
    "compute_savings_records",
    "convert",
    "convert_sec",
    "decide",
    "default_tables",
    "emission_factor",
    "energy_toe",
    "prepare_inputs",
    "to_canonical_production",
    "to_energy",
    "toe_to_gj",
]
