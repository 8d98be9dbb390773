"""Writing sales documents: the one place that creates or replaces a document, its lines and its
payments, and fills in what the turnover service reads (client, date, group, signed cents).

A document is identified by its number. Writing a number that exists replaces that document
(header, lines and payments), unless what is written is exactly what is stored (same checksum),
in which case nothing changes: re-sending the same export is harmless.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from typing import Any

from sqlalchemy import bindparam, delete, insert, select, update
from sqlalchemy.orm import Session

from core.models import utcnow
from crm_contacts.models import Client
from crm_sales.models import Payment, Product, SalesDocument, SalesLine
from crm_sales.settings import cents, from_cents, money

HUNDRED = Decimal(100)


@dataclass
class LineData:
    product: Product
    quantity: Decimal
    unit_price: Decimal
    discount_percent: Decimal = Decimal("0")
    amount: Decimal | None = None

    def computed_amount(self) -> Decimal:
        if self.amount is not None:
            return money(self.amount)
        return money(self.quantity * self.unit_price * (HUNDRED - self.discount_percent) / HUNDRED)


@dataclass
class PaymentData:
    date: date
    amount: Decimal


@dataclass
class DocumentData:
    number: str
    kind: str
    client_id: int
    date: date
    due_date: date | None = None
    # The client's representative, credited with the sale in reports; looked up unless known.
    responsible_id: int | None = None
    responsible_known: bool = False
    currency: str = "EUR"
    rate: Decimal = Decimal("1")
    lines: list[LineData] = field(default_factory=list)
    payments: list[PaymentData] = field(default_factory=list)

    def checksum(self) -> str:
        canonical: dict[str, Any] = {
            "number": self.number,
            "kind": self.kind,
            "client_id": self.client_id,
            "date": self.date.isoformat(),
            "due_date": self.due_date.isoformat() if self.due_date else None,
            "currency": self.currency,
            "rate": str(self.rate.normalize()),
            "lines": [
                [
                    line.product.code,
                    str(line.quantity.normalize()),
                    str(line.unit_price.normalize()),
                    str(line.discount_percent.normalize()),
                    str(line.computed_amount()),
                ]
                for line in self.lines
            ],
            "payments": [[p.date.isoformat(), str(money(p.amount))] for p in self.payments],
        }
        return hashlib.sha256(json.dumps(canonical, sort_keys=True).encode()).hexdigest()


CHUNK = 500


@dataclass
class WriteResult:
    created: int = 0
    replaced: int = 0
    unchanged: int = 0
    # {document number: "created" | "replaced" | "unchanged"}
    outcomes: dict[str, str] = field(default_factory=dict)

    def __str__(self) -> str:
        return f"{self.created} created, {self.replaced} replaced, {self.unchanged} unchanged"


def stored_checksums(session: Session, numbers: Iterable[str]) -> dict[str, tuple[int, str]]:
    """``{number: (id, checksum)}`` of the stored documents among ``numbers``."""
    table = SalesDocument.__table__
    numbers = sorted(set(numbers))
    found: dict[str, tuple[int, str]] = {}
    for start in range(0, len(numbers), CHUNK):
        stmt = select(table.c.number, table.c.id, table.c.checksum).where(
            table.c.number.in_(numbers[start : start + CHUNK])
        )
        found.update((number, (doc_id, checksum)) for number, doc_id, checksum in session.execute(
            stmt.execution_options(crm_all_records=True)
        ))  # fmt: skip
    return found


def _rows(data: DocumentData, checksum: str, responsible_id: int | None, now) -> tuple:
    """The document's header values, and its lines and payments without their document id."""
    sign = -1 if data.kind == "credit_note" else 1
    month = data.date.isoformat()[:7]
    lines, total, total_cents = [], Decimal("0"), 0
    for position, line in enumerate(data.lines, start=1):
        amount = line.computed_amount()
        line_cents = cents(amount * data.rate)
        total += amount
        total_cents += line_cents
        lines.append(
            {"position": position, "product_id": line.product.id, "quantity": line.quantity,
             "unit_price": line.unit_price, "discount_percent": line.discount_percent,
             "amount": amount, "client_id": data.client_id, "date": data.date,
             "group_id": line.product.group_id, "signed_cents": sign * line_cents,
             "signed_quantity": sign * line.quantity, "net_amount": from_cents(sign * line_cents),
             "month": month, "responsible_id": responsible_id}
        )  # fmt: skip
    payments = [
        {"date": p.date, "amount": money(p.amount), "days": (p.date - data.date).days}
        for p in data.payments
    ]
    header = {
        "number": data.number, "kind": data.kind, "client_id": data.client_id,
        "date": data.date, "due_date": data.due_date, "currency": data.currency,
        "rate": data.rate, "total": money(total), "total_local": from_cents(total_cents),
        "paid": money(sum((p.amount for p in data.payments), Decimal("0"))),
        "checksum": checksum, "updated_at": now,
    }  # fmt: skip
    return header, lines, payments


