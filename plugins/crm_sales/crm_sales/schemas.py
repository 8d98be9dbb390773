"""Marshmallow schemas: one per resource, for what comes in (forms, JSON, CSV rows) and what goes
out (the JSON API)."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from marshmallow import (
    EXCLUDE,
    ValidationError,
    fields,
    post_load,
    pre_load,
    validate,
    validates_schema,
)

from core.schemas import Schema
from crm_sales.models import DOCUMENT_KINDS
from crm_sales.settings import installation_currency

CODE = validate.Regexp(r"^[A-Za-z0-9][A-Za-z0-9._/-]*$", error="Letters, digits, . _ / - only.")
CURRENCY = validate.Regexp(r"^[A-Z]{3}$", error="A three-letter currency code (EUR).")


def _decimal(places: int | None = None, **kwargs: Any) -> fields.Decimal:
    return fields.Decimal(places=places, allow_nan=False, as_string=False, **kwargs)


def _stripped(data: Any, optional: tuple[str, ...]) -> Any:
    """A form's values stripped, the ``optional`` ones left empty as None."""
    if not isinstance(data, dict):
        return data
    data = {k: v.strip() if isinstance(v, str) else v for k, v in data.items()}
    return {k: None if k in optional and v == "" else v for k, v in data.items()}


class ProductGroupSchema(Schema):
    class Meta:
        unknown = EXCLUDE

    id = fields.Integer(dump_only=True)
    code = fields.String(required=True, validate=[validate.Length(min=1, max=50), CODE])
    name = fields.String(required=True, validate=validate.Length(min=1, max=200))
    parent_id = fields.Integer(allow_none=True, load_default=None)
    path = fields.String(dump_only=True)

    @pre_load
    def _strip(self, data: Any, **_kwargs: Any) -> Any:
        return _stripped(data, ("parent_id",))


class ProductSchema(Schema):
    class Meta:
        unknown = EXCLUDE

    id = fields.Integer(dump_only=True)
    code = fields.String(required=True, validate=[validate.Length(min=1, max=50), CODE])
    name = fields.String(required=True, validate=validate.Length(min=1, max=200))
    unit = fields.String(load_default="pcs", validate=validate.Length(min=1, max=20))
    list_price = _decimal(required=True, validate=validate.Range(min=0))
    currency = fields.String(load_default=None, validate=CURRENCY)
    group_id = fields.Integer(allow_none=True, load_default=None)
    active = fields.Boolean(load_default=True)
    version = fields.Integer(load_default=None)

    @pre_load
    def _strip(self, data: Any, **_kwargs: Any) -> Any:
        data = _stripped(data, ("group_id", "version", "currency"))
        if isinstance(data, dict) and isinstance(data.get("currency"), str):
            data["currency"] = data["currency"].upper()
        return data

    @post_load
    def _currency(self, data: dict[str, Any], **_kwargs: Any) -> dict[str, Any]:
        data["currency"] = data.get("currency") or installation_currency()
        return data


class LineInSchema(Schema):
    product_code = fields.String(required=True, validate=validate.Length(min=1, max=50))
    quantity = _decimal(required=True, validate=validate.Range(min=0, min_inclusive=False))
    unit_price = _decimal(required=True, validate=validate.Range(min=0))
    discount_percent = _decimal(load_default=Decimal("0"), validate=validate.Range(min=0, max=100))
    amount = _decimal(load_default=None, allow_none=True, validate=validate.Range(min=0))


class PaymentInSchema(Schema):
    date = fields.Date(required=True)
    amount = _decimal(required=True, validate=validate.Range(min=0, min_inclusive=False))


class _HeaderMixin:
    @validates_schema
    def _dates_and_rate(self, data: dict[str, Any], **_kwargs: Any) -> None:
        errors: dict[str, list[str]] = {}
        if data.get("due_date") and data.get("date") and data["due_date"] < data["date"]:
            errors["due_date"] = ["The due date cannot be before the document date."]
        currency = data.get("currency") or installation_currency()
        if currency != installation_currency() and data.get("rate") is None:
            errors["rate"] = [
                f"A document in {currency} needs its rate to {installation_currency()}."
            ]
        if errors:
            raise ValidationError(errors)


class DocumentInSchema(_HeaderMixin, Schema):
    """A document as the ERP sends it (JSON API). Amounts as printed (positive); the kind gives
    the sign. ``rate`` converts the document currency to the installation currency."""

    class Meta:
        unknown = EXCLUDE

    number = fields.String(required=True, validate=validate.Length(min=1, max=50))
    kind = fields.String(load_default="invoice", validate=validate.OneOf(DOCUMENT_KINDS))
    client_id = fields.Integer(required=True)
    date = fields.Date(required=True)
    due_date = fields.Date(load_default=None, allow_none=True)
    currency = fields.String(load_default=None, allow_none=True, validate=CURRENCY)
    rate = _decimal(
        load_default=None, allow_none=True, validate=validate.Range(min=0, min_inclusive=False)
    )
    lines = fields.List(
        fields.Nested(LineInSchema), required=True, validate=validate.Length(min=1, max=10_000)
    )
    payments = fields.List(fields.Nested(PaymentInSchema), load_default=list)


