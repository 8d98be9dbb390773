"""CSV written and read the same way by every module.

Writing: a spreadsheet program runs a cell that starts with ``=``, ``+``, ``-``, ``@``, a tab or
a carriage return as a formula (``=HYPERLINK(...)`` sends the reader's data elsewhere, ``@SUM(1)``
runs), so such a text cell is written with a leading single quote, as OWASP advises ("CSV
injection"); the quote shows in the cell and the formula does not run. Numbers are written as they
are, and so is a phone number (``+359 32 123 456``, ``-12.50``: digits and punctuation only name
no function and no cell). ``unescape_cell`` undoes it, so an export imports back unchanged.

Reading: ``rows`` gives the records of a ``csv.reader`` and turns the module's ``csv.Error``
(a cell past the 128 KB field limit, a NUL byte) into ``CsvFileError`` naming the line, which an
import reports like any other row error instead of a 500.
"""

from __future__ import annotations

import csv
import re
from collections.abc import Iterable, Iterator
from typing import Any

FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
# After a + or -: digits, spaces and + - . , ( ) / % only. Such a cell names no function and no
# cell, so it cannot do anything as a formula; it is a phone number or a negative amount.
_HARMLESS = re.compile(r"[+-][0-9 +\-.,()/%]*")


def safe_cell(value: Any) -> Any:
    """``value`` as a CSV or spreadsheet cell that cannot run as a formula."""
    if not isinstance(value, str) or not value.startswith(FORMULA_START):
        return value
    if _HARMLESS.fullmatch(value) and any(c.isdigit() for c in value):
        return value
    return "'" + value


def unescape_cell(value: str) -> str:
    """The text ``safe_cell`` was given: an import of an export reads what was exported."""
    if value.startswith("'") and value[1:].startswith(FORMULA_START):
        return value[1:]
    return value


class SafeWriter:
    """A ``csv.writer`` whose every cell goes through ``safe_cell``."""

    def __init__(self, out: Any, **options: Any) -> None:
        self._writer = csv.writer(out, **options)

    def writerow(self, row: Iterable[Any]) -> Any:
        return self._writer.writerow([safe_cell(value) for value in row])

    def writerows(self, rows: Iterable[Iterable[Any]]) -> None:
        for row in rows:
            self.writerow(row)


def writer(out: Any, **options: Any) -> SafeWriter:
    """``csv.writer(out, **options)`` for files people open in a spreadsheet: use it for every
    CSV a module writes."""
    return SafeWriter(out, **options)


def mark_text(cells: Iterable[Any]) -> None:
    """Make every text cell among openpyxl ``cells`` a string cell: openpyxl stores a string that
    starts with ``=`` as a formula, which Excel would run; as a string it shows as typed.
    ``for row in sheet.iter_rows(): mark_text(row)``, or on the ``WriteOnlyCell``s of a row."""
    for cell in cells:
        if isinstance(cell.value, str):
            cell.data_type = "s"


class CsvFileError(ValueError):
    def __init__(self, line: int, message: str) -> None:
        super().__init__(f"Line {line}: {message}")
        self.line, self.message = line, message


def rows(records: Iterator[Any], first_line: int = 1) -> Iterator[Any]:
    """The records of a ``csv.reader`` (or ``DictReader``); a record the csv module cannot read
    raises ``CsvFileError`` with its line instead of ``csv.Error``."""
    line = first_line
    while True:
        try:
            record = next(records)
        except StopIteration:
            return
        except csv.Error as error:
            reason = str(error)
            if "field larger than field limit" in reason:
                limit = csv.field_size_limit() // 1024
                reason = f"a cell is longer than the {limit} KB a cell may hold."
            raise CsvFileError(getattr(records, "line_num", line), reason) from None
        line += 1
        yield record
