"""Small helpers of the module's pages: form values to schema input, error flattening, pages."""

from __future__ import annotations

import math
from typing import Any

from flask import request
from marshmallow import ValidationError

from core.db import db_session
from crm_pricing.quoting import UnknownProducts, quote_lines
from crm_pricing.service import UnknownClient

PER_PAGE = 50


def flatten_errors(messages: Any, prefix: str = "") -> list[str]:
    """Nested marshmallow messages as lines naming their field: ``tiers.0.percent: ...``."""
    if isinstance(messages, dict):
        out: list[str] = []
        for key, value in messages.items():
            name = f"{prefix}.{key}" if prefix else str(key)
            out += flatten_errors(value, name)
        return out
    if isinstance(messages, list | tuple):
        if all(isinstance(m, str) for m in messages):
            return [f"{prefix}: {m}" if prefix else m for m in messages]
        return [line for m in messages for line in flatten_errors(m, prefix)]
    return [f"{prefix}: {messages}" if prefix else str(messages)]


def field_errors(messages: dict[str, Any]) -> dict[str, list[str]]:
    """Top-level fields keep their own messages; nested ones (params) are flattened."""
    out: dict[str, list[str]] = {}
    for key, value in messages.items():
        if isinstance(value, list) and all(isinstance(m, str) for m in value):
            out[key] = value
        else:
            out[key] = flatten_errors(value)
    return out


def pages(total: int, per_page: int = PER_PAGE) -> tuple[int, int]:
    """``(page, pages)`` of the request's ``?page=``, clamped (not a number: the first)."""
    count = max(1, math.ceil(total / per_page))
    try:
        page = int((request.args.get("page") or "").strip() or 1)
    except ValueError:
        page = 1
    return min(max(page, 1), count), count


CHOOSE_CLIENT = "Choose a client from the list: type a few letters of its name or VAT number."
CHOOSE_PRODUCT = "Choose a product from the list: type a few letters of its name or code."


def quote_input(source: Any, prefix: str = "", *, lines: bool = True) -> dict[str, Any]:
    """A quote request from form fields (named ``prefix`` + client_id, payment_days, date, and
    with ``lines`` product_id (a picker) or product_code, and quantity) as the quote schemas take
    it: empty fields left out (the schema names what is missing), numbers as numbers."""
    data: dict[str, Any] = {}
    for name in ("client_id", "payment_days"):
        raw = (source.get(prefix + name) or "").strip()
        if raw:
            data[name] = int(raw) if raw.isdigit() else raw
    raw_date = (source.get(prefix + "date") or "").strip()
    if raw_date:
        data["date"] = raw_date
    if lines:
        product_id = (source.get(prefix + "product_id") or "").strip()
        code = (source.get(prefix + "product_code") or "").strip()
        if product_id:
            data["product_id"] = int(product_id) if product_id.isdigit() else product_id
        elif code:
            data["product_code"] = code
        data["quantity"] = (source.get(prefix + "quantity") or "").strip() or "1"
    return data


def run_quote(data: dict[str, Any], lines: list[dict[str, Any]], **rules: Any):
    """``quote_lines`` for the pages: an unknown client or product is a ``ValidationError``
    naming its field (``rules``: ``extra_rules``, ``exclude_rules``)."""
    try:
        return quote_lines(
            db_session, data["client_id"], data["date"], data["payment_days"], lines, **rules
        )
    except UnknownClient:
        raise ValidationError({"client_id": ["No such client among those you may see."]}) from None
    except UnknownProducts as exc:
        if all("product_id" in line for line in lines):
            raise ValidationError({"product_id": ["No such product."]}) from None
        raise ValidationError(
            {"product_code": [f"No product has the code {', '.join(exc.missing)}."]}
        ) from None


def quote_one(loaded: dict[str, Any], **rules: Any) -> dict[str, Any]:
    """The quote of the one line of a loaded ``QuoteRequestSchema``."""
    line = {k: loaded[k] for k in ("product_id", "product_code") if k in loaded}
    return run_quote(loaded, [{**line, "quantity": loaded["quantity"]}], **rules)[1][0]


def quote_errors(
    exc: ValidationError, source: Any = None, prefix: str = ""
) -> dict[str, list[str]]:
    """A one-line quote's errors by form field, in people's words: the product is one field
    (the picker ``product_id``), whether it came as an id or a code; a client or product that is
    not a number (a name typed where the list was expected) asks to choose from the list."""
    errors = field_errors(exc.messages if isinstance(exc.messages, dict) else {})
    if "product_code" in errors:
        errors.setdefault("product_id", []).extend(errors.pop("product_code"))
    for name, message in (("client_id", CHOOSE_CLIENT), ("product_id", CHOOSE_PRODUCT)):
        raw = str(source.get(prefix + name) or "").strip() if source is not None else ""
        if name in errors and raw and not raw.isdigit():
            errors[name] = [message]
    if any("Give product_id or product_code" in m for m in errors.get("product_id", [])):
        errors["product_id"] = ["Choose a product."]
    return errors
