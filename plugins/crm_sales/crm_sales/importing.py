"""Taking sales documents in from the ERP: the CSV file (``crm sales import FILE``) and the JSON
API (``POST /api/v1/sales/documents``) share this path: check everything first, then write all of
it in one transaction, or nothing.

The CSV format (UTF-8, comma separated, a header row naming the columns; order is free):

- ``number``: the document number (required); the rows of a document share it
- ``kind``: ``invoice`` (default) or ``credit_note``
- ``date``, ``due_date``: ``YYYY-MM-DD`` (the date is required)
- ``client_id`` or ``client_vat``: the client, by its CRM id or its VAT number
- ``currency``, ``rate``: the document currency (default: the installation's) and its rate to the
  installation currency (required for another currency)
- ``product_code``, ``quantity``, ``unit_price``, ``discount_percent``, ``amount``: a line (the
  amount as printed; computed from the others when empty)
- ``payment_date``, ``payment_amount``: a payment received against the document

A row carries a line, a payment, or both. The header columns are repeated on each row of a
document and must agree. Amounts are positive as printed; a credit note's kind makes it count
negative. A document number that exists already replaces that document (lines and payments
included) unless nothing changed; importing the same file twice changes nothing.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from marshmallow import ValidationError
from sqlalchemy import select
from sqlalchemy.orm import Session

from core import csvfiles
from crm_contacts.importing import RowError, decode
from crm_contacts.models import Client
from crm_sales.documents import (
    DocumentData,
    LineData,
    PaymentData,
    WriteResult,
    write_documents,
)
from crm_sales.models import Product
from crm_sales.schemas import CsvRowSchema
from crm_sales.settings import installation_currency

COLUMNS = (
    "number", "kind", "date", "due_date", "client_id", "client_vat", "currency", "rate",
    "product_code", "quantity", "unit_price", "discount_percent", "amount",
    "payment_date", "payment_amount",
)  # fmt: skip
HEADER_FIELDS = ("kind", "client_id", "client_vat", "date", "due_date", "currency", "rate")
CHUNK = 500
Progress = Callable[[int], Any]


@dataclass
class ImportPlan:
    rows: int = 0
    documents: list[DocumentData] = field(default_factory=list)
    errors: list[RowError] = field(default_factory=list)

    @property
    def valid(self) -> bool:
        return not self.errors


def _flatten(messages: Any, prefix: str = "") -> Iterable[tuple[str, str]]:
    if isinstance(messages, dict):
        for key, value in messages.items():
            name = str(key) if not prefix else f"{prefix}.{key}"
            yield from _flatten(value, name if key != "_schema" else prefix)
    elif isinstance(messages, list):
        for message in messages:
            if isinstance(message, str):
                yield prefix, message
            else:
                yield from _flatten(message, prefix)
    else:
        yield prefix, str(messages)


def _chunks(values: list[Any]) -> Iterable[list[Any]]:
    for start in range(0, len(values), CHUNK):
        yield values[start : start + CHUNK]


class Lookups:
    """Products by code and clients by id or VAT number, loaded in a few queries for a batch."""

    def __init__(
        self,
        session: Session,
        product_codes: Iterable[str],
        client_ids: Iterable[int] = (),
        client_vats: Iterable[str] = (),
    ) -> None:
        self.products: dict[str, Product] = {}
        for chunk in _chunks(sorted(set(product_codes))):
            self.products.update(
                (p.code, p) for p in session.scalars(select(Product).where(Product.code.in_(chunk)))
            )
        # {client id: its representative}, for the clients named by id or VAT number.
        self.responsible: dict[int, int | None] = {}
        for chunk in _chunks(sorted(set(client_ids))):
            self.responsible.update(
                session.execute(
                    select(Client.id, Client.responsible_id).where(Client.id.in_(chunk))
                ).all()
            )
        self.client_ids = set(self.responsible)
        self.vats: dict[str, list[int]] = {}
        for chunk in _chunks(sorted(set(client_vats))):
            for client_id, vat, responsible_id in session.execute(
                select(Client.id, Client.vat_number, Client.responsible_id).where(
                    Client.vat_number.in_(chunk)
                )
            ):
                self.vats.setdefault(vat, []).append(client_id)
                self.responsible[client_id] = responsible_id

    def client(self, client_id: int | None, vat: str | None) -> tuple[int | None, str]:
        """(the client's id, "") or (None, why not)."""
        if client_id is not None:
            if client_id in self.client_ids:
                return client_id, ""
            return None, f"No client has the id {client_id}."
        found = self.vats.get(vat or "", [])
        if len(found) == 1:
            return found[0], ""
        if not found:
            return None, f"No client has the VAT number {vat!r}."
        return None, f"Several clients have the VAT number {vat!r}: use client_id."


def plan_import(
    session: Session, content: bytes | str, progress: Progress | None = None
) -> ImportPlan:
    """Read and check the whole CSV; nothing is written. Errors name the row and the column."""
    plan = ImportPlan()
    try:
        text = decode(content)
    except ValidationError as error:
        plan.errors.append(RowError(1, "", error.messages[0]))
        return plan
    reader = csv.DictReader(io.StringIO(text))
    try:
        header = [name.strip() for name in reader.fieldnames or []]
    except csv.Error as error:
        plan.errors.append(RowError(1, "", f"The header cannot be read: {error}."))
        return plan
    reader.fieldnames = header
    missing = [name for name in ("number", "date") if name not in header]
    if "client_id" not in header and "client_vat" not in header:
        missing.append("client_id or client_vat")
    unknown = [name for name in header if name and name not in COLUMNS]
    if missing or unknown:
        if missing:
            plan.errors.append(RowError(1, "", f"Missing columns: {', '.join(missing)}."))
        if unknown:
            plan.errors.append(RowError(1, "", f"Unknown columns: {', '.join(unknown)}."))
        return plan

    schema = CsvRowSchema()
    by_number: dict[str, list[tuple[int, dict[str, Any]]]] = {}
    records = csvfiles.rows(reader)
    try:
        numbered = list(enumerate(records, start=2))
    except csvfiles.CsvFileError as error:
        plan.errors.append(RowError(error.line, "", error.message))
        return plan
    for index, raw in numbered:
        plan.rows += 1
        if progress:
            progress(1)
        if None in raw:
            plan.errors.append(RowError(index, "", "More cells than columns in the header."))
            continue
        if not any((v or "").strip() for v in raw.values()):
            continue  # a blank row
        try:
            row = schema.load(raw)
        except ValidationError as error:
            plan.errors += [RowError(index, c, m) for c, m in _flatten(error.messages)]
            continue
        by_number.setdefault(row["number"], []).append((index, row))

    rows = [row for group in by_number.values() for _, row in group]
    lookups = Lookups(
        session,
        (r["product_code"] for r in rows if r.get("product_code")),
        (r["client_id"] for r in rows if r.get("client_id") is not None),
        (r["client_vat"] for r in rows if r.get("client_id") is None and r.get("client_vat")),
    )
    for number, group in by_number.items():
        document = _document_from_rows(number, group, lookups, plan.errors)
        if document is not None:
            plan.documents.append(document)
    plan.errors.sort(key=lambda e: (e.row, e.column))
    return plan


def _document_from_rows(
    number: str,
    group: list[tuple[int, dict[str, Any]]],
    lookups: Lookups,
    errors: list[RowError],
) -> DocumentData | None:
    first_row, head = group[0]
    count = len(errors)
    for row_number, row in group[1:]:
        for name in HEADER_FIELDS:
            if row.get(name) != head.get(name):
                errors.append(
                    RowError(
                        row_number,
                        name,
                        f"Differs from row {first_row} of document {number} "
                        f"({row.get(name)} ≠ {head.get(name)}).",
                    )
                )
    client_id, why = lookups.client(head.get("client_id"), head.get("client_vat"))
    if client_id is None:
        errors.append(
            RowError(first_row, "client_id" if head.get("client_id") else "client_vat", why)
        )
    lines, payments = [], []
    for row_number, row in group:
        if row.get("product_code"):
            product = lookups.products.get(row["product_code"])
            if product is None:
                errors.append(
                    RowError(
                        row_number, "product_code", f"Unknown product {row['product_code']!r}."
                    )
                )
            else:
                lines.append(
                    LineData(
                        product,
                        row["quantity"],
                        row["unit_price"],
                        row["discount_percent"],
                        row.get("amount"),
                    )
                )
        if row.get("payment_date") is not None:
            payments.append(PaymentData(row["payment_date"], row["payment_amount"]))
    if not any(row.get("product_code") for _, row in group):
        errors.append(RowError(first_row, "product_code", f"Document {number} has no lines."))
    if len(errors) > count or client_id is None:
        return None
    return DocumentData(
        number=number,
        kind=head["kind"],
        client_id=client_id,
        date=head["date"],
        due_date=head.get("due_date"),
        currency=head.get("currency") or installation_currency(),
        rate=head.get("rate") or Decimal("1"),
        lines=lines,
        payments=payments,
        responsible_id=lookups.responsible.get(client_id),
        responsible_known=True,
    )


def documents_from_api(session: Session, loaded: list[dict[str, Any]]) -> list[DocumentData]:
    """Documents validated by ``DocumentInSchema``, with products and clients resolved; a
    ``ValidationError`` naming ``documents.<i>.lines.<j>.product_code`` (or ``client_id``)
    otherwise. Duplicate numbers in one batch are refused."""
    lookups = Lookups(
        session,
        (line["product_code"] for doc in loaded for line in doc["lines"]),
        (doc["client_id"] for doc in loaded),
    )
    errors: dict[int, dict[str, Any]] = {}
    documents, seen = [], {}
    for i, doc in enumerate(loaded):
        problems: dict[str, Any] = {}
        if doc["number"] in seen:
            problems["number"] = [f"Also the number of document {seen[doc['number']]}."]
        seen.setdefault(doc["number"], i)
        client_id, why = lookups.client(doc["client_id"], None)
        if client_id is None:
            problems["client_id"] = [why]
        lines = []
        for j, line in enumerate(doc["lines"]):
            product = lookups.products.get(line["product_code"])
            if product is None:
                problems.setdefault("lines", {})[j] = {
                    "product_code": [f"Unknown product {line['product_code']!r}."]
                }
                continue
            lines.append(
                LineData(
                    product,
                    line["quantity"],
                    line["unit_price"],
                    line["discount_percent"],
                    line.get("amount"),
                )
            )
        if problems:
            errors[i] = problems
            continue
        documents.append(
            DocumentData(
                number=doc["number"],
                kind=doc["kind"],
                client_id=doc["client_id"],
                date=doc["date"],
                due_date=doc.get("due_date"),
                currency=doc.get("currency") or installation_currency(),
                rate=doc.get("rate") or Decimal("1"),
                lines=lines,
                payments=[PaymentData(p["date"], p["amount"]) for p in doc["payments"]],
                responsible_id=lookups.responsible.get(doc["client_id"]),
                responsible_known=True,
            )
        )
    if errors:
        raise ValidationError(errors)
    return documents


def apply_import(
    session: Session, documents: list[DocumentData], progress: Progress | None = None
) -> WriteResult:
    """Write the checked documents (the caller commits): see ``documents.write_documents``."""
    return write_documents(session, documents, progress)
