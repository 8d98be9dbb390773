"""Shared by the quote API, the batch form and the simulator: price lines and shape the answer."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Any

from sqlalchemy.orm import Session

from core.timezone import local_today
from crm_pricing.engine import PriceResult, explain
from crm_pricing.money import round_price
from crm_pricing.service import PricingRun, ProductRow, load_products


def quote_dict(
    run: PricingRun, product: ProductRow, result: PriceResult, payment_days: int | None
) -> dict[str, Any]:
    return {
        "client_id": run.client.id,
        "product_id": product.id,
        "product_code": product.code,
        "product_name": product.name,
        "quantity": result.quantity,
        "date": run.on,
        "payment_days": run.payment_days(payment_days),
        "currency": result.currency,
        "list_price": result.list_price,
        "base_price": result.base_price,
        "unit_price": result.unit_price,
        "discount_percent": result.discount_percent,
        "total_discount_percent": result.total_discount_percent,
        "cap_percent": result.cap_percent,
        "line_total": result.line_total,
        "adjustments": result.applied,
        "not_applied": result.not_applied,
        "explanation": explain(result),
    }


def batch_total(quotes: list[dict[str, Any]]) -> tuple[Decimal, str] | None:
    """The total of quoted lines and its currency, when they share one (else None)."""
    currencies = {q["currency"] for q in quotes}
    if len(currencies) != 1:
        return None
    currency = currencies.pop()
    return round_price(sum((q["line_total"] for q in quotes), Decimal(0)), currency), currency


class UnknownProducts(LookupError):
    def __init__(self, missing: list[str]) -> None:
        super().__init__(missing)
        self.missing = missing


def quote_lines(
    session: Session,
    client_id: int,
    on: date | None,
    payment_days: int | None,
    lines: list[dict[str, Any]],
    *,
    extra_rules=(),
    exclude_rules=(),
) -> tuple[PricingRun, list[dict[str, Any]]]:
    """Quote ``lines`` (``product_id`` or ``product_code``, ``quantity``) in one run: the products
    in one query. Raises ``UnknownClient`` or ``UnknownProducts`` (naming each line's product)."""
    run = PricingRun(
        session,
        client_id,
        on or local_today(),
        extra_rules=extra_rules,
        exclude_rules=exclude_rules,
    )
    ids = [line["product_id"] for line in lines if "product_id" in line]
    codes = [line["product_code"] for line in lines if "product_code" in line]
    products = load_products(session, ids=ids, codes=codes)
    by_id = {p.id: p for p in products}
    by_code = {p.code: p for p in products}
    missing = []
    found = []
    for line in lines:
        product = (
            by_id.get(line["product_id"])
            if "product_id" in line
            else by_code.get(line["product_code"])
        )
        if product is None:
            missing.append(str(line.get("product_id", line.get("product_code"))))
        found.append(product)
    if missing:
        raise UnknownProducts(missing)
    quotes = [
        quote_dict(run, product, run.price(product, line.get("quantity", Decimal(1)), payment_days),
                   payment_days)
        for product, line in zip(found, lines, strict=True)
    ]  # fmt: skip
    return run, quotes
