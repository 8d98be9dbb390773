from __future__ import annotations

from marshmallow import Schema, fields, validate


class TaskSchema(Schema):
    id = fields.Integer(dump_only=True)
    title = fields.String(
        required=True,
        validate=validate.Length(min=1, max=200, error="Give a title (1 to 200 characters)."),
    )
    client_id = fields.Integer(load_default=None, allow_none=True)
    due_date = fields.Date(load_default=None, allow_none=True)
    done = fields.Boolean(load_default=False)
    created_at = fields.DateTime(dump_only=True)
