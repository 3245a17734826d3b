"""Reading a CSV of baseline months (what the upload form accepts; the columns are documented on the page and in
the template this module writes).

Files as Vietnamese Excel saves them: UTF-8 with or without BOM, `;` or `,` between values, decimal comma or
point. Problems with the file as a whole (not UTF-8, unknown or missing columns, too many rows) stop the upload
before anything is saved; a problem in one line is reported with that line's number and the other lines go on.
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from cleanprod_kit.units import CARRIER_UNITS

from ..i18n import gettext
from .baseline_input import BaselineInput, quantity_field, read_baseline, unit_field

MAX_BYTES = 1024 * 1024
MAX_ROWS = 400
REQUIRED_COLUMNS = ("period", "production", "production_unit")
OPTIONAL_COLUMNS = ("estimated", "notes")
_CARRIER_COLUMN = re.compile(r"^([a-z0-9_]+)\s*\(\s*([^()]+?)\s*\)$")

# What the template offers (a facility deletes the columns it does not need).
TEMPLATE_COLUMNS = (
    "period",
    "production",
    "production_unit",
    "electricity (kWh)",
    "natural_gas (m3)",
    "coal_grade_3_4 (t)",
    "diesel_oil (L)",
    "water (m3)",
    "estimated",
    "notes",
)
TEMPLATE_ROWS = (
    ("2025-01", "1250,5", "t", "412000", "15800", "", "1200", "5300", "", "Tháng Giêng"),
    ("2025-02", "1180", "t", "398500,25", "15010", "", "950", "5120", "x", "Ước tính – đồng hồ hỏng"),
)


class CsvFileError(ValueError):
    """The file cannot be read as a baseline CSV at all (nothing is saved)."""


@dataclass
class CsvLine:
    line: int  # 1 = the header line
    period: str
    baseline: BaselineInput
    columns: dict[str, str] = field(default_factory=dict)  # form field name → the file's column header

    def column_of(self, field_name: str) -> str:
        return self.columns.get(field_name, field_name)


def template_csv() -> str:
    """The downloadable template: `;`-separated (what Excel in Vietnamese settings opens directly), with BOM."""
    out = io.StringIO()
    writer = csv.writer(out, delimiter=";", lineterminator="\r\n")
    writer.writerow(TEMPLATE_COLUMNS)
    writer.writerows(TEMPLATE_ROWS)
    return "\ufeff" + out.getvalue()


def _decode(data: bytes) -> str:
    if len(data) > MAX_BYTES:
        raise CsvFileError(gettext("The file is larger than 1 MB. Split it into several files."))
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise CsvFileError(
            gettext("The file is not in UTF-8. In Excel choose “Save as” → “CSV UTF-8 (Comma delimited)”.")
        ) from None


def _delimiter(text: str) -> str:
    header = text.split("\n", 1)[0]
    return ";" if header.count(";") >= header.count(",") and ";" in header else ","


def _columns(header: list[str], extra_columns: tuple[str, ...] = ()) -> dict[int, tuple[str, str]]:
    """Column index → (form field name, header as written); CsvFileError for unknown, duplicate or missing.
    `extra_columns`: further optional columns another reader accepts (the verifier's measurements: `cdd`, …)."""
    mapping: dict[int, tuple[str, str]] = {}
    seen: set[str] = set()
    unknown: list[str] = []
    for index, raw in enumerate(header):
        name = raw.strip()
        key = name.lower()
        if key == "":
            continue
        if key in REQUIRED_COLUMNS or key in OPTIONAL_COLUMNS or key in extra_columns:
            field_name = "production_quantity" if key == "production" else key
            target = [(field_name, name)]
        elif (match := _CARRIER_COLUMN.match(key)) and match.group(1) in CARRIER_UNITS:
            carrier = match.group(1)
            unit = next((u for u in CARRIER_UNITS[carrier] if u.lower() == match.group(2).lower()), None)
            if unit is None:
                raise CsvFileError(
                    gettext(
                        "Column “%(column)s”: %(carrier)s is measured in %(units)s.",
                        column=name,
                        carrier=carrier,
                        units=", ".join(CARRIER_UNITS[carrier]),
                    )
                )
            target = [(quantity_field(carrier), name), (unit_field(carrier), unit)]
            key = carrier
        else:
            unknown.append(name)
            continue
        if key in seen:
            raise CsvFileError(gettext("Column “%(column)s” appears twice.", column=name))
        seen.add(key)
        mapping[index] = target[0]
        if len(target) > 1:  # the unit is written in the header, not in every cell
            mapping[-1 - index] = target[1]
    if unknown:
        raise CsvFileError(
            gettext(
                "Unknown columns: %(columns)s. Use the column names of the template.",
                columns=", ".join(f"“{c}”" for c in unknown),
            )
        )
    missing = [c for c in REQUIRED_COLUMNS if c not in seen]
    if missing:
        raise CsvFileError(gettext("Missing columns: %(columns)s.", columns=", ".join(missing)))
    if not any(k in CARRIER_UNITS for k in seen):
        raise CsvFileError(gettext("Add at least one consumption column, for example “electricity (kWh)”."))
    return mapping


def parse_baseline_csv(
    data: bytes,
    *,
    extra_columns: tuple[str, ...] = (),
    read: Callable[[Mapping[str, Any]], BaselineInput] = read_baseline,
) -> list[CsvLine]:
    """Every non-blank data line, read (its errors, if any, inside `baseline`); CsvFileError for the file.
    The same file format serves the verifier's measurements: `extra_columns` and `read` (verify/measurement_input)."""
    text = _decode(data)
    if not text.strip():
        raise CsvFileError(gettext("The file is empty."))
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=_delimiter(text))
    try:
        header = next(reader)
        mapping = _columns(header, extra_columns)
        lines: list[CsvLine] = []
        for row in reader:
            if not any(cell.strip() for cell in row):
                continue
            if len(lines) >= MAX_ROWS:
                raise CsvFileError(
                    gettext("The file has more than %(max)s lines. Split it into several files.", max=MAX_ROWS)
                )
            values: dict[str, str] = {}
            columns: dict[str, str] = {}
            for index, (field_name, written) in mapping.items():
                if index < 0:
                    values[field_name] = written  # a carrier's unit, from its header
                    continue
                values[field_name] = row[index] if index < len(row) else ""
                columns[field_name] = written
            for field_name in list(columns):
                if field_name.endswith("_quantity") and field_name != "production_quantity":
                    columns[field_name.removesuffix("_quantity") + "_unit"] = columns[field_name]
            baseline = read(values)
            if len(row) > len(header) and any(cell.strip() for cell in row[len(header) :]):
                baseline.errors.setdefault("period", gettext("This line has more values than the header has columns"))
                baseline.body = None
            lines.append(CsvLine(reader.line_num, values.get("period", "").strip(), baseline, columns))
    except csv.Error as exc:
        raise CsvFileError(gettext("The file cannot be read as CSV (line %(line)s).", line=reader.line_num)) from exc
    if not lines:
        raise CsvFileError(gettext("The file has a header but no data lines."))
    return lines
