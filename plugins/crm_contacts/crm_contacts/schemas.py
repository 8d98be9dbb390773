"""One schema per resource: what comes in (forms, JSON, CSV rows) is validated and normalised here,
and what goes out of the JSON API is shaped here."""

from __future__ import annotations

from datetime import UTC
from typing import Any

from marshmallow import (
    EXCLUDE,
    ValidationError,
    fields,
    post_load,
    validate,
    validates,
    validates_schema,
)
from sqlalchemy import select

from core.db import db_session
from core.models import User
from core.schemas import Schema
from crm_contacts.models import (
    ADDRESS_KINDS,
    CLIENT_KINDS,
    CLIENT_STATUSES,
    CONTACT_STATES,
    EMAIL_KINDS,
    PHONE_KINDS,
    ContactType,
    CustomerGroup,
    Region,
)
from crm_contacts.validation import (
    normalise_bic,
    normalise_country,
    normalise_iban,
    normalise_phone,
    normalise_vat,
)


def text(max_length: int, *, required: bool = False) -> fields.String:
    """A text field: stripped, empty allowed unless required, at most ``max_length``."""
    rules = [validate.Length(max=max_length, error=f"At most {max_length} characters.")]
    if required:
        rules.insert(0, validate.Length(min=1, error="Required."))
        return fields.String(required=True, validate=rules)
    return fields.String(load_default="", validate=rules)


def one_of(choices: tuple[str, ...], default: str) -> fields.String:
    return fields.String(
        load_default=default, validate=validate.OneOf(choices, error="Must be one of: {choices}.")
    )


class UtcDateTime(fields.AwareDateTime):
    """An aware date and time that always goes out in UTC with its offset: SQLite hands stored
    times back naive, and an answer without an offset would be read as somebody's local time."""

    def _serialize(self, value: Any, attr: str | None, obj: Any, **kwargs: Any) -> Any:
        if value is not None:
            value = value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)
        return super()._serialize(value, attr, obj, **kwargs)


class TagNames(fields.List):
    """Tags in as names, out as sorted names (the model holds Tag rows)."""

    def _serialize(self, value: Any, attr: str | None, obj: Any, **kwargs: Any) -> Any:
        return sorted(getattr(tag, "name", tag) for tag in value or ())


class Base(Schema):
    class Meta:
        unknown = EXCLUDE  # forms post buttons and tokens; the API ignores what it does not know


class AddressSchema(Base):
    id = fields.Integer(dump_only=True)
    kind = one_of(ADDRESS_KINDS, "head_office")
    street = text(200)
    city = text(100)
    postal_code = text(20)
    country = fields.String(load_default="BG")

    @validates("country")
    def _country(self, value: str, **_: Any) -> None:
        normalise_country(value)

    @post_load
    def _normalise(self, data: dict[str, Any], **_: Any) -> dict[str, Any]:
        data["country"] = normalise_country(data["country"])
        return data


class PhoneSchema(Base):
    """``number`` is normalised by the schema that knows the client's country (see
    ``ClientSchema``); alone it must carry its country code or be read as Bulgarian."""

    id = fields.Integer(dump_only=True)
    kind = one_of(PHONE_KINDS, "work")
    number = fields.String(required=True, validate=validate.Length(min=1, error="Required."))


class EmailSchema(Base):
    id = fields.Integer(dump_only=True)
    kind = one_of(EMAIL_KINDS, "work")
    address = fields.Email(required=True, error_messages={"invalid": "Not a valid email address."})


class PersonSchema(Base):
    id = fields.Integer(dump_only=True)
    name = text(200, required=True)
    position = text(100)
    department = text(100)
    is_primary = fields.Boolean(load_default=False)
    notes = text(5000)
    phones = fields.List(fields.Nested(PhoneSchema), load_default=list)
    emails = fields.List(fields.Nested(EmailSchema), load_default=list)
    version = fields.Integer(dump_only=True)


class PersonUpdateSchema(PersonSchema):
    """A partial update (PATCH): any field of a person, and the version it was read at (here or
    in an ``If-Match`` header)."""

    version = fields.Integer(strict=False, load_default=None)


