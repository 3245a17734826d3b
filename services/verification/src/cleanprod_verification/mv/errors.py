"""Errors raised by the M&V computations for input a person has to fix.

Every error carries a human message and, where known, the path of the offending field (for example
``reporting_periods[3].consumption[1].unit``) so the web layer can turn it into a 422 problem with ``errors[]``
entries shaped ``{"field", "message", "code"}`` — the same shape as ``cleanprod_kit.errors.field_error``.
This module deliberately does not import the kit: the computations stay free of web dependencies.
"""

from __future__ import annotations

from collections.abc import Iterable


class MVError(ValueError):
    """Base class of every error the M&V computations raise on bad input."""


class InputError(MVError):
    """One problem with one input field."""

    code = "invalid_value"

    def __init__(self, message: str, field: str | None = None) -> None:
        super().__init__(f"{field}: {message}" if field else message)
        self.message = message
        self.field = field

    def at(self, field: str) -> InputError:
        """The same error re-targeted at a (more precise) field path, keeping its type."""
        return type(self)(self.message, field)

    def as_problem_errors(self) -> list[dict[str, str]]:
        return [{"field": self.field or "", "message": self.message, "code": self.code}]


class UnknownUnitError(InputError):
    """A unit that is not in the fixed list, or not usable for that carrier / dimension."""

    code = "unknown_unit"


class UnsupportedCarrierError(InputError):
    """An energy carrier the conversion table does not know."""

    code = "unsupported_carrier"


class InvalidValueError(InputError):
    """A negative, non-finite or absurdly large number."""

    code = "invalid_value"


class InvalidPeriodError(InputError):
    """An inverted period, overlapping periods, or reporting that does not follow the baseline."""

    code = "invalid_period"


class InputErrors(MVError):
    """Several input problems found at once, so a person can fix them all in one go."""

    def __init__(self, errors: Iterable[InputError]) -> None:
        self.errors: list[InputError] = list(errors)
        if not self.errors:
            raise ValueError("InputErrors needs at least one error")
        first = self.errors[0]
        more = f" (and {len(self.errors) - 1} more)" if len(self.errors) > 1 else ""
        super().__init__(f"{first}{more}")

    def as_problem_errors(self) -> list[dict[str, str]]:
        return [item for e in self.errors for item in e.as_problem_errors()]