class DocumentBatchSchema(Schema):
    documents = fields.List(
        fields.Nested(DocumentInSchema), required=True, validate=validate.Length(min=1, max=1000)
    )


class CsvRowSchema(_HeaderMixin, Schema):
    """One row of the CSV import: the document's header (repeated on each of its rows), and a
    line (``product_code``…), a payment (``payment_date``, ``payment_amount``) or both."""

    class Meta:
        unknown = EXCLUDE

    number = fields.String(required=True, validate=validate.Length(min=1, max=50))
    kind = fields.String(load_default="invoice", validate=validate.OneOf(DOCUMENT_KINDS))
    client_id = fields.Integer(load_default=None)
    client_vat = fields.String(load_default=None)
    date = fields.Date(required=True)
    due_date = fields.Date(load_default=None)
    currency = fields.String(load_default=None, validate=CURRENCY)
    rate = _decimal(load_default=None, validate=validate.Range(min=0, min_inclusive=False))
    product_code = fields.String(load_default=None, validate=validate.Length(max=50))
    quantity = _decimal(load_default=None, validate=validate.Range(min=0, min_inclusive=False))
    unit_price = _decimal(load_default=None, validate=validate.Range(min=0))
    discount_percent = _decimal(load_default=Decimal("0"), validate=validate.Range(min=0, max=100))
    amount = _decimal(load_default=None, validate=validate.Range(min=0))
    payment_date = fields.Date(load_default=None)
    payment_amount = _decimal(
        load_default=None, validate=validate.Range(min=0, min_inclusive=False)
    )

    DECIMALS = ("rate", "quantity", "unit_price", "discount_percent", "amount", "payment_amount")

    @pre_load
    def _cells(self, data: Any, **_kwargs: Any) -> Any:
        """Empty cells are absent; ``12,5`` is read as ``12.5`` (a decimal comma, as many ERPs
        export), but ``1,234.50`` is refused rather than guessed."""
        if not isinstance(data, dict):
            return data
        cells = {k: v.strip() for k, v in data.items() if isinstance(v, str) and v.strip()}
        for name in self.DECIMALS:
            value = cells.get(name)
            if value and "," in value and "." not in value and value.count(",") == 1:
                cells[name] = value.replace(",", ".")
        if "currency" in cells:
            cells["currency"] = cells["currency"].upper()
        if "kind" in cells:
            cells["kind"] = cells["kind"].lower().replace(" ", "_")
        return cells

    @validates_schema
    def _row(self, data: dict[str, Any], **_kwargs: Any) -> None:
        errors: dict[str, list[str]] = {}
        if data.get("client_id") is None and not data.get("client_vat"):
            errors["client_id"] = ["Give the client's id (client_id) or VAT number (client_vat)."]
        has_line = bool(data.get("product_code"))
        has_payment = data.get("payment_date") is not None
        if not has_line and not has_payment:
            errors["product_code"] = [
                "A row has a line (product_code) or a payment (payment_date)."
            ]
        if has_line:
            for name in ("quantity", "unit_price"):
                if data.get(name) is None:
                    errors[name] = ["Missing data for a line."]
        if has_payment and data.get("payment_amount") is None:
            errors["payment_amount"] = ["Missing data for a payment."]
        if errors:
            raise ValidationError(errors)


class LineOutSchema(Schema):
    position = fields.Integer()
    product_id = fields.Integer()
    product_code = fields.Function(lambda line: line.product.code)
    quantity = fields.Decimal(as_string=True)
    unit_price = fields.Decimal(as_string=True)
    discount_percent = fields.Decimal(as_string=True)
    amount = fields.Decimal(as_string=True)


class PaymentOutSchema(Schema):
    date = fields.Date()
    amount = fields.Decimal(as_string=True)
    days = fields.Integer()


class DocumentSummarySchema(Schema):
    id = fields.Integer()
    number = fields.String()
    kind = fields.String()
    client_id = fields.Integer()
    date = fields.Date()
    due_date = fields.Date(allow_none=True)
    currency = fields.String()
    total = fields.Decimal(as_string=True)
    total_local = fields.Decimal(as_string=True)
    paid = fields.Decimal(as_string=True)


class DocumentOutSchema(DocumentSummarySchema):
    """The summary, with the rate, the lines and the payments."""

    rate = fields.Decimal(as_string=True)
    lines = fields.List(fields.Nested(LineOutSchema))
    payments = fields.List(fields.Nested(PaymentOutSchema))


class ProductOutSchema(Schema):
    id = fields.Integer()
    code = fields.String()
    name = fields.String()
    unit = fields.String()
    list_price = fields.Decimal(as_string=True)
    currency = fields.String()
    group_id = fields.Integer(allow_none=True)
    active = fields.Boolean()
