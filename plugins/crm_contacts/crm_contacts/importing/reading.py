"""Reading an import file: its text, its rows, and the columns of the format (described in
``crm_contacts.importing``)."""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass

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


def decode(content: bytes | str) -> str:
    """The text of an uploaded file; a ``ValidationError`` saying where, if it is not UTF-8."""
    if isinstance(content, str):
        return content.removeprefix("\ufeff")
    try:
        return content.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = content.count(b"\n", 0, exc.start) + 1
        raise ValidationError(
            f"The file is not UTF-8 (line {line}). Save it as “CSV UTF-8” and upload it again."
        ) from None


def read_rows(text: str) -> tuple[list[str], list[tuple[int, list[str]]], list[RowError]]:
    """The header and the (row number, cells) of the non-empty rows."""
    records = csvfiles.rows(csv.reader(io.StringIO(text, newline="")))
    errors: list[RowError] = []
    try:
        header = [h.strip().lower() for h in next(records, [])]
    except csvfiles.CsvFileError as error:
        return [], [], [RowError(error.line, "", error.message)]
    if not any(header):
        return [], [], [RowError(1, "", "The file is empty: it needs a header row.")]
    if ";" in header[0] and len(header) == 1:
        return header, [], [RowError(1, "", "Columns must be separated by commas, not “;”.")]
    for column in header:
        if column not in COLUMNS:
            errors.append(RowError(1, column or "(empty)", "Unknown column. " + _COLUMNS_HINT))
    for column in {c for c in header if header.count(c) > 1}:
        errors.append(RowError(1, column, "The column appears twice."))
    if "name" not in header:
        errors.append(RowError(1, "name", "The column is required."))
    rows = []
    try:
        numbered = list(enumerate(records, start=2))
    except csvfiles.CsvFileError as error:
        return header, [], [*errors, RowError(error.line, "", error.message)]
    for number, raw in numbered:
        # An export neutralised formula-like cells with a quote (core/csvfiles.py): undone here.
        cells = [csvfiles.unescape_cell(cell) for cell in raw]
        if not any(c.strip() for c in cells):
            continue
        if len(cells) > len(header):
            errors.append(
                RowError(number, "", f"{len(cells)} cells, but the header has {len(header)}.")
            )
            continue
        rows.append((number, cells))
    return header, rows, errors


_COLUMNS_HINT = "The columns are: " + ", ".join(COLUMNS) + "."


def _split(value: str) -> list[str]:
    return [v.strip() for v in value.split(MULTI_SEPARATOR) if v.strip()]


def count_rows(content: bytes | str) -> int:
    """About how many rows a file has (for a progress bar's length)."""
    data = content if isinstance(content, bytes) else content.encode()
    return max(data.count(b"\n") - 1, 0) + (0 if data.endswith(b"\n") else 1)
