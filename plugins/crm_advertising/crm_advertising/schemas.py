"""One schema per resource: materials, movements and hand-outs, for forms and the JSON API alike.
Checks that need the database (the material exists, the location may be used, there is enough
stock) are in ``crm_advertising.service``, which forms and API both call."""

from __future__ import annotations

from decimal import ROUND_HALF_UP

from marshmallow import EXCLUDE, ValidationError, fields, validate, validates_schema

from core.schemas import Schema
from crm_advertising.models import MOVEMENT_KINDS, OCCASIONS, WRITEOFF_REASONS
from crm_contacts.schemas import UtcDateTime

MAX_QUANTITY = 1_000_000  # far above any real hand-out; keeps sums far from integer overflow


def text(max_length: int, *, required: bool = False) -> fields.String:
    rules = [validate.Length(max=max_length, error=f"At most {max_length} characters.")]
    if required:
        rules.insert(0, validate.Length(min=1, error="Required."))
        return fields.String(required=True, validate=rules)
    return fields.String(load_default="", validate=rules)


def quantity(*, required: bool = True) -> fields.Integer:
    return fields.Integer(
        required=required,
        strict=False,
        validate=validate.Range(
            min=1, max=MAX_QUANTITY, error=f"Must be a whole number from 1 to {MAX_QUANTITY:,}."
        ),
    )


def ref(*, required: bool = False) -> fields.Integer:
    """An id of another record: a positive whole number; whether it exists is the service's."""
    options = {"required": True} if required else {"load_default": None, "allow_none": True}
    return fields.Integer(strict=False, validate=validate.Range(min=1, max=2**63 - 1), **options)


def money() -> fields.Decimal:
    return fields.Decimal(
        places=2,
        rounding=ROUND_HALF_UP,
        as_string=True,
        allow_nan=False,
        validate=validate.Range(
            min=0, max=10**9, error="Must be an amount from 0 to 1,000,000,000."
        ),
    )


class Base(Schema):
    class Meta:
        unknown = EXCLUDE  # forms post buttons and tokens; the API ignores what it does not know


class MaterialSchema(Base):
    id = fields.Integer(dump_only=True)
    code = text(50, required=True)
    name = text(200, required=True)
    kind_id = ref()
    kind = fields.Function(lambda m: m.kind.name if m.kind else None, dump_only=True)
    unit = fields.String(
        load_default="pcs", validate=validate.Length(min=1, max=20, error="1 to 20 characters.")
    )
    unit_cost = money()
    returnable = fields.Boolean(load_default=False)
    active = fields.Boolean(load_default=True)
    reorder_level = fields.Integer(
        load_default=0,
        strict=False,
        validate=validate.Range(min=0, max=MAX_QUANTITY, error="Must not be negative."),
    )
    notes = text(5000)
    version = fields.Integer(dump_only=True)
    stock = fields.Integer(dump_only=True)


class MaterialUpdateSchema(MaterialSchema):
    version = fields.Integer(required=True, strict=False)


class MovementSchema(Base):
    """A receipt, transfer, return or write-off (a hand-out has its own schema, with lines)."""

    id = fields.Integer(dump_only=True)
    kind = fields.String(
        required=True,
        validate=validate.OneOf(
            tuple(MOVEMENT_KINDS), error="Must be one of: " + ", ".join(MOVEMENT_KINDS) + "."
        ),
    )
    day = fields.Date(required=True)
    material_id = ref(required=True)
    quantity = quantity()
    unit_cost = fields.Decimal(
        places=2,
        as_string=True,
        allow_nan=False,
        load_default=None,
        allow_none=True,
        validate=validate.Range(
            min=0, max=10**9, error="Must be an amount from 0 to 1,000,000,000."
        ),
    )
    from_location_id = ref()
    to_location_id = ref()
    client_id = ref()
    person_id = ref()
    occasion = fields.String(
        load_default=None,
        allow_none=True,
        validate=validate.OneOf(tuple(OCCASIONS), error="Must be one of: " + ", ".join(OCCASIONS)),
    )
    campaign = text(200)
    reason = fields.String(
        load_default=None,
        allow_none=True,
        validate=validate.OneOf(
            tuple(WRITEOFF_REASONS), error="Must be one of: " + ", ".join(WRITEOFF_REASONS)
        ),
    )
    note = text(2000)
    client_delta = fields.Integer(dump_only=True)
    client_cost = fields.Decimal(places=2, as_string=True, dump_only=True)
    reverses_id = fields.Integer(dump_only=True)
    created_by_id = fields.Integer(dump_only=True)
    created_at = UtcDateTime(dump_only=True)
    material = fields.Function(lambda m: m.material.name, dump_only=True)
    client = fields.Function(lambda m: m.client.name if m.client else None, dump_only=True)

    @validates_schema
    def _kind_needs(self, data, **_kwargs):
        kind = data.get("kind")
        needs = {
            "receipt": ("to_location_id",),
            "transfer": ("from_location_id", "to_location_id"),
            "handout": ("from_location_id", "client_id"),
            "return": ("to_location_id", "client_id"),
            "writeoff": ("from_location_id", "reason"),
        }.get(kind, ())
        missing = {
            name: ["Required for this kind of movement."]
            for name in needs
            if data.get(name) is None
        }
        if missing:
            raise ValidationError(missing)


class HandOutLineSchema(Base):
    material_id = ref(required=True)
    quantity = quantity()


class HandOutSchema(Base):
    """Several materials handed to one client at once, from one location."""

    client_id = ref(required=True)
    from_location_id = ref(required=True)
    person_id = ref()
    day = fields.Date(required=True)
    occasion = fields.String(
        load_default="visit",
        validate=validate.OneOf(tuple(OCCASIONS), error="Must be one of: " + ", ".join(OCCASIONS)),
    )
    campaign = text(200)
    note = text(2000)
    lines = fields.List(
        fields.Nested(HandOutLineSchema),
        required=True,
        validate=validate.Length(min=1, max=50, error="Give 1 to 50 lines."),
    )
