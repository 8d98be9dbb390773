"""Reading an import file: its text, its rows, and the columns of the format (described in
``crm_contacts.importing``)."""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import BinaryIO

from marshmallow import ValidationError

from core import csvfiles

CLIENT_COLUMNS = (
    "name",
    "kind",
    "legal_name",
    "registration_number",
    "vat_number",
    "country",
    "customer_group",
    "region",
    "responsible",
    "status",
    "tags",
    "website",
    "payment_term_days",
    "invoice_remarks",
    "goods_description",
    "document_language",
    "street",
    "city",
    "postal_code",
    "phone",
    "email",
    "iban",
    "bic",
    "bank_name",
)
PERSON_COLUMNS = ("person_name", "person_position", "person_phone", "person_email")
COLUMNS = CLIENT_COLUMNS + PERSON_COLUMNS
ADDRESS_COLUMNS = ("street", "city", "postal_code")
BANK_COLUMNS = ("iban", "bic", "bank_name")
# Client fields taken as they are; the others (group, responsible, tags, address, phones...) are
# looked up or built.
SCALAR_FIELDS = (
    "name",
    "kind",
    "legal_name",
    "registration_number",
    "vat_number",
    "country",
    "status",
    "website",
    "payment_term_days",
    "invoice_remarks",
    "goods_description",
    "document_language",
)
# An empty cell of these means "the default" (or "unchanged"): they cannot be empty.
NOT_CLEARABLE = ("kind", "status", "country")
MULTI_SEPARATOR = ";"


@dataclass(frozen=True)
class RowError:
    row: int
    column: str
    message: str

    def __str__(self) -> str:
        return (
            f"row {self.row}, {self.column}: {self.message}"
            if self.column
            else (f"row {self.row}: {self.message}")
        )


_NOT_UTF8 = "The file is not UTF-8 (line {line}). Save it as “CSV UTF-8” and upload it again."


def decode(content: bytes | str) -> str:
    """The text of an uploaded file; a ``ValidationError`` saying where, if it is not UTF-8."""
    if isinstance(content, str):
        return content.removeprefix("\ufeff")
    try:
        return content.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = content.count(b"\n", 0, exc.start) + 1
        raise ValidationError(_NOT_UTF8.format(line=line)) from None


Source = bytes | str | BinaryIO


def text_lines(source: Source) -> Iterator[str]:
    """The lines of a file as text, read as a stream (a file object is read from where it is:
    rewind it to read it again). A ``ValidationError`` names the line of the first byte that is
    not UTF-8."""
    if isinstance(source, str):
        yield from io.StringIO(source.removeprefix("\ufeff"), newline="")
        return
    stream = io.BytesIO(source) if isinstance(source, bytes) else source
    for number, raw in enumerate(stream, start=1):
        try:
            line = raw.decode("utf-8")
        except UnicodeDecodeError:
            raise ValidationError(_NOT_UTF8.format(line=number)) from None
        if number == 1:
            line = line.removeprefix("\ufeff")
        if "\r" in line[:-2]:
            # Lines ended by a lone carriage return (old spreadsheets) are lines too, as text
            # read with universal newlines has them.
            yield from _LONE_CR.split(line)
        else:
            yield line


_LONE_CR = re.compile(r"(?<=\r)(?!\n)")


def read_header(lines: Iterator[str]) -> tuple[csv.Reader, list[str], list[RowError]]:
    """The file's CSV reader and its header, checked: errors of row 1 (then there is nothing more
    to read)."""
    reader = csv.reader(lines)
    records = csvfiles.rows(reader)
    errors: list[RowError] = []
    try:
        header = [h.strip().lower() for h in next(records, [])]
    except csvfiles.CsvFileError as error:
        return reader, [], [RowError(error.line, "", error.message)]
    if not any(header):
        return reader, [], [RowError(1, "", "The file is empty: it needs a header row.")]
    if ";" in header[0] and len(header) == 1:
        return reader, header, [RowError(1, "", "Columns must be separated by commas, not “;”.")]
    for column in header:
        if column not in COLUMNS:
            errors.append(RowError(1, column or "(empty)", "Unknown column. " + _COLUMNS_HINT))
    for column in {c for c in header if header.count(c) > 1}:
        errors.append(RowError(1, column, "The column appears twice."))
    if "name" not in header:
        errors.append(RowError(1, "name", "The column is required."))
    return reader, header, errors


def data_rows(
    reader: csv.Reader, width: int, errors: list[RowError] | None
) -> Iterator[tuple[int, list[str]]]:
    """The (row number, cells) of the non-empty rows after the header. A row with more cells than
    the header is left out, with an error in ``errors`` (when given); a record the csv module
    cannot read ends the rows, with its error."""
    records: Iterable[list[str]] = csvfiles.rows(reader)
    number = 1
    try:
        for number, raw in enumerate(records, start=2):  # noqa: B007 (read after the loop)
            # One string tells, at C speed, what most rows do not need (there are millions).
            joined = "\x1f".join(raw)
            if not joined.replace("\x1f", "").strip() and not any(c.strip() for c in raw):
                continue
            cells = raw
            if joined.startswith("'") or "\x1f'" in joined:
                # An export neutralised formula-like cells with a quote (core/csvfiles.py).
                cells = [csvfiles.unescape_cell(cell) for cell in raw]
            if len(cells) > width:
                if errors is not None:
                    errors.append(
                        RowError(number, "", f"{len(cells)} cells, but the header has {width}.")
                    )
                continue
            yield number, cells
    except csvfiles.CsvFileError as error:
        if errors is not None:
            errors.append(RowError(error.line, "", error.message))


_COLUMNS_HINT = "The columns are: " + ", ".join(COLUMNS) + "."


def _split(value: str) -> list[str]:
    return [v.strip() for v in value.split(MULTI_SEPARATOR) if v.strip()]


def count_rows(content: bytes | str) -> int:
    """About how many rows a file has (for a progress bar's length)."""
    data = content if isinstance(content, bytes) else content.encode()
    return max(data.count(b"\n") - 1, 0) + (0 if data.endswith(b"\n") else 1)
