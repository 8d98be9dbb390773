"""The client file (everything about a client on one screen) and the small forms that edit what it
shows: addresses, phones, emails, contact persons and bank accounts, each reached from the file and
returning to it.

The client is the unit of locking: its addresses, phones... have no version of their own, so their
edit and delete forms carry the client's version, and every change to them moves that version on.
Two people changing the same client at once are told so, instead of the later save silently
undoing the earlier one.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

from flask import abort, flash, redirect, render_template, request, url_for
from flask_login import current_user
from marshmallow import Schema, ValidationError
from sqlalchemy import select
from sqlalchemy.orm import joinedload

from core.auth import has_permission
from core.db import db_session
from core.locking import check_version
from core.permissions import permission_required
from core.plugins import collect_parts
from core.record_rules import rules_per_row
from core.state import current_state
from crm_contacts.blueprints import bp
from crm_contacts.hookspecs import ClientFileSection
from crm_contacts.loading import CLIENT_LISTS, share_person_lists
from crm_contacts.models import (
    ADDRESS_KINDS,
    EMAIL_KINDS,
    PHONE_KINDS,
    Address,
    BankAccount,
    Client,
    Email,
    Person,
    Phone,
)
from crm_contacts.permissions import READ, WRITE
from crm_contacts.schemas import (
    AddressSchema,
    BankAccountSchema,
    EmailSchema,
    PersonSchema,
    PhoneSchema,
)
from crm_contacts.sections import client_history, label, persons_in_order, primary_person
from crm_contacts.validation import format_phone, normalise_phone

# Everything the file shows of the client itself: one query per collection, whatever its size.
FILE_OPTIONS = (
    *CLIENT_LISTS,
    joinedload(Client.customer_group),
    joinedload(Client.region),
    joinedload(Client.responsible),
)


def load_client(client_id: int) -> Client:
    """The client with everything its file shows, or 404 when it does not exist or a record rule
    hides it. A statement rather than ``session.get``, which would skip the record rules for a
    client already in the session."""
    client = db_session.scalars(
        select(Client).where(Client.id == client_id).options(*FILE_OPTIONS)
    ).one_or_none()
    if client is None:
        abort(404)
    return share_person_lists(client)


def file_sections(client: Client, user: Any) -> tuple[list[ClientFileSection], list[str]]:
    """The sections every installed module gives for the file, sorted, and the modules whose
    sections failed (logged and left out: one module's bug does not close the client file)."""
    return collect_parts(
        current_state().pm, "crm_client_file_sections", ClientFileSection, client=client, user=user
    )


@bp.route("/clients/<int:client_id>")
@permission_required(READ)
def client_file(client_id: int):
    # A few rows from each of many owned tables: each row's owner is looked up by its key, so a
    # representative's file costs what the client's rows cost, not what her 10,000 clients do.
    rules_per_row()
    client = load_client(client_id)
    sections, failed = file_sections(client, current_user._get_current_object())
    return render_template(
        "crm_contacts/client_file.html",
        client=client,
        sections=sections,
        failed=failed,
        primary=primary_person(client),
        history=client_history(client),
        can_write=has_permission(WRITE),
        label=label,
        format_phone=format_phone,
    )


# ---------------------------------------------------------------------------------------------
# The small forms
# ---------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Part:
    """One kind of record the client owns, as the forms handle it."""

    name: str  # the template (<name>_form.html) and the endpoints (<name>_new, ...)
    id_arg: str  # the record's id in the URLs of its edit and delete forms
    url: str  # the records' part of the URLs: /clients/<id>/<url>/new, /<url>/<id>/edit
    noun: str  # what a person calls one, in messages and titles
    model: type
    collection: str  # the client's attribute that holds them
    section: str  # the section of the file the forms return to
    fields: tuple[str, ...]  # what the form posts
    load: Callable[[dict[str, str], Client], dict[str, Any]]  # ValidationError per form field
    apply: Callable[[Any, dict[str, Any], Client], None]
    defaults: Callable[[Client], dict[str, Any]]
    values: Callable[[Any], dict[str, Any]]  # the form's values for an existing record
    describe: Callable[[Any], str]  # the record in the confirmation before deleting it


def _posted(names: Iterable[str]) -> dict[str, str]:
    """The form's fields, stripped. An unchecked box is not posted, so its schema default
    (false) applies."""
    return {name: request.form.get(name, "").strip() for name in names if name in request.form}


def _back(client: Client, part: Part, record: Any = None) -> str:
    """The file, at the section that shows the record: a contact person's phones and emails are
    shown with the person."""
    section = "crm_contacts.persons" if getattr(record, "person", None) else part.section
    return url_for("crm_contacts.client_file", client_id=client.id, _anchor=f"section-{section}")


def _changed(client: Client) -> None:
    """Move the client's version on: it is the version its children's forms are checked
    against (they have none of their own)."""
    client.version = client.version + 1


def _form(
    part: Part, client: Client, record: Any, values: dict[str, Any], errors: dict, status: int = 200
):
    return render_template(
        f"crm_contacts/{part.name}_form.html",
        part=part,
        client=client,
        record=record,
        values=values,
        errors=errors,
        back=_back(client, part, record),
        delete_url=url_for(f"crm_contacts.{part.name}_delete", **{part.id_arg: record.id})
        if record is not None
        else None,
        person_options=[
            (str(p.id), f"{p.name} — {p.position}" if p.position else p.name)
            for p in persons_in_order(client)
        ],
        address_kinds=[(k, label(k)) for k in ADDRESS_KINDS],
        phone_kinds=[(k, label(k)) for k in PHONE_KINDS],
        email_kinds=[(k, label(k)) for k in EMAIL_KINDS],
    ), status


def _child(part: Part, record_id: int) -> tuple[Client, Any]:
    """The record and its client, loaded through the client so that the client's record rules
    decide (a hidden client's phone is as hidden as the client)."""
    client_id = db_session.scalar(select(part.model.client_id).where(part.model.id == record_id))
    if client_id is None:
        abort(404)
    client = load_client(client_id)
    record = next((r for r in getattr(client, part.collection) if r.id == record_id), None)
    if record is None:
        abort(404)
    return client, record


def _save(part: Part, client: Client, record: Any):
    """Write what a new (``record`` None) or edit form posted, or show the form again with a
    message per field and nothing written."""
    raw = _posted(part.fields)
    try:
        data = part.load(raw, client)
    except ValidationError as error:
        values = raw if record is None else {**raw, "version": request.form.get("version", "")}
        return _form(part, client, record, values, error.messages_dict, 400)
    new = record is None
    if new:
        record = part.model()
    part.apply(record, data, client)
    if new:
        getattr(client, part.collection).append(record)
    _changed(client)
    db_session.commit()
    flash(f"{part.noun.capitalize()} {'added' if new else 'saved'}.", "success")
    return redirect(_back(client, part, record))


def _new(part: Part, client_id: int):
    client = load_client(client_id)
    if request.method == "GET":
        return _form(part, client, None, part.defaults(client), {})
    return _save(part, client, None)


def _edit(part: Part, record_id: int):
    client, record = _child(part, record_id)
    if request.method == "GET":
        return _form(part, client, record, {**part.values(record), "version": client.version}, {})
    # Before validating: input typed over a stale form is to be redone, not corrected.
    check_version(client, request.form.get("version"))
    return _save(part, client, record)


def _delete(part: Part, record_id: int):
    client, record = _child(part, record_id)
    back = _back(client, part, record)
    if request.method == "GET":
        return render_template(
            "crm_contacts/client_file_delete.html",
            part=part,
            client=client,
            what=part.describe(record),
            back=back,
        )
    check_version(client, request.form.get("version"))
    if isinstance(record, Person):
        _remove_person(record, client)
    else:
        _remove(record, client, part.collection)
    _changed(client)
    db_session.commit()
    flash(f"{part.noun.capitalize()} deleted.", "success")
    return redirect(back)


def _routes(part: Part) -> None:
    """The part's new, edit and delete forms, under the endpoints and URLs the file links to
    (``crm_contacts.<name>_new``, ...), each a form for people allowed to write."""

    def new(client_id: int):
        return _new(part, client_id)

    def edit(**ids: int):
        return _edit(part, ids[part.id_arg])

    def delete(**ids: int):
        return _delete(part, ids[part.id_arg])

    item = f"/{part.url}/<int:{part.id_arg}>"
    for rule, action, view in (
        (f"/clients/<int:client_id>/{part.url}/new", "new", new),
        (f"{item}/edit", "edit", edit),
        (f"{item}/delete", "delete", delete),
    ):
        view.__name__ = f"{part.name}_{action}"
        bp.add_url_rule(rule, view_func=permission_required(WRITE)(view), methods=["GET", "POST"])


def _remove(record: Any, client: Client, collection: str) -> None:
    """Delete a record, out of its owners' lists too: the client's search text is computed from
    those lists before the flush."""
    for owner in (client, getattr(record, "person", None)):
        if owner is not None and record in getattr(owner, collection):
            getattr(owner, collection).remove(record)
    db_session.delete(record)


def _person_of(client: Client, value: str | None) -> Person | None:
    """The contact person a phone or email belongs to: none (the company's), or one of this
    client's persons."""
    if not value:
        return None
    person = next((p for p in client.persons if str(p.id) == value), None)
    if person is None:
        raise ValidationError("Choose one of this client's contact persons.")
    return person


def _only(raw: dict[str, str], names: Iterable[str]) -> dict[str, str]:
    return {name: raw[name] for name in names if name in raw}


# Addresses ------------------------------------------------------------------------------------


def _load_address(raw: dict[str, str], client: Client) -> dict[str, Any]:
    return AddressSchema().load(raw)


def _apply_columns(record: Any, data: dict[str, Any], client: Client) -> None:
    for key, value in data.items():
        setattr(record, key, value)


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
    apply=_apply_columns,
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
_routes(ADDRESS)


# Phones and emails ----------------------------------------------------------------------------


def _load_reachable(
    schema: Schema, field: str, raw: dict[str, str], client: Client
) -> dict[str, Any]:
    """A phone (``field`` "number") or an email ("address") and the person it belongs to, with
    every field's errors reported at once."""
    errors: dict[str, Any] = {}
    data: dict[str, Any] = {}
    try:
        data = schema.load(_only(raw, ("kind", field)))
    except ValidationError as error:
        errors.update(error.messages_dict)
    if field == "number" and "number" not in errors:
        # Read as a number of the client's country unless it starts with its own country code.
        try:
            data["number"] = normalise_phone(data["number"], client.country)
        except ValidationError as error:
            errors["number"] = error.messages
    try:
        data["person"] = _person_of(client, raw.get("person_id"))
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
    _apply_columns(record, data, client)


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
_routes(PHONE)

EMAIL = _reachable(
    "email", "email address", "email address", Email, "address", EmailSchema, lambda e: e.address
)
_routes(EMAIL)


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
        **_only(raw, PERSON_FIELDS),
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
            _remove(first, client, attribute)
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
            _remove(record, client, attribute)
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
)
_routes(PERSON)


# Bank accounts --------------------------------------------------------------------------------


def _load_bank(raw: dict[str, str], client: Client) -> dict[str, Any]:
    return BankAccountSchema().load(raw)


def _apply_bank(account: BankAccount, data: dict[str, Any], client: Client) -> None:
    _apply_columns(account, data, client)
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
_routes(BANK)
