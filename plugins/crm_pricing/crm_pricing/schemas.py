"""What comes in and goes out: quotes (one line or a batch) and pricing rules."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from marshmallow import ValidationError, fields, validate, validates_schema

from core.schemas import Schema
from crm_pricing.engine import MODES
from crm_pricing.kinds import REQUIRED_SCOPE

MAX_BATCH_LINES = 500


class _ProductRef(Schema):
    product_id = fields.Integer(strict=True, validate=validate.Range(min=1))
    product_code = fields.String(validate=validate.Length(min=1, max=50))
    quantity = fields.Decimal(
        load_default=lambda: Decimal(1),
        allow_nan=False,
        validate=validate.Range(min=0, min_inclusive=False, max=10**9),
    )

    @validates_schema
    def _one_product(self, data: dict[str, Any], **_: Any) -> None:
        if ("product_id" in data) == ("product_code" in data):
            raise ValidationError("Give product_id or product_code (one of them).", "product_id")


class QuoteLineSchema(_ProductRef):
    """One line of a batch: ``product_id`` or ``product_code``, and ``quantity`` (default 1)."""


class _QuoteCommon(Schema):
    client_id = fields.Integer(required=True, strict=True, validate=validate.Range(min=1))
    date = fields.Date(load_default=None, metadata={"description": "default: today"})
    payment_days = fields.Integer(
        load_default=None,
        allow_none=True,
        strict=True,
        validate=validate.Range(min=0, max=365),
        metadata={"description": "default: the client's preferred payment term"},
    )


class QuoteRequestSchema(_QuoteCommon, _ProductRef):
    """``POST /api/v1/pricing/quote``."""


class BatchQuoteRequestSchema(_QuoteCommon):
    """``POST /api/v1/pricing/quote/batch``: many lines for one client, date and payment term."""

    lines = fields.List(
        fields.Nested(QuoteLineSchema),
        required=True,
        validate=validate.Length(min=1, max=MAX_BATCH_LINES),
    )


class AdjustmentOutSchema(Schema):
    rule_id = fields.Integer(allow_none=True)
    rule = fields.String()
    kind = fields.String()
    reason = fields.String()
    percent = fields.Decimal(as_string=True, allow_none=True)
    base_price = fields.Decimal(as_string=True, allow_none=True)
    price_after = fields.Decimal(as_string=True)


class NotAppliedOutSchema(Schema):
    rule_id = fields.Integer(allow_none=True)
    rule = fields.String()
    kind = fields.String()
    reason = fields.String()


class QuoteSchema(Schema):
    client_id = fields.Integer()
    product_id = fields.Integer()
    product_code = fields.String()
    product_name = fields.String()
    quantity = fields.Decimal(as_string=True)
    date = fields.Date()
    payment_days = fields.Integer(allow_none=True)
    currency = fields.String()
    list_price = fields.Decimal(as_string=True)
    base_price = fields.Decimal(as_string=True)
    unit_price = fields.Decimal(as_string=True)
    discount_percent = fields.Decimal(as_string=True)
    total_discount_percent = fields.Decimal(as_string=True)
    cap_percent = fields.Decimal(as_string=True, allow_none=True)
    line_total = fields.Decimal(as_string=True)
    adjustments = fields.List(fields.Nested(AdjustmentOutSchema))
    not_applied = fields.List(fields.Nested(NotAppliedOutSchema))
    explanation = fields.List(fields.String())


class BatchQuoteSchema(Schema):
    items = fields.List(fields.Nested(QuoteSchema))
    total = fields.Decimal(as_string=True)
    currency = fields.String(allow_none=True)


class RuleSchema(Schema):
    """A pricing rule, in and out. ``params`` is validated by the schema of its ``kind``, among
    the kinds the schema is given: ``RuleSchema(kinds={name: PricingRuleKind})``."""

    def __init__(self, *, kinds: dict[str, Any] | None = None, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.kinds = kinds or {}

    id = fields.Integer(dump_only=True)
    name = fields.String(required=True, validate=validate.Length(min=1, max=200))
    kind = fields.String(required=True)
    params = fields.Dict(load_default=dict)
    mode = fields.String(load_default="stack", validate=validate.OneOf(MODES))
    priority = fields.Integer(load_default=100, strict=False, validate=validate.Range(-999, 9999))
    active = fields.Boolean(load_default=True)
    client_id = fields.Integer(load_default=None, allow_none=True)
    customer_group_id = fields.Integer(load_default=None, allow_none=True)
    product_id = fields.Integer(load_default=None, allow_none=True)
    product_group_id = fields.Integer(load_default=None, allow_none=True)
    valid_from = fields.Date(load_default=None, allow_none=True)
    valid_to = fields.Date(load_default=None, allow_none=True)
    notes = fields.String(load_default="", validate=validate.Length(max=2000))
    version = fields.Integer(load_only=True)

    @validates_schema(skip_on_field_errors=False)
    def _rule(self, data: dict[str, Any], partial: Any = None, **_: Any) -> None:
        errors: dict[str, list[str]] = {}
        kinds = self.kinds
        kind = kinds.get(data.get("kind"))
        if "kind" in data and kind is None:
            errors["kind"] = [f"Unknown kind; one of: {', '.join(sorted(kinds)) or 'none'}."]
        if kind is not None and "params" in data:
            try:
                kind.schema().load(data["params"])
            except ValidationError as exc:
                errors["params"] = exc.messages  # type: ignore[assignment]
        if data.get("client_id") and data.get("customer_group_id"):
            errors["customer_group_id"] = [
                "A rule is for one client, one customer group or everyone: not both."
            ]
        if data.get("product_id") and data.get("product_group_id"):
            errors["product_group_id"] = [
                "A rule is for one product, one product group or all products: not both."
            ]
        start, end = data.get("valid_from"), data.get("valid_to")
        if start and end and end < start:
            errors["valid_to"] = ["Must not be before valid from."]
        for needed in REQUIRED_SCOPE.get(data.get("kind", ""), ()):
            if not data.get(needed):
                label = needed.removesuffix("_id").replace("_", " ")
                errors.setdefault(needed, []).append(f"A rule of this kind needs a {label}.")
        if errors:
            raise ValidationError(errors)
