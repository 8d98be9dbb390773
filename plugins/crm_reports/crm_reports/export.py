"""CSV and XLSX exports of a report, in constant memory whatever its size.

A list report is streamed from the database (the driver's rows, converted only as far as the
format needs: ``Runner.raw_chunks``) straight into the file (its XLSX by ``core.xlsx``, a writer
of the sheet's XML into the zip); a grouped one is small by nature (its
groups), is run once and written by openpyxl, which draws its chart as a native Excel chart of the
same kind. Numbers stay numbers, dates dates, money keeps its Decimal, the header row has the
labels, a totals row ends the table.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Callable, Iterable, Iterator
from datetime import date, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell
from openpyxl.chart import BarChart, LineChart, PieChart, Reference
from openpyxl.styles import Font
from openpyxl.utils import get_column_letter

from core import xlsx
from crm_reports.engine import Runner
from crm_reports.periods import bucket_label
from crm_reports.result import Column, Result

Progress = Callable[[int, int], None]
CHUNK = 5000
FORMATS = {
    "csv": "text/csv",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
}


def _display(column: Column, value: Any) -> Any:
    if column.role == "group" and column.bucket:
        return bucket_label(column.bucket, value)
    if column.role == "group" and value is None:
        return "(empty)"
    return value


def _rows(
    runner: Runner, progress: Progress | None, keep_dates: bool = False
) -> tuple[list[Column], Iterator[list], list | None]:
    """(columns, chunks of rows, totals): totals of a list report are summed while its rows
    stream by, so they are complete only once the rows have been consumed."""
    if not runner.spec.is_list:
        result: Result = runner.run(limit=None)
        if progress:
            progress(len(result.rows), len(result.rows))
        rows = [[_display(c, v) for c, v in zip(result.columns, row, strict=True)]
                for row in result.rows]  # fmt: skip
        return result.columns, iter([rows]), result.totals
    columns = runner.list_columns()
    total = runner.count() if progress else 0
    money = [i for i, c in enumerate(columns) if c.kind == "decimal"]
    sums: list[Any] = [Decimal(0) if i in money else None for i in range(len(columns))]

    conversions, raw_chunks = runner.raw_chunks(CHUNK, keep_dates)
    convert = [(i, f) for i, f in enumerate(conversions) if f is not None]

    def stream() -> Iterator[list]:
        done = 0
        for chunk in raw_chunks:
            if convert or money:
                # Column by column: map, zip and sum loop in C, a Python loop per cell would
                # cost as much as reading the rows.
                values = list(zip(*chunk, strict=True))
                for i, f in convert:
                    values[i] = list(map(f, values[i]))
                for i in money:  # None and zeros add nothing
                    sums[i] += sum(filter(None, values[i]), Decimal(0))
                chunk = list(zip(*values, strict=True)) if convert else chunk
            done += len(chunk)
            if progress:
                progress(done, total)
            yield chunk
        if progress:
            progress(total, total)

    return columns, stream(), sums if money else None


def csv_chunks(runner: Runner, progress: Progress | None = None) -> Iterator[str]:
    """The CSV text in pieces of a few thousand rows: a response or a file writes them as they
    come. Dates are ISO 8601 (``str`` of a date), empty values empty."""
    columns, chunks, totals = _rows(runner, progress, keep_dates=True)
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow([c.label for c in columns])
    for chunk in chunks:
        writer.writerows(chunk)
        yield buffer.getvalue()
        buffer.seek(0)
        buffer.truncate()
    if totals is not None:
        writer.writerow(_totals_line(columns, totals, lambda v: v))
    yield buffer.getvalue()


def _totals_line(columns: list[Column], totals: list, convert: Callable) -> list:
    line = [convert(t) for t in totals]
    first = next((i for i, t in enumerate(totals) if t is None), None)
    line[first if first is not None else 0] = "Total"
    return line


def write_csv(runner: Runner, path: Path, progress: Progress | None = None) -> None:
    with open(path, "w", newline="", encoding="utf-8") as out:
        for chunk in csv_chunks(runner, progress):
            out.write(chunk)


def _xlsx_cell(sheet, value: Any, bold: bool = False):
    if isinstance(value, Decimal):
        cell = WriteOnlyCell(sheet, value=value)
        cell.number_format = "#,##0.00" if value.as_tuple().exponent < 0 else "#,##0"
    elif isinstance(value, datetime):
        cell = WriteOnlyCell(sheet, value=value.replace(tzinfo=None))
        cell.number_format = "yyyy-mm-dd hh:mm"
    elif isinstance(value, date):
        cell = WriteOnlyCell(sheet, value=value)
        cell.number_format = "yyyy-mm-dd"
    else:
        cell = WriteOnlyCell(sheet, value=value)
    if bold:
        cell.font = Font(bold=True)
    return cell


def write_xlsx(
    runner: Runner, path: Path, title: str = "Report", progress: Progress | None = None
) -> None:
    columns, chunks, totals = _rows(runner, progress)
    if runner.spec.is_list:
        footer = lambda: _totals_line(columns, totals, lambda v: v) if totals else None  # noqa: E731
        rows = (row for chunk in chunks for row in chunk)
        xlsx.write(path, _sheet_title(title), [c.label for c in columns], rows, footer)
        return
    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet(title=_sheet_title(title))
    sheet.append([_xlsx_cell(sheet, c.label, bold=True) for c in columns])
    count = 0
    for chunk in chunks:
        for row in chunk:
            sheet.append([_xlsx_cell(sheet, v) for v in row])
            count += 1
    # A list report's totals are complete only now that its rows have streamed by.
    if totals is not None:
        line = _totals_line(columns, totals, lambda v: v)
        sheet.append([_xlsx_cell(sheet, v, bold=True) for v in line])
    chart = _chart(runner, sheet, columns, count)
    if chart is not None:
        sheet.add_chart(chart, f"{get_column_letter(len(columns) + 2)}2")
    workbook.save(path)


def _sheet_title(title: str) -> str:
    cleaned = "".join(ch for ch in title if ch not in "[]:*?/\\")
    return (cleaned or "Report")[:31]


def _chart(runner: Runner, sheet, columns: list[Column], count: int):
    """A native chart beside the table: the first column's groups along the x axis, a series
    per measure column (per pivot column in a pivot table)."""
    chart_spec = runner.spec.chart
    if not chart_spec or runner.spec.is_list or count == 0:
        return None
    kind = chart_spec.get("type")
    series_columns = [i for i, c in enumerate(columns) if c.role == "measure"]
    if kind == "pie":
        chart = PieChart()
        series_columns = series_columns[:1]
    elif kind == "line":
        chart = LineChart()
    else:
        chart = BarChart()
        if kind == "stacked_bar":
            chart.grouping, chart.overlap = "stacked", 100
    for i in series_columns:
        data = Reference(sheet, min_col=i + 1, min_row=1, max_row=count + 1)
        chart.add_data(data, titles_from_data=True)
    chart.set_categories(Reference(sheet, min_col=1, min_row=2, max_row=count + 1))
    chart.width, chart.height = 18, 9
    return chart


def export(runner: Runner, fmt: str, path: Path, title: str, progress: Progress | None = None):
    if fmt == "csv":
        write_csv(runner, path, progress)
    else:
        write_xlsx(runner, path, title, progress)


def iter_file(path: Path, remove: bool = True) -> Iterable[bytes]:
    try:
        with open(path, "rb") as source:
            while block := source.read(1 << 16):
                yield block
    finally:
        if remove:
            path.unlink(missing_ok=True)
