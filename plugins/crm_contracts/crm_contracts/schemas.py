"""One schema per resource: what comes in (forms and JSON alike) is validated here, and what goes
out of the JSON API is shaped here. Checks that need the database (the client exists and is
visible, the condition lies within its contract, the product is in the catalogue) are in
``crm_contracts.service``, which forms and API both call."""

from __future__ import annotations

from decimal import ROUND_HALF_UP
from typing import Any

from marshmallow import EXCLUDE, Schema, ValidationError, fields, validate, validates_schema

from crm_contracts.models import CONDITION_KINDS, STATUSES


def text(max_length: int, *, required: bool = False) -> fields.String:
    rules = [validate.Length(max=max_length, error=f"At most {max_length} characters.")]
    if required:
        rules.insert(0, validate.Length(min=1, error="Required."))
        return fields.String(required=True, validate=rules)
    return fields.String(load_default="", validate=rules)


def optional_int(minimum: int = 0, maximum: int | None = None) -> fields.Integer:
    return fields.Integer(
        load_default=None,
        allow_none=True,
        strict=False,
        validate=validate.Range(min=minimum, max=maximum),
    )


def money(places: int) -> fields.Decimal:
    return fields.Decimal(
        places=places,
        rounding=ROUND_HALF_UP,
        as_string=True,
        allow_none=True,
        load_default=None,
        validate=validate.Range(min=0, error="Must not be negative."),
    )


class Base(Schema):
    class Meta:
        unknown = EXCLUDE  # forms post buttons and tokens; the API ignores what it does not know


def check_period(data: dict[str, Any]) -> None:
    """Refuse a ``valid_to`` before ``valid_from`` (either may be missing)."""
    start, end = data.get("valid_from"), data.get("valid_to")
    if start and end and end < start:
        raise ValidationError(
            {"valid_to": [f"Must not be before the start of validity (valid from: {start})."]}
        )


class ConditionSchema(Base):
    id = fields.Integer(dump_only=True)
    contract_id = fields.Integer(dump_only=True)
    kind = fields.String(
        required=True,
        validate=validate.OneOf(
            CONDITION_KINDS, error="Must be one of: price (a product), discount (a group)."
        ),
    )
    product_code = text(50)
    product_name = text(200)
    group_code = text(50)
    group_name = text(200)
    price = money(4)
    discount_percent = fields.Decimal(
        places=2,
        rounding=ROUND_HALF_UP,
        as_string=True,
        allow_none=True,
        load_default=None,
        validate=validate.Range(min=0, max=100, error="Must be between 0 and 100."),
    )
    valid_from = fields.Date(allow_none=True, load_default=None)
    valid_to = fields.Date(allow_none=True, load_default=None)
    note = text(500)
    version = fields.Integer(dump_only=True)

    @validates_schema
    def _complete(self, data: dict[str, Any], **_kwargs: Any) -> None:
        errors: dict[str, list[str]] = {}
        if data.get("kind") == "price":
            if not data.get("product_code"):
                errors["product_code"] = ["Required for a negotiated price."]
            if data.get("price") is None:
                errors["price"] = ["Required for a negotiated price."]
        elif data.get("kind") == "discount":
            if not data.get("group_code"):
                errors["group_code"] = ["Required for a group discount."]
            if data.get("discount_percent") is None:
                errors["discount_percent"] = ["Required for a group discount."]
        if errors:
            raise ValidationError(errors)
        check_period(data)


class ConditionUpdateSchema(ConditionSchema):
    """A PUT: the whole condition, and the version it was read at (here or in an ``If-Match``
    header)."""

    version = fields.Integer(strict=False, load_default=None)


class ContractSchema(Base):
    id = fields.Integer(dump_only=True)
    number = fields.String(dump_only=True)
    client_id = fields.Integer(required=True, strict=False)
    client_name = fields.Function(lambda c: c.client.name if c.client else "", dump_only=True)
    title = text(200, required=True)
    type_id = optional_int(1)
    type_name = fields.Function(lambda c: c.type.name if c.type else "", dump_only=True)
    signed_on = fields.Date(allow_none=True, load_default=None)
    valid_from = fields.Date(required=True)
    valid_to = fields.Date(allow_none=True, load_default=None)
    notice_days = optional_int(0, 3650)
    value = money(2)
    currency = fields.String(
        load_default="EUR",
        validate=validate.Regexp(r"^[A-Z]{3}$", error="Three capital letters (ISO 4217)."),
    )
    payment_term_days = optional_int(0, 3650)
    responsible_id = optional_int(1)
    notes = text(10000)
    status = fields.String(dump_only=True, metadata={"enum": list(STATUSES)})
    terminated_on = fields.Date(dump_only=True)
    termination_reason = fields.String(dump_only=True)
    predecessor_id = fields.Integer(dump_only=True)
    successor_id = fields.Integer(dump_only=True)
    conditions = fields.List(fields.Nested(ConditionSchema), dump_only=True)
    version = fields.Integer(strict=False)

    @validates_schema
    def _period(self, data: dict[str, Any], **_kwargs: Any) -> None:
        check_period(data)


class ContractUpdateSchema(ContractSchema):
    """A PATCH names the fields it changes, and the version it read."""

    version = fields.Integer(required=True, strict=False)


class TerminateSchema(Base):
    terminated_on = fields.Date(required=True)
    termination_reason = text(2000, required=True)
    version = fields.Integer(strict=False)


class RenewSchema(Base):
    title = text(200)
    valid_from = fields.Date(required=True)
    valid_to = fields.Date(allow_none=True, load_default=None)
    copy_conditions = fields.Boolean(load_default=True)
    version = fields.Integer(strict=False)

    @validates_schema
    def _period(self, data: dict[str, Any], **_kwargs: Any) -> None:
        check_period(data)