class BankAccountSchema(Base):
    id = fields.Integer(dump_only=True)
    iban = fields.String(required=True)
    bic = fields.String(load_default="")
    bank_name = text(100)
    is_default = fields.Boolean(load_default=False)

    @validates("iban")
    def _iban(self, value: str, **_: Any) -> None:
        normalise_iban(value)

    @validates("bic")
    def _bic(self, value: str, **_: Any) -> None:
        normalise_bic(value)

    @post_load
    def _normalise(self, data: dict[str, Any], **_: Any) -> dict[str, Any]:
        data["iban"] = normalise_iban(data["iban"])
        data["bic"] = normalise_bic(data["bic"])
        return data


_WEB_ADDRESS = validate.URL(error="Not a web address (https://…).")


def _phone_errors(phones: list[dict[str, Any]], country: str) -> dict[int, Any]:
    errors: dict[int, Any] = {}
    for index, phone in enumerate(phones or ()):
        try:
            normalise_phone(phone.get("number", ""), country)
        except ValidationError as exc:
            errors[index] = {"number": exc.messages}
    return errors


class ClientSchema(Base):
    """A client with everything it owns (addresses, phones, emails, persons, bank accounts)."""

    id = fields.Integer(dump_only=True)
    kind = one_of(CLIENT_KINDS, "company")
    name = text(200, required=True)
    legal_name = text(200)
    registration_number = text(50)
    vat_number = fields.String(load_default="")
    country = fields.String(load_default="BG")
    customer_group_id = fields.Integer(load_default=None, allow_none=True)
    region_id = fields.Integer(load_default=None, allow_none=True)
    responsible_id = fields.Integer(load_default=None, allow_none=True)
    status = one_of(CLIENT_STATUSES, "prospect")
    tags = TagNames(fields.String(validate=validate.Length(min=1, max=50)), load_default=list)
    website = fields.String(load_default="", validate=validate.Length(max=200))
    notes = text(10000)
    payment_term_days = fields.Integer(
        load_default=None,
        allow_none=True,
        validate=validate.Range(0, 365, error="Between 0 and 365 days."),
    )
    invoice_remarks = text(2000)
    goods_description = text(2000)
    document_language = text(5)
    addresses = fields.List(fields.Nested(AddressSchema), load_default=list)
    phones = fields.List(fields.Nested(PhoneSchema), load_default=list)
    emails = fields.List(fields.Nested(EmailSchema), load_default=list)
    persons = fields.List(fields.Nested(PersonSchema), load_default=list)
    bank_accounts = fields.List(fields.Nested(BankAccountSchema), load_default=list)
    created_at = UtcDateTime(dump_only=True)
    # What an edit must send back (optimistic locking, core.locking).
    version = fields.Integer(dump_only=True)

    @validates("country")
    def _country(self, value: str, **_: Any) -> None:
        normalise_country(value)

    @validates("website")
    def _website(self, value: str, **_: Any) -> None:
        if value:
            _WEB_ADDRESS(value)

    @validates("responsible_id")
    def _responsible(self, value: int | None, **_: Any) -> None:
        # A clear message instead of a foreign-key error from the database.
        if value is not None and db_session.get(User, value) is None:
            raise ValidationError("No such user.")

    @validates("customer_group_id")
    def _group(self, value: int | None, **_: Any) -> None:
        if value is not None and db_session.get(CustomerGroup, value) is None:
            raise ValidationError("No such customer group.")

    @validates("region_id")
    def _region(self, value: int | None, **_: Any) -> None:
        if value is not None and db_session.get(Region, value) is None:
            raise ValidationError("No such region.")

    # Also when other fields are wrong: every mistake of the form is named at once.
    @validates_schema(skip_on_field_errors=False)
    def _identifiers(self, data: dict[str, Any], **_: Any) -> None:
        """VAT and phone numbers depend on the client's country, so they are checked here. A
        partial update without a country is checked by its caller with the client's own country
        (nothing here may assume one)."""
        if "country" not in data:
            return
        try:
            country = normalise_country(data["country"])
        except ValidationError:
            return  # the country's own message says it
        errors: dict[str, Any] = {}
        if data.get("vat_number"):
            try:
                normalise_vat(data["vat_number"], country)
            except ValidationError as exc:
                errors["vat_number"] = exc.messages
        if phone_errors := _phone_errors(data.get("phones", []), country):
            errors["phones"] = phone_errors
        person_errors = {
            i: {"phones": e}
            for i, person in enumerate(data.get("persons") or ())
            if (e := _phone_errors(person.get("phones", []), country))
        }
        if person_errors:
            errors["persons"] = person_errors
        if errors:
            raise ValidationError(errors)

    @post_load
    def _normalise(self, data: dict[str, Any], **_: Any) -> dict[str, Any]:
        if "country" not in data:
            return data  # a partial update: see _identifiers
        country = data["country"] = normalise_country(data["country"])
        if "vat_number" in data:
            data["vat_number"] = normalise_vat(data["vat_number"], country)
        for phone in data.get("phones", []):
            phone["number"] = normalise_phone(phone["number"], country)
        for person in data.get("persons", []):
            for phone in person.get("phones", []):
                phone["number"] = normalise_phone(phone["number"], country)
        if "tags" in data:
            data["tags"] = sorted({t.strip() for t in data["tags"] if t.strip()})
        return data


