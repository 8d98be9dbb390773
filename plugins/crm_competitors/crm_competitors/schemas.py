"""One schema per resource: what comes in (forms and JSON alike) is validated here, and what goes
out of the JSON API is shaped here. Checks that need the database (the region exists, the client
is visible, the product group is in the catalogue) are in ``crm_competitors.service``, which forms
and API both call."""

from __future__ import annotations

from decimal import ROUND_HALF_UP
from typing import Any

from marshmallow import EXCLUDE, ValidationError, fields, validate, validates_schema

from core.schemas import Schema
from crm_competitors.models import KINDS, POSITIONS, STATUSES
from crm_contacts.schemas import UtcDateTime


def text(max_length: int, *, required: bool = False) -> fields.String:
    rules = [validate.Length(max=max_length, error=f"At most {max_length} characters.")]
    if required:
        rules.insert(0, validate.Length(min=1, error="Required."))
        return fields.String(required=True, validate=rules)
    return fields.String(load_default="", validate=rules)


def percent(minimum: int, maximum: int, error: str) -> fields.Decimal:
    return fields.Decimal(
        places=2,
        rounding=ROUND_HALF_UP,
        as_string=True,
        allow_none=True,
        load_default=None,
        validate=validate.Range(min=minimum, max=maximum, error=error),
        error_messages={"invalid": "A number, e.g. 12.5."},
    )


class Base(Schema):
    class Meta:
        unknown = EXCLUDE  # forms post buttons and tokens; the API ignores what it does not know


def _region_names(record: Any) -> list[str]:
    return [r.name for r in record.regions]


class CompetitorSchema(Base):
    id = fields.Integer(dump_only=True)
    name = text(200, required=True)
    website = fields.String(load_default="", validate=validate.Length(max=200))
    country = fields.String(
        load_default="",
        validate=validate.Regexp(
            r"^([A-Z]{2})?$", error="Two capital letters (ISO 3166), e.g. BG."
        ),
    )
    price_position = fields.String(
        load_default="",
        validate=validate.OneOf(
            ("", *POSITIONS), error="One of: cheaper, same, dearer (or empty)."
        ),
    )
    strengths = text(5000)
    weaknesses = text(5000)
    notes = text(10000)
    status = fields.String(
        load_default="active",
        validate=validate.OneOf(STATUSES, error="One of: active, left (left the market)."),
    )
    region_ids = fields.List(fields.Integer(strict=False), load_default=list)
    regions = fields.Function(_region_names, dump_only=True)
    groups = fields.List(fields.String(), load_default=list)
    created_at = UtcDateTime(dump_only=True)
    version = fields.Integer(dump_only=True)

    @validates_schema(skip_on_field_errors=False)
    def _website(self, data: dict[str, Any], **_: Any) -> None:
        if data.get("website"):
            try:
                validate.URL(error="Not a web address (https://…).")(data["website"])
            except ValidationError as error:
                raise ValidationError({"website": error.messages}) from None


class CompetitorUpdateSchema(CompetitorSchema):
    """A PATCH names the fields it changes, and the version it read."""

    version = fields.Integer(required=True, strict=False)


class PresenceSchema(Base):
    id = fields.Integer(dump_only=True)
    competitor_id = fields.Integer(required=True, strict=False)
    competitor_name = fields.Function(lambda p: p.competitor.name, dump_only=True)
    client_id = fields.Integer(required=True, strict=False)
    client_name = fields.Function(lambda p: p.client.name, dump_only=True)
    groups = fields.List(fields.String(), load_default=list)
    share_percent = percent(0, 100, "A share between 0 and 100 %.")
    since = fields.Date(allow_none=True, load_default=None)
    until = fields.Date(allow_none=True, load_default=None)
    source = text(200)
    notes = text(5000)
    recorded_by_id = fields.Integer(dump_only=True)
    created_at = UtcDateTime(dump_only=True)
    version = fields.Integer(dump_only=True)

    @validates_schema(skip_on_field_errors=False)
    def _period(self, data: dict[str, Any], **_: Any) -> None:
        since, until = data.get("since"), data.get("until")
        if since and until and until < since:
            raise ValidationError({"until": [f"Must not be before the start (since: {since})."]})


class PresenceUpdateSchema(PresenceSchema):
    version = fields.Integer(required=True, strict=False)


class ChangeSchema(Base):
    id = fields.Integer(dump_only=True)
    competitor_id = fields.Integer(dump_only=True)
    competitor_name = fields.Function(lambda c: c.competitor.name, dump_only=True)
    kind = fields.String(
        required=True,
        validate=validate.OneOf(KINDS, error="One of: " + ", ".join(KINDS) + "."),
    )
    occurred_on = fields.Date(required=True)
    quarter = fields.String(dump_only=True)
    percent = percent(-100, 1000, "A change between −100 and +1000 %.")
    region_ids = fields.List(fields.Integer(strict=False), load_default=list)
    regions = fields.Function(_region_names, dump_only=True)
    groups = fields.List(fields.String(), load_default=list)
    description = text(10000, required=True)
    source = text(200)
    headline = fields.String(dump_only=True)
    recorded_by_id = fields.Integer(dump_only=True)
    created_at = UtcDateTime(dump_only=True)

    @validates_schema(skip_on_field_errors=False)
    def _percent(self, data: dict[str, Any], **_: Any) -> None:
        if data.get("kind") == "price_change" and data.get("percent") is None:
            raise ValidationError(
                {"percent": ["Required for a price change: e.g. -10 for a 10 % cut."]}
            )


class AffectedSchema(Schema):
    """A client where the competitor of a change is present, in its regions and product groups."""

    presence_id = fields.Integer()
    client_id = fields.Integer()
    client_name = fields.String()
    region = fields.String()
    groups = fields.List(fields.String())
    share_percent = fields.Decimal(as_string=True)
    representative_id = fields.Integer()
    representative = fields.String()
