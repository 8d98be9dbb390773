"""The JSON API of clients and their contact persons (``/api/v1/clients``, ``/api/v1/persons``).

A client is created with everything it owns in one request and one transaction; reading one is a
bounded number of queries whatever it holds (``selectinload``). Record rules apply as everywhere:
a contact person of a client the user may not see is not there for them either.
"""

from __future__ import annotations

from typing import Any

from flask import abort, jsonify, request, url_for
from flask_login import current_user
from marshmallow import ValidationError, fields, pre_load
from sqlalchemy import func, select
from sqlalchemy.orm import selectinload

from core.api import ApiError, api_doc, created, load_json, paginate, query_int
from core.db import db_session
from core.locking import check_version, touch
from core.permissions import permission_required
from crm_contacts.blueprints import api
from crm_contacts.loading import CLIENT_LISTS, share_person_lists
from crm_contacts.models import Client, Person, Tag
from crm_contacts.permissions import DELETE, READ, WRITE
from crm_contacts.schemas import (
    ClientSchema,
    ClientSummarySchema,
    ClientUpdateSchema,
    EmailSchema,
    PersonSchema,
    PersonUpdateSchema,
    PhoneSchema,
    UtcDateTime,
)
from crm_contacts.search import search_condition, search_order
from crm_contacts.validation import normalise_phone
from crm_contacts.views.clients import apply_client_data, new_person, replace_person_lists

_NESTED = ("addresses", "phones", "emails", "persons", "bank_accounts")
_PERSON_LISTS = (selectinload(Person.phones), selectinload(Person.emails))