class ClientSummarySchema(ClientSchema):
    """A client in a list: its own fields only, so that a page of clients is two queries."""

    class Meta:
        exclude = ("addresses", "phones", "emails", "persons", "bank_accounts", "tags")


class ClientUpdateSchema(ClientSchema):
    """A partial update (PATCH): any field of a client, plus the version it was read at."""

    version = fields.Integer(required=True, strict=True)


class ContactSchema(Base):
    """An entry of the contact history, done or scheduled."""

    id = fields.Integer(dump_only=True)
    client_id = fields.Integer(required=True)
    user_id = fields.Integer(dump_only=True)
    contact_type = fields.Function(
        serialize=lambda contact: contact.contact_type.code,
        deserialize=str,
        required=True,
        metadata={"description": "code of a contact type: visit, phone_call..."},
    )
    state = one_of(CONTACT_STATES, "done")
    starts_at = fields.AwareDateTime(
        required=True, default_timezone=None, error_messages={"invalid": "Not a date and time."}
    )
    duration_minutes = fields.Integer(
        load_default=30, validate=validate.Range(1, 24 * 60, error="Between 1 and 1440 minutes.")
    )
    subject = text(200)
    notes = text(10000)
    outcome = text(5000)
    follow_up_date = fields.Date(load_default=None, allow_none=True)
    person_ids = fields.List(fields.Integer(), load_default=list, load_only=True)
    version = fields.Integer(dump_only=True)

    @validates("contact_type")
    def _type(self, value: str, **_: Any) -> None:
        if db_session.scalar(select(ContactType.id).where(ContactType.code == value)) is None:
            raise ValidationError("No such contact type.")


class ContactPersonRefSchema(Base):
    """A contact person named in a contact: enough to show who took part."""

    id = fields.Integer(dump_only=True)
    name = fields.String(dump_only=True)


class ContactApiSchema(ContactSchema):
    """A contact as the JSON API and the history forms take and give it: ``starts_at`` out in
    UTC, with the client's name and the persons (id and name) who took part."""

    starts_at = UtcDateTime(
        required=True,
        default_timezone=None,
        error_messages={
            "invalid": "Not a date and time.",
            "invalid_awareness": "Give the time with its offset (2026-03-02T09:30:00+02:00 or Z).",
        },
        metadata={"description": "ISO 8601 with its offset; answers are in UTC"},
    )
    client_name = fields.Function(lambda contact: contact.client.name, dump_only=True)
    persons = fields.List(fields.Nested(ContactPersonRefSchema), dump_only=True)
    created_at = UtcDateTime(dump_only=True)


class ContactUpdateSchema(ContactApiSchema):
    """A partial update (PATCH) of a contact, with the version it was read at. Marking a
    scheduled contact done is ``{"state": "done", "notes": ..., "outcome": ..., "version": n}``."""

    version = fields.Integer(required=True, strict=True)
