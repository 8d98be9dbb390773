"""The create and edit forms, and deleting a client (the list is in ``client_list``).

Also the helpers that turn validated client data (``ClientSchema``) into rows, shared with the JSON
API (``api_clients``) so that a form and a POST create exactly the same client.
"""

from __future__ import annotations

from typing import Any

from flask import abort, flash, redirect, render_template, request, url_for
from flask_login import current_user
from marshmallow import ValidationError
from sqlalchemy import Select, func, or_, select

from core.choices import read_lists
from core.db import db_session
from core.locking import check_version
from core.models import User
from core.permissions import permission_required
from crm_contacts.blueprints import bp
from crm_contacts.models import (
    CLIENT_KINDS,
    CLIENT_STATUSES,
    Address,
    BankAccount,
    Client,
    Contact,
    CustomerGroup,
    Email,
    Person,
    Phone,
    Tag,
)
from crm_contacts.permissions import DELETE, WRITE
from crm_contacts.schemas import ClientSchema
from crm_contacts.views.regions import REGION_CHOICES

# The client's own fields, as the forms post them (children are edited on the client file).
OWN_FIELDS = (
    "kind",
    "name",
    "legal_name",
    "registration_number",
    "vat_number",
    "country",
    "customer_group_id",
    "region_id",
    "responsible_id",
    "status",
    "tags",
    "website",
    "notes",
    "payment_term_days",
    "invoice_remarks",
    "goods_description",
    "document_language",
)
_OPTIONAL_NUMBERS = ("customer_group_id", "region_id", "responsible_id", "payment_term_days")
# What the create form adds, so that one form gives a usable client: where, how to reach it, whom.
FIRST_FIELDS = ("address_street", "address_city", "phone", "email", "person_name", "person_phone")

LANGUAGES = (
    ("", "—"),
    ("bg", "Bulgarian"),
    ("en", "English"),
    ("de", "German"),
    ("ro", "Romanian"),
    ("el", "Greek"),
    ("tr", "Turkish"),
    ("sr", "Serbian"),
    ("mk", "Macedonian"),
    ("ru", "Russian"),
)


# --- validated data → rows (shared with the JSON API) --------------------------------------------


def tags_named(names: list[str]) -> list[Tag]:
    """The Tag rows of ``names``, created where missing; an existing tag is reused whatever the
    case it is typed in, so that "VIP" and "vip" do not become two tags."""
    if not names:
        return []
    lowered = {name.lower(): name for name in names}
    existing = {
        tag.name.lower(): tag
        for tag in db_session.scalars(select(Tag).where(func.lower(Tag.name).in_(list(lowered))))
    }
    tags = []
    for key, name in lowered.items():
        tag = existing.get(key)
        if tag is None:
            tag = Tag(name=name)
            db_session.add(tag)
        tags.append(tag)
    return tags


def _add_reachable(client: Client, person: Person, data: dict[str, Any]) -> None:
    """A person's phones and emails go in both lists, through the parents' side of each
    relationship: that is what adds them to the session when the client is already in it."""
    # Loading the client's list must not flush a phone that does not know its client yet.
    with db_session.no_autoflush:
        for phone in data.get("phones", ()):
            item = Phone(kind=phone["kind"], number=phone["number"])
            person.phones.append(item)
            client.phones.append(item)
        for email in data.get("emails", ()):
            item = Email(kind=email["kind"], address=email["address"])
            person.emails.append(item)
            client.emails.append(item)


def new_person(client: Client, data: dict[str, Any]) -> Person:
    """A contact person from ``PersonSchema`` data; its phones and emails are the client's too."""
    person = Person(**{k: v for k, v in data.items() if k not in ("phones", "emails", "id")})
    client.persons.append(person)
    _add_reachable(client, person, data)
    return person


def _of_person(item: Phone | Email) -> bool:
    return item.person_id is not None or item.person is not None


def _delete_child(item: Phone | Email, collection: str) -> None:
    """Delete a phone or email, out of both its client's and its person's lists. Taken out of
    one list only, the ORM would not count it as an orphan (it has another parent): it would
    stay, and a list read back after the commit would still show it."""
    for parent in (item.client, item.person):
        items = getattr(parent, collection) if parent is not None else ()
        if item in items:
            items.remove(item)
    db_session.delete(item)


def replace_phones(client: Client, phones: list[dict[str, Any]]) -> None:
    """The client's own phones become ``phones``; its contact persons' phones stay."""
    for phone in [p for p in client.phones if not _of_person(p)]:
        _delete_child(phone, "phones")
    client.phones.extend(Phone(kind=p["kind"], number=p["number"]) for p in phones)


def replace_emails(client: Client, emails: list[dict[str, Any]]) -> None:
    for email in [e for e in client.emails if not _of_person(e)]:
        _delete_child(email, "emails")
    client.emails.extend(Email(kind=e["kind"], address=e["address"]) for e in emails)


