from __future__ import annotations

from marshmallow import Schema, fields, validate

from crm_contacts.models import CLIENT_STATUSES


class ClientSchema(Schema):
    id = fields.Integer(dump_only=True)
    name = fields.String(
        required=True,
        validate=validate.Length(min=1, max=200, error="Give a name (1 to 200 characters)."),
    )
    email = fields.Email(load_default="", validate=validate.Length(max=200))
    phone = fields.String(load_default="", validate=validate.Length(max=50))
    city = fields.String(load_default="", validate=validate.Length(max=100))
    status = fields.String(
        load_default="prospect",
        validate=validate.OneOf(CLIENT_STATUSES, error="Must be one of: {choices}."),
    )
    responsible_id = fields.Integer(load_default=None, allow_none=True)
    created_at = fields.DateTime(dump_only=True)
