"""``POST /api/v1/pricing/quote`` and ``/quote/batch``: the price of one line, or of many lines for
one client, with the adjustments applied in order and the rules not applied with their reasons."""

from __future__ import annotations

from flask import jsonify

from core.api import ApiError, api_doc, load_json
from core.db import db_session
from core.permissions import permission_required
from crm_pricing.blueprints import api
from crm_pricing.permissions import READ
from crm_pricing.quoting import UnknownProducts, batch_total, quote_lines
from crm_pricing.schemas import (
    BatchQuoteRequestSchema,
    BatchQuoteSchema,
    QuoteRequestSchema,
    QuoteSchema,
)
from crm_pricing.service import UnknownClient

# Built once: a schema instance holds no request state, and building one (with its nested
# schemas) costs more than a quote's arithmetic.
_QUOTE_IN, _QUOTE_OUT = QuoteRequestSchema(), QuoteSchema()
_BATCH_IN, _BATCH_OUT = BatchQuoteRequestSchema(), BatchQuoteSchema()


def _quote(data: dict, lines: list[dict]):
    try:
        return quote_lines(db_session, data["client_id"], data["date"], data["payment_days"], lines)
    except UnknownClient:
        raise ApiError({"client_id": ["No such client."]}) from None
    except UnknownProducts as exc:
        raise ApiError({"product": [f"No such product: {', '.join(exc.missing)}."]}) from None


@api.route("/quote", methods=["POST"])
@permission_required(READ)
@api_doc(
    "Price one line for a client: list, base and unit price, the discounts applied in order and "
    "the rules not applied, each with its reason",
    request_schema=QuoteRequestSchema,
    response_schema=QuoteSchema,
)
def api_quote():
    data = load_json(_QUOTE_IN)
    line = {k: data[k] for k in ("product_id", "product_code", "quantity") if k in data}
    _, quotes = _quote(data, [line])
    return jsonify(_QUOTE_OUT.dump(quotes[0]))


@api.route("/quote/batch", methods=["POST"])
@permission_required(READ)
@api_doc(
    "Price many lines for one client at once (at most 500), in one run",
    request_schema=BatchQuoteRequestSchema,
    response_schema=BatchQuoteSchema,
)
def api_quote_batch():
    data = load_json(_BATCH_IN)
    _, quotes = _quote(data, data["lines"])
    total, currency = batch_total(quotes) or (None, None)
    return jsonify(_BATCH_OUT.dump({"items": quotes, "total": total, "currency": currency}))