def replace_person_lists(person: Person, data: dict[str, Any]) -> None:
    """A contact person's phones and emails become those of ``data``, where it names them."""
    if "phones" in data:
        for phone in list(person.phones):
            _delete_child(phone, "phones")
    if "emails" in data:
        for email in list(person.emails):
            _delete_child(email, "emails")
    _add_reachable(person.client, person, data)


def replace_persons(client: Client, persons: list[dict[str, Any]]) -> None:
    for person in list(client.persons):
        replace_person_lists(person, {"phones": [], "emails": []})
        client.persons.remove(person)
        db_session.delete(person)
    for data in persons:
        new_person(client, data)


def apply_client_data(client: Client, data: dict[str, Any]) -> None:
    """Set what ``data`` (loaded by ``ClientSchema``) names; a nested list given replaces the
    client's existing one, a list not given leaves it alone."""
    for key, value in data.items():
        if key in ("tags", "addresses", "phones", "emails", "persons", "bank_accounts", "version"):
            continue
        setattr(client, key, value)
    if "tags" in data:
        client.tags = tags_named(data["tags"])
    if "addresses" in data:
        client.addresses = [Address(**a) for a in data["addresses"]]
    if "bank_accounts" in data:
        client.bank_accounts = [BankAccount(**b) for b in data["bank_accounts"]]
    if "phones" in data:
        replace_phones(client, data["phones"])
    if "emails" in data:
        replace_emails(client, data["emails"])
    if "persons" in data:
        replace_persons(client, data["persons"])


def still_visible(client_id: int) -> bool:
    """Whether the current user still sees the client (record rules), e.g. after handing it over."""
    return db_session.scalar(select(Client.id).where(Client.id == client_id)) is not None


# --- create and edit -----------------------------------------------------------------------------


# The select boxes' lists, ``(id, name)`` in their order, for ``core.choices.read_lists``.
GROUP_CHOICES = (select(CustomerGroup.id, CustomerGroup.name), (CustomerGroup.name,))


def user_choices(keep: int | None) -> tuple[Select, tuple]:
    """Who can be made responsible: the active users, and ``keep`` even if deactivated."""
    condition = User.active if keep is None else or_(User.active, User.id == keep)
    return select(User.id, User.name).where(condition), (User.name, User.id)


def _form_values(names: tuple[str, ...]) -> dict[str, str]:
    return {name: request.form.get(name, "").strip() for name in names}


def _schema_input(values: dict[str, str], creating: bool) -> dict[str, Any]:
    """The posted text shaped for ``ClientSchema``: empty optional numbers are none, tags are a
    comma-separated list, and on create the first address, phone, email and person are lists."""
    data: dict[str, Any] = {name: values[name] for name in OWN_FIELDS if name != "tags"}
    for name in _OPTIONAL_NUMBERS:
        data[name] = data[name] or None
    data["tags"] = [t.strip() for t in values["tags"].split(",") if t.strip()]
    for name in ("kind", "status", "country"):
        if not data[name]:
            del data[name]  # a choice left empty takes the schema's default
    if not creating:
        return data
    if values["address_street"] or values["address_city"]:
        data["addresses"] = [{"street": values["address_street"], "city": values["address_city"]}]
    if values["phone"]:
        data["phones"] = [{"number": values["phone"]}]
    if values["email"]:
        data["emails"] = [{"address": values["email"]}]
    if values["person_name"] or values["person_phone"]:
        person: dict[str, Any] = {"name": values["person_name"], "is_primary": True}
        if values["person_phone"]:
            person["phones"] = [{"number": values["person_phone"]}]
        data["persons"] = [person]
    return data


def _messages(value: Any) -> list[str]:
    """The messages of one field, however deeply marshmallow nested them."""
    if isinstance(value, dict):
        return [m for v in value.values() for m in _messages(v)]
    if isinstance(value, list | tuple):
        return [m for v in value for m in _messages(v)]
    return [str(value)]


def _first(errors: dict[str, Any], name: str) -> dict[str, Any]:
    """The errors of the first item of a nested list (the only one the create form posts)."""
    found = errors.get(name)
    if isinstance(found, dict):
        item = found.get(0)
        return item if isinstance(item, dict) else {"_": item} if item else {}
    return {"_": found} if found else {}


def _form_errors(errors: dict[str, Any]) -> dict[str, list[str]]:
    """Schema errors keyed by the form's field names, so each message shows under its field."""
    shown = {name: _messages(errors[name]) for name in (*OWN_FIELDS, "_schema") if name in errors}
    address = _first(errors, "addresses")
    if address:
        shown["address_street"] = _messages(address.pop("street", []))
        shown["address_city"] = _messages(address) if address else []
    phone, email, person = (
        _first(errors, "phones"),
        _first(errors, "emails"),
        _first(errors, "persons"),
    )
    if phone:
        shown["phone"] = _messages(phone)
    if email:
        shown["email"] = _messages(email)
    if person:
        person_phone = person.pop("phones", None)
        if person_phone:
            shown["person_phone"] = _messages(person_phone)
        if person:
            shown["person_name"] = _messages(person)
    return {name: messages for name, messages in shown.items() if messages}


