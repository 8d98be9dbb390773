"""The quote simulator for representatives: client, product, quantity, payment days → the price
and its explanation; and the batch form: many lines for one client at once."""

from __future__ import annotations

import re
from decimal import Decimal, InvalidOperation
from typing import Any

from flask import render_template, request
from marshmallow import ValidationError

from core.permissions import permission_required
from core.timezone import local_today
from crm_pricing.blueprints import bp
from crm_pricing.permissions import READ
from crm_pricing.quoting import batch_total
from crm_pricing.schemas import MAX_BATCH_LINES, BatchQuoteRequestSchema, QuoteRequestSchema
from crm_pricing.views.forms import (
    CHOOSE_CLIENT,
    field_errors,
    quote_errors,
    quote_input,
    quote_one,
    run_quote,
)

_SPLIT = re.compile(r"[\s,;]+")


@bp.route("/simulator")
@permission_required(READ)
def simulator():
    """Prices when a product is chosen (or the form was sent): opened from a client file with
    only the client, it shows the form prefilled, without errors."""
    args = request.args
    values = args.to_dict()
    values.setdefault("quantity", "1")
    values.setdefault("date", local_today().isoformat())
    errors: dict[str, list[str]] = {}
    quote = None
    if args.get("product_id") or args.get("product_code") or "price" in args:
        try:
            loaded = QuoteRequestSchema().load(quote_input(args))
            quote = quote_one(loaded)
        except ValidationError as exc:
            errors = quote_errors(exc, args)
    if quote is not None:
        values["product_id"] = str(quote["product_id"])
    return render_template(
        "crm_pricing/simulator.html",
        values=values,
        errors=errors,
        quote=quote,
        client_ok=str(values.get("client_id", "")).isdigit(),
        product_label=f"{quote['product_name']} ({quote['product_code']})" if quote else None,
    ), (400 if errors else 200)


def parse_lines(text: str) -> tuple[list[dict[str, Any]], list[str]]:
    """``CODE quantity`` per line (quantity optional, default 1) → lines, and the errors by
    line number."""
    lines, errors = [], []
    for number, raw in enumerate(text.splitlines(), start=1):
        parts = [p for p in _SPLIT.split(raw.strip()) if p]
        if not parts:
            continue
        if len(parts) > 2:
            errors.append(f"line {number}: write a product code and a quantity, nothing else.")
            continue
        quantity = Decimal(1)
        if len(parts) == 2:
            try:
                quantity = Decimal(parts[1])
            except InvalidOperation:
                quantity = Decimal(-1)
            if not quantity.is_finite() or quantity <= 0:
                errors.append(f"line {number}: the quantity must be a number above 0.")
                continue
        lines.append({"product_code": parts[0], "quantity": quantity})
    if not lines and not errors:
        errors.append("Write at least one line: a product code and a quantity.")
    if len(lines) > MAX_BATCH_LINES:
        errors.append(f"At most {MAX_BATCH_LINES} lines at once.")
    return lines, errors


@bp.route("/simulator/batch", methods=["GET", "POST"])
@permission_required(READ)
def batch():
    values = request.form.to_dict() if request.method == "POST" else request.args.to_dict()
    values.setdefault("date", local_today().isoformat())
    errors: dict[str, list[str]] = {}
    quotes: list[dict[str, Any]] = []
    total = None
    if request.method == "POST":
        lines, line_errors = parse_lines(values.get("lines", ""))
        if line_errors:
            errors["lines"] = line_errors
        data = quote_input(request.form, lines=False)
        try:
            loaded = BatchQuoteRequestSchema().load(
                {**data, "lines": [{**line, "quantity": str(line["quantity"])} for line in lines]
                 or [{"product_code": "-"}]}
            )  # fmt: skip
            if not errors:
                _, quotes = run_quote(loaded, loaded["lines"])
        except ValidationError as exc:
            messages = exc.messages if isinstance(exc.messages, dict) else {}
            messages.pop("lines", None)
            for key, value in field_errors(messages).items():
                errors.setdefault("lines" if key == "product_code" else key, []).extend(value)
            raw_client = values.get("client_id", "").strip()
            if "client_id" in errors and raw_client and not raw_client.isdigit():
                errors["client_id"] = [CHOOSE_CLIENT]
        total = batch_total(quotes)
    return render_template(
        "crm_pricing/batch.html", values=values, errors=errors, quotes=quotes, total=total
    ), (400 if errors else 200)
