"""JSON API of the contact history and of My agenda: /api/v1/contacts, /api/v1/agenda."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from typing import Any

from flask import abort, jsonify, request, url_for
from flask_login import current_user
from marshmallow import ValidationError
from sqlalchemy.orm import selectinload

from core.api import ApiError, api_doc, created, json_body, paginate, query_date, query_int
from core.db import db_session
from core.inputs import whole_number
from core.locking import check_version
from core.permissions import permission_required
from core.timezone import local_today
from crm_contacts import agenda
from crm_contacts.blueprints import api
from crm_contacts.models import CONTACT_STATES, Client, Contact
from crm_contacts.permissions import DELETE, READ, WRITE
from crm_contacts.schemas import ContactApiSchema, ContactUpdateSchema

MAX_AGENDA_DAYS = 366
# A "+" left unencoded in a query string arrives as a space: "09:30:00 02:00" meant "+02:00".
_SPACED_OFFSET = re.compile(r" (\d{2}:?\d{2})$")


def _moment_arg(name: str, *, end: bool) -> datetime | None:
    """A bound of a time range: a date (a whole day, ``to`` included) or a date and time with its
    offset."""
    raw = request.args.get(name, "")
    if raw == "":
        return None
    if len(raw) == 10:
        day = query_date(name)
        if day is None:
            return None
        return agenda.day_start(day + timedelta(days=1) if end else day)
    try:
        moment = datetime.fromisoformat(_SPACED_OFFSET.sub(r"+\1", raw))
    except ValueError:
        raise ApiError({name: ["Not a date or an ISO 8601 date and time."]}) from None
    if moment.tzinfo is None:
        raise ApiError({name: ["Give the time with its offset (…+02:00 or Z)."]})
    return moment.astimezone(UTC)


def _client_of(payload: dict[str, Any]) -> Client | None:
    """The client a new contact names, if this user may see it."""
    raw = payload.get("client_id")
    if isinstance(raw, bool) or not isinstance(raw, int | str):
        return None
    try:
        return db_session.get(Client, whole_number(raw))
    except ValueError:
        return None


def _contact_or_404(contact_id: int) -> Contact:
    return agenda.get_visible(db_session, contact_id) or abort(404)


def _dump(contact: Contact) -> dict:
    return ContactApiSchema().dump(contact)


@api.route("/contacts")
@permission_required(READ)
@api_doc(
    "List contacts of the clients you may see, newest first",
    response_schema=ContactApiSchema,
    many=True,
    query=("client_id", "user_id", "state", "from", "to", "page", "per_page", "sort"),
)
def api_contact_list():
    stmt = agenda.visible_contacts().options(selectinload(Contact.persons))
    for name, column in (("client_id", Contact.client_id), ("user_id", Contact.user_id)):
        value = query_int(name)
        if value is not None:
            stmt = stmt.where(column == value)
    state = request.args.get("state", "")
    if state:
        if state not in CONTACT_STATES:
            raise ApiError({"state": [f"Must be one of: {', '.join(CONTACT_STATES)}."]})
        stmt = stmt.where(Contact.state == state)
    start, end = _moment_arg("from", end=False), _moment_arg("to", end=True)
    if start is not None:
        stmt = stmt.where(Contact.starts_at >= start)
    if end is not None:
        stmt = stmt.where(Contact.starts_at < end)
    return jsonify(
        paginate(
            stmt,
            ContactApiSchema(),
            model=Contact,
            sortable=("starts_at", "created_at", "id"),
            default_sort="-starts_at",
        )
    )


@api.route("/contacts", methods=["POST"])
@permission_required(WRITE)
@api_doc(
    "Log a contact (state done) or schedule one (state scheduled); you are its user",
    request_schema=ContactApiSchema,
    response_schema=ContactApiSchema,
)
def api_contact_create():
    payload, schema = json_body(), ContactApiSchema()
    client = _client_of(payload)
    if client is None:
        # A hidden client answers like a missing one: its existence is not for this user to learn.
        try:
            schema.load(payload)
            errors = {}
        except ValidationError as error:
            errors = dict(error.messages) if isinstance(error.messages, dict) else {}
        errors.setdefault("client_id", ["No such client."])
        raise ValidationError(errors)
    contact = Contact(user_id=current_user.id)
    values = agenda.load_contact(
        db_session, schema, payload, contact=contact, client=client, new=True
    )
    agenda.apply(contact, client, values)
    db_session.add(contact)
    db_session.commit()
    return created(
        _dump(contact), url_for("crm_contacts_api.api_contact_get", contact_id=contact.id)
    )


@api.route("/contacts/<int:contact_id>")
@permission_required(READ)
@api_doc("Read a contact", response_schema=ContactApiSchema)
def api_contact_get(contact_id: int):
    return jsonify(_dump(_contact_or_404(contact_id)))


@api.route("/contacts/<int:contact_id>", methods=["PATCH"])
@permission_required(WRITE)
@api_doc(
    "Change a contact; send the version you read. Mark a scheduled contact done with "
    '{"state": "done", "notes": ..., "outcome": ..., "version": n}, or call it off with '
    '"state": "cancelled"',
    request_schema=ContactUpdateSchema,
    response_schema=ContactApiSchema,
)
def api_contact_update(contact_id: int):
    contact = _contact_or_404(contact_id)
    payload, schema = json_body(), ContactUpdateSchema()
    values = agenda.load_contact(
        db_session,
        schema,
        payload,
        contact=contact,
        client=contact.client,
        new=False,
        # Everything is optional but the version: a PATCH must prove it saw the current values.
        partial=tuple(name for name in schema.fields if name != "version"),
    )
    check_version(contact, payload["version"])
    agenda.apply(contact, contact.client, values)
    db_session.commit()
    return jsonify(_dump(contact))


@api.route("/contacts/<int:contact_id>", methods=["DELETE"])
@permission_required(DELETE)
@api_doc("Delete a contact from the history (to call a plan off, PATCH its state instead)")
def api_contact_delete(contact_id: int):
    contact = _contact_or_404(contact_id)
    db_session.delete(contact)
    db_session.commit()
    return "", 204


@api.route("/agenda")
@permission_required(READ)
@api_doc(
    "Your scheduled contacts from ?from to ?to (dates, both included; default: this week, "
    "Monday to Sunday; without ?to, the seven days from ?from), in time order",
    response_schema=ContactApiSchema,
    many=True,
    query=("from", "to"),
)
def api_agenda():
    monday, sunday = agenda.week_of(local_today())
    first = query_date("from") or monday
    last = query_date("to") or (sunday if first == monday else first + timedelta(days=6))
    if last < first:
        raise ApiError({"to": ["Must not be before from."]})
    if (last - first).days >= MAX_AGENDA_DAYS:
        raise ApiError({"to": [f"At most {MAX_AGENDA_DAYS} days after from."]})
    start, end = agenda.agenda_range(first, last)
    contacts = agenda.scheduled_between(db_session, current_user.id, start, end)
    return jsonify(
        {
            "from": first.isoformat(),
            "to": last.isoformat(),
            "items": ContactApiSchema().dump(contacts, many=True),
        }
    )