def _render_form(client: Client | None, values: dict[str, Any], errors: dict, status: int = 200):
    languages = list(LANGUAGES)
    language = values.get("document_language", "")
    if language not in dict(languages):
        languages.append((language, language))
    return render_template(
        "crm_contacts/client_form.html",
        client=client,
        values=values,
        errors=errors,
        kinds=[(kind, kind.capitalize()) for kind in CLIENT_KINDS],
        statuses=[(status, status.capitalize()) for status in CLIENT_STATUSES],
        languages=languages,
        **read_lists(db_session, {"groups": GROUP_CHOICES, "regions": REGION_CHOICES}),
    ), status


def _after_save(client: Client, message: str):
    flash(message, "success")
    if not still_visible(client.id):
        flash("It is no longer among the clients you see: another representative has it.", "info")
        return redirect(url_for("crm_contacts.client_list"))
    return redirect(url_for("crm_contacts.client_file", client_id=client.id))


@bp.route("/clients/new", methods=["GET", "POST"])
@permission_required(WRITE)
def client_new():
    if request.method == "GET":
        defaults = {"kind": "company", "country": "BG", "status": "prospect"}
        return _render_form(None, {**defaults, "responsible_id": str(current_user.id)}, {})
    values = _form_values(OWN_FIELDS + FIRST_FIELDS)
    # The creator keeps the client in view under the "own clients" rule, as in the API.
    values["responsible_id"] = values["responsible_id"] or str(current_user.id)
    try:
        data = ClientSchema().load(_schema_input(values, creating=True))
    except ValidationError as error:
        return _render_form(None, values, _form_errors(error.messages_dict), 400)
    client = Client()
    apply_client_data(client, data)
    db_session.add(client)
    db_session.commit()
    return _after_save(client, f"Client “{client.name}” created.")


def _edit_values(client: Client) -> dict[str, str]:
    values = {name: getattr(client, name) for name in OWN_FIELDS if name != "tags"}
    values = {k: "" if v is None else str(v) for k, v in values.items()}
    values["tags"] = ", ".join(sorted(t.name for t in client.tags))
    values["version"] = str(client.version)
    return values


@bp.route("/clients/<int:client_id>/edit", methods=["GET", "POST"])
@permission_required(WRITE)
def client_edit(client_id: int):
    client = db_session.get(Client, client_id) or abort(404)
    if request.method == "GET":
        return _render_form(client, _edit_values(client), {})
    # Before validating: what was typed over a stale form is to be redone, not corrected.
    check_version(client, request.form.get("version"))
    values = {**_form_values(OWN_FIELDS), "version": request.form.get("version", "")}
    try:
        data = ClientSchema().load(_schema_input(values, creating=False))
    except ValidationError as error:
        return _render_form(client, values, _form_errors(error.messages_dict), 400)
    # Only the client's own fields: the form does not carry its addresses, phones or persons.
    apply_client_data(client, {k: v for k, v in data.items() if k in OWN_FIELDS})
    db_session.commit()
    return _after_save(client, f"Client “{client.name}” saved.")


# --- delete --------------------------------------------------------------------------------------


def _counts(client_id: int) -> list[tuple[int, str]]:
    """What goes with the client, counted in one query: (number, what) for what there is."""

    def count(model: type) -> Any:
        return (
            select(func.count())
            .select_from(model)
            .where(model.client_id == client_id)
            .scalar_subquery()
        )

    numbers = db_session.execute(
        select(
            count(Person), count(Address), count(Phone), count(Email), count(BankAccount),
            count(Contact),
        )
    ).one()  # fmt: skip
    names = (
        ("contact person", "contact persons"),
        ("address", "addresses"),
        ("phone number", "phone numbers"),
        ("email address", "email addresses"),
        ("bank account", "bank accounts"),
        ("contact in the history", "contacts in the history"),
    )
    return [
        (n, one if n == 1 else many) for n, (one, many) in zip(numbers, names, strict=True) if n
    ]


@bp.route("/clients/<int:client_id>/delete", methods=["GET", "POST"])
@permission_required(DELETE)
def client_delete(client_id: int):
    client = db_session.get(Client, client_id) or abort(404)
    if request.method == "GET":
        return render_template(
            "crm_contacts/client_delete.html", client=client, counts=_counts(client.id)
        )
    name = client.name
    db_session.delete(client)
    db_session.commit()
    flash(f"Client “{name}” deleted, with its contact persons and history.", "success")
    return redirect(url_for("crm_contacts.client_list"))
