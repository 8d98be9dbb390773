"""The kinds of record the client file's small forms edit (``client_forms``): addresses, phones
and emails (the company's or a contact person's), contact persons and bank accounts. Defining one
registers its forms' routes."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from flask import request
from marshmallow import Schema, ValidationError

from core.db import db_session
from crm_contacts.models import Address, BankAccount, Client, Email, Person, Phone
from crm_contacts.schemas import (
    AddressSchema,
    BankAccountSchema,
    EmailSchema,
    PersonSchema,
    PhoneSchema,
)
from crm_contacts.sections import label
from crm_contacts.validation import format_phone, normalise_phone
from crm_contacts.views.client_forms import (
    Part,
    apply_columns,
    only,
    person_of,
    remove_record,
    routes,
)

# Addresses ------------------------------------------------------------------------------------


def _load_address(raw: dict[str, str], client: Client) -> dict[str, Any]:
    return AddressSchema().load(raw)


ADDRESS = Part(
    name="address",
    url="addresses",
    id_arg="address_id",
    noun="address",
    model=Address,
    collection="addresses",
    section="crm_contacts.addresses",
    fields=("kind", "street", "city", "postal_code", "country"),
    load=_load_address,
    apply=apply_columns,
    defaults=lambda client: {
        "kind": "delivery" if client.addresses else "head_office",
        "country": client.country,
    },
    values=lambda a: {
        "kind": a.kind,
        "street": a.street,
        "city": a.city,
        "postal_code": a.postal_code,
        "country": a.country,
    },
    describe=lambda a: (
        f"the {label(a.kind).lower()} address "
        f"“{', '.join(x for x in (a.street, a.postal_code, a.city, a.country) if x)}”"
    ),
)
routes(ADDRESS)


# Phones and emails ----------------------------------------------------------------------------


def _load_reachable(
    schema: Schema, field: str, raw: dict[str, str], client: Client
) -> dict[str, Any]:
    """A phone (``field`` "number") or an email ("address") and the person it belongs to, with
    every field's errors reported at once."""
    errors: dict[str, Any] = {}
    data: dict[str, Any] = {}
    try:
        data = schema.load(only(raw, ("kind", field)))
    except ValidationError as error:
        errors.update(error.messages_dict)
    if field == "number" and "number" not in errors:
        # Read as a number of the client's country unless it starts with its own country code.
        try:
            data["number"] = normalise_phone(data["number"], client.country)
        except ValidationError as error:
            errors["number"] = error.messages
    try:
        data["person"] = person_of(client, raw.get("person_id"))
    except ValidationError as error:
        errors["person_id"] = error.messages
    if errors:
        raise ValidationError(errors)
    return data


def _apply_reachable(record: Phone | Email, data: dict[str, Any], client: Client) -> None:
    """A phone or an email: moving it to another person (or to the company) moves it out of the
    former person's list as well."""
    data = dict(data)
    person = data.pop("person")
    if record.person is not None and record.person is not person:
        collection = record.person.phones if isinstance(record, Phone) else record.person.emails
        if record in collection:
            collection.remove(record)
    record.person = person
    apply_columns(record, data, client)


def _owner(record: Phone | Email) -> str:
    return f" of {record.person.name}" if record.person is not None else ""


def _new_with_person(client: Client, **values: Any) -> dict[str, Any]:
    person = request.args.get("person_id", "")
    if not any(str(p.id) == person for p in client.persons):
        person = ""
    return {**values, "person_id": person}


def _reachable(
    name: str,
    noun: str,
    called: str,
    model: type,
    field: str,
    schema: type[Schema],
    shown: Callable[[Any], str],
) -> Part:
    """Phones and emails: the company's own or a contact person's, shown in the addresses."""
    return Part(
        name=name,
        url=f"{name}s",
        id_arg=f"{name}_id",
        noun=noun,
        model=model,
        collection=f"{name}s",
        section="crm_contacts.addresses",
        fields=("kind", field, "person_id"),
        load=lambda raw, client: _load_reachable(schema(), field, raw, client),
        apply=_apply_reachable,
        defaults=lambda client: _new_with_person(client, kind="work"),
        values=lambda r: {"kind": r.kind, field: shown(r), "person_id": str(r.person_id or "")},
        describe=lambda r: f"the {label(r.kind).lower()} {called} {shown(r)}{_owner(r)}",
    )


PHONE = _reachable(
    "phone", "phone number", "phone", Phone, "number", PhoneSchema, lambda p: format_phone(p.number)
)
routes(PHONE)

EMAIL = _reachable(
    "email", "email address", "email address", Email, "address", EmailSchema, lambda e: e.address
)
routes(EMAIL)


# Contact persons ------------------------------------------------------------------------------

PERSON_FIELDS = ("name", "position", "department", "is_primary", "notes")