def write_documents(
    session: Session, documents: list[DocumentData], progress: Callable[[int], Any] | None = None
) -> WriteResult:
    """Create or replace documents by number, in set-based statements (a few per 500 documents,
    whatever their lines); a document whose content did not change is not written. The caller
    commits. Documents of one call must have distinct numbers."""
    result = WriteResult()
    session.flush()  # products and clients created just before have their ids
    docs, lines_t, payments_t = (
        SalesDocument.__table__, SalesLine.__table__, Payment.__table__
    )  # fmt: skip
    unknown = sorted({d.client_id for d in documents if not d.responsible_known})
    responsible: dict[int, int | None] = {}
    for start in range(0, len(unknown), CHUNK):
        chunk = unknown[start : start + CHUNK]
        responsible.update(
            session.execute(
                select(Client.id, Client.responsible_id).where(Client.id.in_(chunk))
            ).all()
        )
    now = utcnow()
    for start in range(0, len(documents), CHUNK):
        batch = documents[start : start + CHUNK]
        stored = stored_checksums(session, (d.number for d in batch))
        creates, replaces = [], []
        for data in batch:
            checksum = data.checksum()
            known = stored.get(data.number)
            if known is not None and known[1] == checksum:
                result.unchanged += 1
                result.outcomes[data.number] = "unchanged"
                continue
            rep = data.responsible_id if data.responsible_known else responsible.get(data.client_id)
            rows = _rows(data, checksum, rep, now)
            if known is None:
                creates.append(rows)
                result.created += 1
                result.outcomes[data.number] = "created"
            else:
                replaces.append((known[0], rows))
                result.replaced += 1
                result.outcomes[data.number] = "replaced"
        if replaces:
            ids = [doc_id for doc_id, _ in replaces]
            session.execute(delete(lines_t).where(lines_t.c.document_id.in_(ids)))
            session.execute(delete(payments_t).where(payments_t.c.document_id.in_(ids)))
            session.execute(
                update(docs).where(docs.c.id == bindparam("doc_id")),
                [{**header, "doc_id": doc_id} for doc_id, (header, _l, _p) in replaces],
            )
        new_ids: list[int] = []
        if creates:
            new_ids = list(
                session.execute(
                    insert(docs).returning(docs.c.id, sort_by_parameter_order=True),
                    [{**header, "created_at": now} for header, _l, _p in creates],
                ).scalars()
            )
        written = [*replaces, *zip(new_ids, creates, strict=True)]
        line_rows = [{**line, "document_id": doc_id} for doc_id, (_h, ls, _p) in written
                     for line in ls]  # fmt: skip
        payment_rows = [{**p, "document_id": doc_id} for doc_id, (_h, _l, ps) in written
                        for p in ps]  # fmt: skip
        if line_rows:
            session.execute(insert(lines_t), line_rows)
        if payment_rows:
            session.execute(insert(payments_t), payment_rows)
        if progress:
            progress(len(batch))
    if result.created or result.replaced:
        # Documents loaded before see their new header, lines and payments.
        for obj in list(session.identity_map.values()):
            if isinstance(obj, (SalesDocument, SalesLine, Payment)):
                session.expire(obj)
    return result


def write_document(session: Session, data: DocumentData) -> tuple[SalesDocument, str]:
    """Create or replace one document; returns it and "created", "replaced" or "unchanged"."""
    outcome = write_documents(session, [data]).outcomes[data.number]
    document = session.scalar(
        select(SalesDocument)
        .where(SalesDocument.number == data.number)
        .execution_options(crm_all_records=True)
    )
    return document, outcome
