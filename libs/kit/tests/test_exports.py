"""Kit exports: CSV is produced row by row while the pages are fetched lazily (a large list is never held
whole), typed XLSX cells, Hanoi-local moments."""

from __future__ import annotations

import datetime as dt
import io
from typing import Any

from openpyxl import load_workbook

from cleanprod_kit.exports import Column, csv_chunks, pages, typed, xlsx_file

COLUMNS = (
    Column("name", "Tên", "Name"),
    Column("amount", "Số tiền (đồng)", "Amount (VND)", "int"),
    Column("on", "Ngày", "Date", "date"),
    Column("at", "Thời điểm", "At", "datetime"),
)


def _fetcher(total: int, page: int, calls: list[str | None]):  # type: ignore[no-untyped-def]
    async def fetch(cursor: str | None) -> tuple[list[dict[str, Any]], str | None]:
        calls.append(cursor)
        start = int(cursor or 0)
        rows = [
            {
                "name": f"Nhà máy số {i}",
                "amount": 1_000 * i,
                "on": dt.date(2026, 1, 1 + i % 28),
                "at": dt.datetime(2026, 12, 1, 17, 30, tzinfo=dt.UTC),
            }
            for i in range(start, min(start + page, total))
        ]
        return rows, (str(start + page) if start + page < total else None)

    return fetch


async def test_csv_streams_row_by_row_and_fetches_pages_lazily() -> None:
    calls: list[str | None] = []
    stream = csv_chunks(COLUMNS, "vi", pages(_fetcher(450, 200, calls)))
    header = await anext(stream)
    assert header.decode("utf-8-sig") == "Tên,Số tiền (đồng),Ngày,Thời điểm\r\n" and header.startswith(b"\xef\xbb\xbf")
    first = await anext(stream)
    assert first.decode() == "Nhà máy số 0,0,2026-01-01,2026-12-02 00:30:00\r\n"  # Hanoi time (UTC+7)
    assert calls == [None]  # only the first page was read so far
    rest = [chunk async for chunk in stream]
    assert len(rest) == 449 and calls == [None, "200", "400"]


async def test_xlsx_cells_are_typed() -> None:
    file = await xlsx_file(COLUMNS, "en", pages(_fetcher(3, 2, [])), "Danh sách")
    sheet = load_workbook(io.BytesIO(file.read()))["Danh sách"]
    rows = list(sheet.iter_rows(values_only=True))
    assert rows[0] == ("Name", "Amount (VND)", "Date", "At")
    assert rows[2] == ("Nhà máy số 1", 1000, dt.datetime(2026, 1, 2), dt.datetime(2026, 12, 2, 0, 30))
    assert sheet["C2"].number_format == "DD/MM/YYYY" and sheet.freeze_panes == "A2"


def test_typed_values() -> None:
    assert (
        typed("7.5", "number") == 7.5
        and typed(None, "int") is None
        and typed("2026-03-01", "date") == dt.date(2026, 3, 1)
    )
    assert typed("2026-03-01T00:00:00+00:00", "datetime") == dt.datetime(2026, 3, 1, 7, 0)