def _person_errors(messages: dict[str, Any]) -> dict[str, Any]:
    """The schema's nested errors (``phones.0.number``) under the form's own field names."""
    errors = {k: v for k, v in messages.items() if k not in ("phones", "emails")}
    for key, field, name in (
        ("phones", "number", "phone"),
        ("phones", "kind", "phone_kind"),
        ("emails", "address", "email"),
    ):
        nested = messages.get(key)
        if isinstance(nested, dict) and field in nested.get(0, {}):
            errors[name] = nested[0][field]
    return errors


def _load_person(raw: dict[str, str], client: Client) -> dict[str, Any]:
    """The person's own fields and, on the same form, one phone and one email."""
    phone, email = raw.get("phone", ""), raw.get("email", "")
    payload: dict[str, Any] = {
        **only(raw, PERSON_FIELDS),
        "phones": [{"kind": raw.get("phone_kind") or "mobile", "number": phone}] if phone else [],
        "emails": [{"kind": "work", "address": email}] if email else [],
    }
    errors: dict[str, Any] = {}
    data: dict[str, Any] = {}
    number = ""
    try:
        data = PersonSchema().load(payload)
    except ValidationError as error:
        errors = _person_errors(error.messages_dict)
    if phone and "phone" not in errors:
        try:
            number = normalise_phone(phone, client.country)
        except ValidationError as error:
            errors["phone"] = error.messages
    if errors:
        raise ValidationError(errors)
    phones, emails = data.pop("phones"), data.pop("emails")
    data["phone"] = {**phones[0], "number": number} if phones else None
    data["email"] = emails[0] if emails else None
    return data


def _set_first(person: Person, client: Client, attribute: str, values: dict | None) -> None:
    """The person form edits the person's first phone (or email); an emptied field deletes it.
    Further ones are kept, edited through the phone and email forms."""
    records = sorted(getattr(person, attribute), key=lambda r: r.id or 0)
    first = records[0] if records else None
    if values is None:
        if first is not None:
            remove_record(first, client, attribute)
        return
    if first is None:
        model = Phone if attribute == "phones" else Email
        first = model(client=client, person=person)
    for key, value in values.items():
        setattr(first, key, value)


def _apply_person(person: Person, data: dict[str, Any], client: Client) -> None:
    for key in PERSON_FIELDS:
        setattr(person, key, data[key])
    _set_first(person, client, "phones", data["phone"])
    _set_first(person, client, "emails", data["email"])
    if person.is_primary:
        # One primary contact person per client: the one the header shows.
        for other in client.persons:
            if other is not person:
                other.is_primary = False


def _person_values(person: Person) -> dict[str, Any]:
    phones = sorted(person.phones, key=lambda r: r.id)
    emails = sorted(person.emails, key=lambda r: r.id)
    values: dict[str, Any] = {key: getattr(person, key) for key in PERSON_FIELDS}
    values.update(
        phone=format_phone(phones[0].number) if phones else "",
        phone_kind=phones[0].kind if phones else "mobile",
        email=emails[0].address if emails else "",
    )
    return values


def _remove_person(person: Person, client: Client) -> None:
    # Their phones and emails are the client's too: out of the client's lists with them.
    for attribute in ("phones", "emails"):
        for record in list(getattr(person, attribute)):
            remove_record(record, client, attribute)
    client.persons.remove(person)
    db_session.delete(person)


PERSON = Part(
    name="person",
    url="persons",
    id_arg="person_id",
    noun="contact person",
    model=Person,
    collection="persons",
    section="crm_contacts.persons",
    fields=(*PERSON_FIELDS, "phone", "phone_kind", "email"),
    load=_load_person,
    apply=_apply_person,
    defaults=lambda client: {"is_primary": not client.persons, "phone_kind": "mobile"},
    values=_person_values,
    describe=lambda p: f"the contact person {p.name} with their phones and emails",
    remove=_remove_person,
)
routes(PERSON)


# Bank accounts --------------------------------------------------------------------------------


def _load_bank(raw: dict[str, str], client: Client) -> dict[str, Any]:
    return BankAccountSchema().load(raw)


def _apply_bank(account: BankAccount, data: dict[str, Any], client: Client) -> None:
    apply_columns(account, data, client)
    if account.is_default:
        # One default account: the one documents print.
        for other in client.bank_accounts:
            if other is not account:
                other.is_default = False


BANK = Part(
    name="bank",
    url="bank-accounts",
    id_arg="account_id",
    noun="bank account",
    model=BankAccount,
    collection="bank_accounts",
    section="crm_contacts.bank_accounts",
    fields=("iban", "bic", "bank_name", "is_default"),
    load=_load_bank,
    apply=_apply_bank,
    defaults=lambda client: {"is_default": not client.bank_accounts},
    values=lambda b: {
        "iban": b.iban,
        "bic": b.bic,
        "bank_name": b.bank_name,
        "is_default": b.is_default,
    },
    describe=lambda b: f"the bank account {b.iban}" + (f" at {b.bank_name}" if b.bank_name else ""),
)
routes(BANK)
