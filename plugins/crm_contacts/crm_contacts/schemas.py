from __future__ import annotations

from marshmallow import Schema, ValidationError, fields, validate, validates

from core.db import db_session
from core.models import User
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
    # What an edit must send back (optimistic locking, core.locking).
    version = fields.Integer(dump_only=True)

    @validates("responsible_id")
    def _responsible_exists(self, value: int | None, **_kwargs) -> None:
        # A clear message instead of a foreign-key error from the database.
        if value is not None and db_session.get(User, value) is None:
            raise ValidationError("No such user.")


class ClientUpdateSchema(ClientSchema):
    """A partial update (PATCH): any field of a client, plus the version it was read at."""

    version = fields.Integer(required=True, strict=True)
