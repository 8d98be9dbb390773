from __future__ import annotations

from marshmallow import fields, validate

from core.schemas import Schema


class NoteSchema(Schema):
    id = fields.Integer(dump_only=True)
    title = fields.String(
        required=True, validate=validate.Length(min=1, max=200, error="Give a title (1 to 200).")
    )
    body = fields.String(load_default="", validate=validate.Length(max=2000))
    client_id = fields.Integer(allow_none=True, load_default=None)
    created_at = fields.DateTime(dump_only=True)


class VolumeDiscountSchema(Schema):
    """Parameters of the fixture's pricing rule kind."""

    min_quantity = fields.Integer(required=True, validate=validate.Range(min=1))
    percent = fields.Decimal(required=True, places=2, validate=validate.Range(min=0, max=100))
