"""Which baseline model explains the energy use, and on what degree-day basis (the M&V plan's choice).

Forms (a the fixed part per period, P production, CDD/HDD cooling/heating degree-days of the period):
  production          E = a + b·P                   (a process line: output drives use)
  weather             E = a + c·CDD + d·HDD          (a building: constant output, weather-driven load)
  production_weather  E = a + b·P + c·CDD + d·HDD    (both)
``form=None`` is the behaviour before models were chosen: production, plus each degree-day variable that is
given for every period.

Which degree-day variables a weather form uses follows the basis: a CDD base temperature makes CDD a model
variable, an HDD base makes HDD one (Hà Nội's plants usually have CDD only). Degree-days are given in the
basis's unit (°C·day or °F·day, one unit for the whole case, baseline and reporting alike) and converted to
°C·day before fitting (1 °F·day = 5/9 °C·day, base temperatures converted alike), so a case gives the same
savings in either unit; coefficients are per °C·day.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from .errors import InputError, InputErrors, InvalidValueError

FORM_PRODUCTION = "production"
FORM_WEATHER = "weather"
FORM_PRODUCTION_WEATHER = "production_weather"
FORMS = (FORM_PRODUCTION, FORM_WEATHER, FORM_PRODUCTION_WEATHER)

CELSIUS, FAHRENHEIT = "C", "F"
F_DAY_IN_C_DAY = 5.0 / 9.0
# Base temperatures a degree-day series is plausibly computed on (ASHRAE/CalTRACK search 10–27 °C; wider here)
BASE_RANGE_C = (0.0, 35.0)


def c_to_f(temperature_c: float) -> float:
    return temperature_c * 9.0 / 5.0 + 32.0


@dataclass(frozen=True)
class DegreeDayBasis:
    unit: str = CELSIUS  # "C" | "F": the unit of every degree-day figure of the case
    cdd_base: float | None = None  # base temperature in ``unit``; set → CDD is a model variable
    hdd_base: float | None = None
    station: str | None = None  # the weather station, for the record

    @property
    def to_celsius_days(self) -> float:
        return 1.0 if self.unit == CELSIUS else F_DAY_IN_C_DAY

    @property
    def weather_variables(self) -> list[str]:
        return [name for name, base in (("cdd", self.cdd_base), ("hdd", self.hdd_base)) if base is not None]


@dataclass(frozen=True)
class BaselineModel:
    form: str | None = None
    degree_days: DegreeDayBasis = field(default_factory=DegreeDayBasis)

    @property
    def uses_production(self) -> bool:
        return self.form != FORM_WEATHER

    @property
    def uses_weather(self) -> bool:
        return self.form in (FORM_WEATHER, FORM_PRODUCTION_WEATHER)

    def requested_variables(self) -> list[str]:
        """The model's regressors as chosen (None form: production; weather is taken where given)."""
        out = ["production"] if self.uses_production else []
        if self.uses_weather:
            out += self.degree_days.weather_variables
        return out


def validate_model(model: BaselineModel) -> None:
    """The plan itself: a known form, a known unit, base temperatures in range for that unit."""
    errors: list[InputError] = []
    basis = model.degree_days
    if model.form is not None and model.form not in FORMS:
        errors.append(InvalidValueError(f"unknown model {model.form!r}; use one of: {', '.join(FORMS)}", "model.form"))
    if basis.unit not in (CELSIUS, FAHRENHEIT):
        errors.append(InvalidValueError("degree-day unit must be C or F", "model.degree_day_unit"))
    else:
        lo, hi = BASE_RANGE_C if basis.unit == CELSIUS else (c_to_f(BASE_RANGE_C[0]), c_to_f(BASE_RANGE_C[1]))
        for name in ("cdd_base", "hdd_base"):
            value = getattr(basis, name)
            if value is not None and not lo <= value <= hi:
                errors.append(
                    InvalidValueError(
                        f"{name} {value:g} °{basis.unit} is outside {lo:g}–{hi:g} °{basis.unit}", f"model.{name}"
                    )
                )
    if model.uses_weather and not basis.weather_variables:
        errors.append(
            InvalidValueError(
                f"model {model.form} needs a CDD and/or HDD base temperature (which degree-days explain the use)",
                "model.cdd_base",
            )
        )
    if errors:
        raise InputErrors(errors)
