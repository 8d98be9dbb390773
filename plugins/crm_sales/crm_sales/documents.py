"""Writing sales documents: the one place that creates or replaces a document, its lines and its
payments, and fills in what the turnover service reads (client, date, group, signed cents).

A document is identified by its number. Writing a number that exists replaces that document
(header, lines and payments), unless what is written is exactly what is stored (same checksum),
in which case nothing changes: re-sending the same export is harmless.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

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


def existing_documents(session: Session, numbers: Iterable[str]) -> dict[str, SalesDocument]:
    """The stored documents with those numbers, lines and payments loaded, in few queries."""
    numbers = sorted(set(numbers))
    found: dict[str, SalesDocument] = {}
    for start in range(0, len(numbers), 500):
        chunk = numbers[start : start + 500]
        stmt = (
            select(SalesDocument)
            .where(SalesDocument.number.in_(chunk))
            .options(selectinload(SalesDocument.lines), selectinload(SalesDocument.payments))
        )
        found.update((d.number, d) for d in session.scalars(stmt))
    return found


def write_document(
    session: Session, data: DocumentData, existing: SalesDocument | None = None
) -> tuple[SalesDocument, str]:
    """Create or replace the document ``data.number``; returns it and "created", "replaced" or
    "unchanged". ``existing`` is the stored document of that number when the caller loaded it
    already (imports load them all in one query); otherwise it is looked up."""
    if existing is None:
        existing = existing_documents(session, [data.number]).get(data.number)
    checksum = data.checksum()
    if existing is not None and existing.checksum == checksum:
        return existing, "unchanged"
    document = existing or SalesDocument(number=data.number)
    outcome = "replaced" if existing is not None else "created"
    sign = -1 if data.kind == "credit_note" else 1
    document.kind = data.kind
    document.client_id = data.client_id
    document.date = data.date
    document.due_date = data.due_date
    document.currency = data.currency
    document.rate = data.rate
    document.checksum = checksum
    document.updated_at = utcnow()
    responsible_id = data.responsible_id
    if not data.responsible_known:
        responsible_id = session.scalar(
            select(Client.responsible_id).where(Client.id == data.client_id)
        )
    month = data.date.isoformat()[:7]
    lines, total, total_cents = [], Decimal("0"), 0
    for position, line in enumerate(data.lines, start=1):
        amount = line.computed_amount()
        line_cents = cents(amount * data.rate)
        total += amount
        total_cents += line_cents
        lines.append(
            SalesLine(
                position=position,
                product=line.product,
                quantity=line.quantity,
                unit_price=line.unit_price,
                discount_percent=line.discount_percent,
                amount=amount,
                client_id=data.client_id,
                date=data.date,
                group_id=line.product.group_id,
                signed_cents=sign * line_cents,
                signed_quantity=sign * line.quantity,
                net_amount=from_cents(sign * line_cents),
                month=month,
                responsible_id=responsible_id,
            )
        )
    document.lines = lines
    document.payments = [
        Payment(date=p.date, amount=money(p.amount), days=(p.date - data.date).days)
        for p in data.payments
    ]
    document.total = money(total)
    document.total_local = from_cents(total_cents)
    document.paid = money(sum((p.amount for p in data.payments), Decimal("0")))
    session.add(document)
    return document, outcome
