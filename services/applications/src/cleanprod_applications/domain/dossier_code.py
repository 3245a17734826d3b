"""Dossier codes (mã hồ sơ), Circular 01/2018/TT-VPCP art. 19: ``<agency e-identifier>-<YYMMDD>-<NNNN>``.

Example: ``000.00.01.H26-261128-0001`` — first dossier received on 28/11/2026 by the agency whose
electronic identifier (mã định danh điện tử) is ``000.00.01.H26``.

* The agency identifier has the 13-character shape ``A1A2A3.B1B2.C1C2.D1D2D3`` used for Vietnamese
  agencies: three groups of digits, then a letter and two digits for the top-level unit (``H26``,
  ``G14`` …). Letters are accepted in upper case only, as the identifiers are published.
* The date is the Asia/Ho_Chi_Minh calendar date of submission: 2026-11-28T18:00Z is already
  29/11/2026 in Hanoi, so it gets ``261129``. Years are read as 20YY.
* The sequence counts that agency's dossiers on that local day, 0001..9999. Allocating the next number
  (atomically, per agency and day) is the service's job; this module only formats and checks. A 10 000th
  dossier in one day is refused loudly rather than given a five-digit or wrapped-around code that a
  national system would reject or confuse with another dossier.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, datetime

from cleanprod_kit.local_time import local_date

MAX_DAILY_SEQUENCE = 9_999

AGENCY_ID_PATTERN = r"[0-9]{3}\.[0-9]{2}\.[0-9]{2}\.[A-Z][0-9]{2}"  # ASCII only: \d would also accept ٠١٢
DOSSIER_CODE_RE = re.compile(rf"(?P<agency>{AGENCY_ID_PATTERN})-(?P<date>[0-9]{{6}})-(?P<seq>[0-9]{{4}})")
_AGENCY_RE = re.compile(AGENCY_ID_PATTERN)
# What the OpenAPI document says a code looks like: month 01–12, day 01–31, sequence 0001–9999. A code that
# matches it can still name an impossible day (300231): parse_dossier_code says so with 422.
DOSSIER_CODE_PATTERN = (
    rf"^{AGENCY_ID_PATTERN}-[0-9]{{2}}(0[1-9]|1[0-2])(0[1-9]|[12][0-9]|3[01])"
    r"-(000[1-9]|00[1-9][0-9]|0[1-9][0-9]{2}|[1-9][0-9]{3})$"
)


class InvalidDossierCode(ValueError):
    """A string that is not a well-formed dossier code (→ 404/422 at the API, never a 500)."""


class DailySequenceExhausted(ValueError):
    """More than 9 999 dossiers for one agency on one local day."""


@dataclass(frozen=True)
class DossierCode:
    agency_id: str
    day: date
    """The Asia/Ho_Chi_Minh calendar date of submission."""
    sequence: int

    def __post_init__(self) -> None:
        if not isinstance(self.agency_id, str) or not _AGENCY_RE.fullmatch(self.agency_id):
            raise ValueError(
                f"agency e-identifier must look like 000.00.01.H26 (A1A2A3.B1B2.C1C2.D1D2D3), got {self.agency_id!r}"
            )
        if isinstance(self.day, datetime) or not isinstance(self.day, date):
            raise TypeError("day must be a local calendar date; convert instants with dossier_code_for()")
        if not 2000 <= self.day.year <= 2099:
            raise ValueError(f"YYMMDD can only express years 2000–2099, got {self.day.year}")
        if isinstance(self.sequence, bool) or not isinstance(self.sequence, int):
            raise TypeError(f"sequence must be an int, got {type(self.sequence).__name__}")
        if self.sequence > MAX_DAILY_SEQUENCE:
            raise DailySequenceExhausted(
                f"daily sequence {self.sequence} exceeds {MAX_DAILY_SEQUENCE} for {self.agency_id} on {self.day}"
            )
        if self.sequence < 1:
            raise ValueError(f"daily sequence starts at 1, got {self.sequence}")

    def __str__(self) -> str:
        return f"{self.agency_id}-{self.day:%y%m%d}-{self.sequence:04d}"


def format_dossier_code(agency_id: str, day: date | datetime, sequence: int) -> str:
    """The code string. ``day`` is a local date, or an aware instant that is converted to one."""
    if isinstance(day, datetime):
        day = local_date(day)
    return str(DossierCode(agency_id, day, sequence))


def parse_dossier_code(code: str) -> DossierCode:
    """Split and check a code; raise :class:`InvalidDossierCode` with a readable reason if it is not one."""
    if not isinstance(code, str):
        raise InvalidDossierCode(f"a dossier code is text, got {type(code).__name__}")
    match = DOSSIER_CODE_RE.fullmatch(code)
    if match is None:
        raise InvalidDossierCode(
            f"{code!r} is not a dossier code; expected <agency e-identifier>-<YYMMDD>-<NNNN>, "
            "e.g. 000.00.01.H26-261128-0001"
        )
    raw_date = match["date"]
    try:
        day = date(2000 + int(raw_date[:2]), int(raw_date[2:4]), int(raw_date[4:]))
    except ValueError:
        raise InvalidDossierCode(f"{code!r} has an impossible date {raw_date} (YYMMDD)") from None
    sequence = int(match["seq"])
    if sequence == 0:
        raise InvalidDossierCode(f"{code!r} has sequence 0000; daily numbering starts at 0001")
    return DossierCode(match["agency"], day, sequence)


def is_dossier_code(code: object) -> bool:
    try:
        parse_dossier_code(code)  # type: ignore[arg-type]
    except InvalidDossierCode:
        return False
    return True
