"""Exports of a filtered list as CSV or XLSX, with Vietnamese headers (English when the request prefers it).

A list endpoint's export takes the same filters and runs the same query with the same access rules, one keyset
page at a time (`pages`), each page in its own short session — so a large list is never held in memory and no
transaction stays open while the client reads:

- **CSV** is streamed row by row: UTF-8 with a byte-order mark (Excel then reads the Vietnamese text right),
  comma-separated (RFC 4180), numbers with a decimal point, dates ISO 8601 (`2026-12-01`), moments in Hanoi
  time (`2026-12-01 14:05:00`), empty for none.
- **XLSX** is written with openpyxl's write-only mode (rows go to a temporary file, not into memory) and then
  streamed: numbers are numbers, dates are dates (`dd/mm/yyyy`), moments Hanoi-local date-times
  (`dd/mm/yyyy hh:mm`), the header row bold and frozen.

Language: exports are for people, so Vietnamese unless `Accept-Language` prefers English.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import tempfile
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator, Sequence
from dataclasses import dataclass
from decimal import Decimal
from enum import Enum
from typing import IO, Annotated, Any, Literal

from fastapi import Query, Request
from starlette.concurrency import run_in_threadpool
from starlette.responses import StreamingResponse

from .local_time import LOCAL_TZ
from .messages import preferred_language

Kind = Literal["text", "int", "number", "date", "datetime"]
ExportFormat = Literal["csv", "xlsx"]
PAGE_SIZE = 200
CHUNK = 64 * 1024
XLSX_MEDIA_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
EXPORT_RESPONSES: dict[int | str, dict[str, Any]] = {200: {"content": {"text/csv": {}, XLSX_MEDIA_TYPE: {}}}}
"""The `responses` of an export route: the file as CSV or XLSX."""
FormatQuery = Annotated[ExportFormat, Query(alias="format")]
"""An export route's `?format=csv|xlsx`."""
_FORMATS = {"date": "DD/MM/YYYY", "datetime": "DD/MM/YYYY HH:MM"}


@dataclass(frozen=True)
class Column:
    key: str
    vi: str
    en: str
    kind: Kind = "text"
    value: Callable[[Any], Any] | None = None  # default: the row's attribute (or mapping item) `key`

    def header(self, language: str) -> str:
        return self.en if language == "en" else self.vi

    def of(self, row: Any) -> Any:
        raw = (
            self.value(row) if self.value else (row.get(self.key) if isinstance(row, dict) else getattr(row, self.key))
        )
        return typed(raw, self.kind)


def typed(raw: Any, kind: Kind) -> Any:
    """A cell value of the column's kind: int/float for numbers, date, naive Hanoi-local datetime, or text."""
    if raw is None:
        return None
    if isinstance(raw, Enum):
        raw = raw.value
    if kind == "int":
        return int(raw)
    if kind == "number":
        return float(raw) if isinstance(raw, Decimal | str) else raw
    if kind == "date":
        return raw if isinstance(raw, dt.date) else dt.date.fromisoformat(str(raw))
    if kind == "datetime":
        moment = raw if isinstance(raw, dt.datetime) else dt.datetime.fromisoformat(str(raw))
        return moment.astimezone(LOCAL_TZ).replace(tzinfo=None, microsecond=0)
    return str(raw)


def export_language(request: Request) -> str:
    header = request.headers.get("accept-language")
    return "vi" if not header else preferred_language(header)


Fetch = Callable[[str | None], Awaitable[tuple[Sequence[Any], str | None]]]


async def pages(fetch: Fetch, first: tuple[Sequence[Any], str | None] | None = None) -> AsyncIterator[Sequence[Any]]:
    """Every page of a keyset-paged query: `fetch(cursor)` answers `(rows, next_cursor)`; `first` is the first
    page when it was already fetched."""
    rows, cursor = first if first is not None else await fetch(None)
    while True:
        if rows:
            yield rows
        if not cursor:
            return
        rows, cursor = await fetch(cursor)


def _csv_text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, dt.datetime):
        return value.isoformat(sep=" ")
    if isinstance(value, dt.date):
        return value.isoformat()
    return str(value)


async def csv_chunks(
    columns: Sequence[Column], language: str, source: AsyncIterator[Sequence[Any]]
) -> AsyncIterator[bytes]:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow([c.header(language) for c in columns])
    yield "\ufeff".encode() + buffer.getvalue().encode()
    async for rows in source:
        for row in rows:
            buffer.seek(0)
            buffer.truncate()
            writer.writerow([_csv_text(c.of(row)) for c in columns])
            yield buffer.getvalue().encode()


async def xlsx_file(
    columns: Sequence[Column], language: str, source: AsyncIterator[Sequence[Any]], sheet: str
) -> IO[bytes]:
    """The workbook in a temporary file (rewound), written in write-only mode."""
    from openpyxl import Workbook
    from openpyxl.cell import WriteOnlyCell
    from openpyxl.styles import Font

    workbook = Workbook(write_only=True)
    worksheet = workbook.create_sheet(title=sheet[:31])
    worksheet.freeze_panes = "A2"
    bold = Font(bold=True)
    header = []
    for column in columns:
        cell = WriteOnlyCell(worksheet, value=column.header(language))
        cell.font = bold
        header.append(cell)
    worksheet.append(header)
    async for rows in source:
        for row in rows:
            cells: list[Any] = []
            for column in columns:
                value = column.of(row)
                if value is not None and column.kind in _FORMATS:
                    cell = WriteOnlyCell(worksheet, value=value)
                    cell.number_format = _FORMATS[column.kind]
                    cells.append(cell)
                else:
                    cells.append(value)
            worksheet.append(cells)
    out = tempfile.SpooledTemporaryFile(max_size=8 * 1024 * 1024)  # noqa: SIM115 - closed by the response
    await run_in_threadpool(workbook.save, out)
    out.seek(0)
    return out


def file_chunks(file: IO[bytes]) -> Iterator[bytes]:
    try:
        while chunk := file.read(CHUNK):
            yield chunk
    finally:
        file.close()


def _disposition(filename: str) -> dict[str, str]:
    return {
        "Content-Disposition": f'attachment; filename="{filename}"',
        "X-Content-Type-Options": "nosniff",
        "Cache-Control": "no-store",
    }


async def export_response(
    request: Request, export_format: ExportFormat, name: str, columns: Sequence[Column], fetch: Fetch
) -> StreamingResponse:
    """The export of a list as a streamed download (`name` = file name without extension, ASCII)."""
    language = export_language(request)
    # The first page is read before the answer starts, so a refusal by the list's access rules is a proper
    # problem+json answer rather than a broken stream.
    first = await fetch(None)
    if export_format == "xlsx":
        file = await xlsx_file(columns, language, pages(fetch, first), name)
        return StreamingResponse(
            file_chunks(file),
            media_type=XLSX_MEDIA_TYPE,
            headers=_disposition(f"{name}.xlsx") | {"Content-Language": language},
        )
    return StreamingResponse(
        csv_chunks(columns, language, pages(fetch, first)),
        media_type="text/csv; charset=utf-8",
        headers=_disposition(f"{name}.csv") | {"Content-Language": language},
    )