class _ClientPatchSchema(ClientUpdateSchema):
    """A PATCH is checked against the client's own country when it does not change it: VAT and
    phone numbers are validated per country, and a missing country would read as the default."""

    def __init__(self, country: str, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.client_country = country

    @pre_load
    def _keep_country(self, data: Any, **_: Any) -> Any:
        if isinstance(data, dict) and "country" not in data:
            data = {**data, "country": self.client_country}
        return data


# Only the client's own fields may be missing from a PATCH: a nested list, when given, is a whole
# new list and every item is validated in full.
_PATCH_PARTIAL = tuple(name for name in ClientUpdateSchema().fields if name != "version")
_PERSON_PARTIAL = tuple(PersonSchema().fields)


class _ClientOut(ClientSchema):
    """A client as the API answers it: times in UTC with their offset (SQLite hands them back
    naive), tags by name, and only the client's own phones and emails at the top (its persons'
    are in the same tables, and show under the persons)."""

    created_at = UtcDateTime(dump_only=True)
    tags = fields.Function(lambda client: sorted(tag.name for tag in client.tags))
    phones = fields.Function(
        lambda client: PhoneSchema(many=True).dump([p for p in client.phones if not p.person_id])
    )
    emails = fields.Function(
        lambda client: EmailSchema(many=True).dump([e for e in client.emails if not e.person_id])
    )


class _ClientSummaryOut(ClientSummarySchema):
    created_at = UtcDateTime(dump_only=True)


def dump_client(client: Client) -> dict[str, Any]:
    return _ClientOut().dump(client)


def dump_person(person: Person) -> dict[str, Any]:
    return {**PersonSchema().dump(person), "client_id": person.client_id}


def _full_client(client_id: int) -> Client:
    client = db_session.scalar(select(Client).where(Client.id == client_id).options(*CLIENT_LISTS))
    if client is None:
        abort(404, "No such client.")
    return share_person_lists(client)


def _int_arg(name: str) -> int:
    value = query_int(name)
    if value is None:
        raise ApiError({name: ["Must be a whole number."]})
    return value


# --- clients -------------------------------------------------------------------------------------


@api.route("/clients")
@permission_required(READ)
@api_doc(
    "List clients. q searches name, VAT number, city, phone and contact persons; filters: "
    "status, customer_group_id, region_id, responsible_id, tag; "
    "sort: name, created_at, status (-desc)",
    response_schema=ClientSummarySchema,
    many=True,
    query=(
        "q",
        "status",
        "customer_group_id",
        "region_id",
        "responsible_id",
        "tag",
        "sort",
        "page",
        "per_page",
    ),  # fmt: skip
)
def api_client_list():
    stmt = select(Client)
    query = request.args.get("q", "").strip()
    first = search_order(query) if query else []
    if query:
        # The order the API's ?sort= asks for follows this key, which is the same for every row.
        stmt = stmt.where(search_condition(query)).order_by(*first)
    for name in ("customer_group_id", "region_id", "responsible_id"):
        if name in request.args:
            stmt = stmt.where(getattr(Client, name) == _int_arg(name))
    if tag := request.args.get("tag", "").strip():
        stmt = stmt.where(Client.tags.any(func.lower(Tag.name) == tag.lower()))
    return jsonify(
        paginate(
            stmt,
            _ClientSummaryOut(),
            model=Client,
            filterable=("status",),
            sortable=("name", "created_at", "status"),
            default_sort="name",
            # Sorted after the index found them, every match is read before the first row is
            # out: counted in that same read, not in a second pass (16,230 matches at 1,000,000).
            count_with_rows=bool(first),
        )
    )


@api.route("/clients", methods=["POST"])
@permission_required(WRITE)
@api_doc(
    "Create a client with its addresses, phones, emails, contact persons and bank accounts "
    "(one transaction); the responsible representative defaults to the caller",
    request_schema=ClientSchema,
    response_schema=ClientSchema,
)
def api_client_create():
    data = load_json(ClientSchema())
    # A client somebody creates is theirs until a manager says otherwise (and so stays visible
    # to a representative under the "own clients" record rule).
    if data.get("responsible_id") is None:
        data["responsible_id"] = current_user.id
    client = Client()
    apply_client_data(client, data)
    db_session.add(client)
    db_session.commit()
    return created(
        dump_client(client), url_for("crm_contacts_api.api_client_get", client_id=client.id)
    )


@api.route("/clients/<int:client_id>")
@permission_required(READ)
@api_doc("One client, with everything it owns", response_schema=ClientSchema)
def api_client_get(client_id: int):
    return jsonify(dump_client(_full_client(client_id)))


@api.route("/clients/<int:client_id>", methods=["PATCH"])
@permission_required(WRITE)
@api_doc(
    "Change some fields of a client. The body carries the version the client was read at; "
    "409 with the current values when someone changed it since. A list given (addresses, "
    "phones, emails, persons, bank_accounts) replaces the client's list",
    request_schema=ClientUpdateSchema,
    response_schema=ClientSchema,
)
def api_client_update(client_id: int):
    client = _full_client(client_id)
    data = load_json(_ClientPatchSchema(client.country), partial=_PATCH_PARTIAL)
    check_version(client, data.pop("version"))
    apply_client_data(client, data)
    db_session.commit()
    return jsonify(dump_client(client))


@api.route("/clients/<int:client_id>", methods=["DELETE"])
@permission_required(DELETE)
@api_doc("Delete a client, with its persons, addresses, phones, emails and contacts")
def api_client_delete(client_id: int):
    client = db_session.get(Client, client_id) or abort(404, "No such client.")
    db_session.delete(client)
    db_session.commit()
    return "", 204


# --- contact persons -----------------------------------------------------------------------------


def _normalise_phones(data: dict[str, Any], country: str) -> None:
    """A person's phones in E.164, read as numbers of the client's country when without ``+``."""
    errors: dict[int, Any] = {}
    for index, phone in enumerate(data.get("phones") or ()):
        try:
            phone["number"] = normalise_phone(phone["number"], country)
        except ValidationError as error:
            errors[index] = {"number": error.messages}
    if errors:
        raise ValidationError({"phones": errors})


def _person(person_id: int) -> Person:
    # Joined to its client so that the client's record rules decide whether the person is seen.
    person = db_session.scalar(
        select(Person)
        .join(Person.client)
        .where(Person.id == person_id)
        .options(*_PERSON_LISTS, selectinload(Person.client))
    )
    if person is None:
        abort(404, "No such contact person.")
    return person


@api.route("/clients/<int:client_id>/persons")
@permission_required(READ)
@api_doc(
    "The contact persons of a client, the primary one first",
    response_schema=PersonSchema,
    many=True,
    query=("page", "per_page"),
)
def api_person_list(client_id: int):
    client = db_session.get(Client, client_id) or abort(404, "No such client.")
    stmt = (
        select(Person)
        .where(Person.client_id == client.id)
        .options(*_PERSON_LISTS)
        .order_by(Person.is_primary.desc(), Person.name, Person.id)
    )
    return jsonify(paginate(stmt, PersonSchema()))


@api.route("/clients/<int:client_id>/persons", methods=["POST"])
@permission_required(WRITE)
@api_doc(
    "Add a contact person to a client", request_schema=PersonSchema, response_schema=PersonSchema
)
def api_person_create(client_id: int):
    client = db_session.get(Client, client_id) or abort(404, "No such client.")
    data = load_json(PersonSchema())
    _normalise_phones(data, client.country)
    person = new_person(client, data)
    db_session.commit()
    return created(
        dump_person(person), url_for("crm_contacts_api.api_person_get", person_id=person.id)
    )


@api.route("/persons/<int:person_id>")
@permission_required(READ)
@api_doc("One contact person", response_schema=PersonSchema)
def api_person_get(person_id: int):
    return jsonify(dump_person(_person(person_id)))


@api.route("/persons/<int:person_id>", methods=["PATCH"])
@permission_required(WRITE)
@api_doc(
    "Change some fields of a contact person; phones or emails given replace the person's. The "
    "body (or an If-Match header) carries the version the person was read at; 409 with the "
    "current values when someone changed it since",
    request_schema=PersonUpdateSchema,
    response_schema=PersonSchema,
)
def api_person_update(person_id: int):
    person = _person(person_id)
    data = load_json(PersonUpdateSchema(), partial=_PERSON_PARTIAL)
    check_version(person)
    data.pop("version", None)
    # The client file's forms are checked against the client's version.
    touch(person.client)
    _normalise_phones(data, person.client.country)
    for key, value in data.items():
        if key not in ("phones", "emails"):
            setattr(person, key, value)
    replace_person_lists(person, data)
    db_session.commit()
    return jsonify(dump_person(person))


@api.route("/persons/<int:person_id>", methods=["DELETE"])
@permission_required(WRITE)
@api_doc("Delete a contact person, with their phones and emails")
def api_person_delete(person_id: int):
    person = _person(person_id)
    replace_person_lists(person, {"phones": [], "emails": []})
    person.client.persons.remove(person)
    db_session.delete(person)
    db_session.commit()
    return "", 204
