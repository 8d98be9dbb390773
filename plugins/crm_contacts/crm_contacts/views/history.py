"""The history of contacts with a client: log, schedule, mark done, edit, cancel, the full list.
(My agenda and its calendar feed: ``views.agenda``.)"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from datetime import datetime, timedelta
from typing import Any

from flask import (
    abort,
    flash,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_login import current_user
from marshmallow import ValidationError
from sqlalchemy import func, select
from sqlalchemy.orm import joinedload, selectinload

from core.audit import history_for
from core.db import db_session
from core.locking import check_version
from core.permissions import permission_required
from core.timezone import local_today, zone_name
from crm_contacts import agenda
from crm_contacts.blueprints import bp
from crm_contacts.models import CONTACT_STATES, Client, Contact, Person
from crm_contacts.permissions import READ, WRITE
from crm_contacts.schemas import ContactApiSchema

PER_PAGE = 25
STATE_LABELS = {"scheduled": "Scheduled", "done": "Done", "cancelled": "Cancelled"}
# What each form posts; the done form records only what the meeting brought.
LOG_FIELDS = (
    "contact_type",
    "starts_at",
    "duration_minutes",
    "person_ids",
    "subject",
    "notes",
    "outcome",
    "follow_up_date",
)
DONE_FIELDS = ("starts_at", "duration_minutes", "notes", "outcome", "follow_up_date")


@bp.app_template_filter("crm_contacts_time")
def local_time(moment: datetime | None, fmt: str = "%Y-%m-%d %H:%M") -> str:
    """A stored time as the user reads it (in the installation's time zone, ``core.timezone``)."""
    return agenda.to_local(moment).strftime(fmt) if moment is not None else ""


# --- helpers --------------------------------------------------------------------------------


def _client_or_404(client_id: int) -> Client:
    # Through the request session: a client hidden by a record rule is as absent as a missing one.
    return db_session.get(Client, client_id) or abort(404)


def _contact_or_404(contact_id: int) -> Contact:
    return agenda.get_visible(db_session, contact_id) or abort(404)


def _persons(client: Client) -> list[Person]:
    return list(
        db_session.scalars(
            select(Person)
            .where(Person.client_id == client.id)
            .order_by(Person.is_primary.desc(), Person.name, Person.id)
        )
    )


def _walk(messages: Any) -> Iterator[str]:
    if isinstance(messages, dict):
        for value in messages.values():
            yield from _walk(value)
    elif isinstance(messages, list | tuple):
        for value in messages:
            yield from _walk(value)
    else:
        yield str(messages)


def _flat(errors: dict[str, Any]) -> dict[str, list[str]]:
    """marshmallow's messages per form field (a list field's are keyed by index: one line)."""
    return {name: list(_walk(messages)) for name, messages in errors.items()}


def _posted(names: Iterable[str]) -> dict[str, Any]:
    """The posted fields as the schema reads them. Times are typed in the user's zone and sent
    on with their offset; what cannot be read is passed as typed, for the schema to name."""
    data: dict[str, Any] = {}
    for name in names:
        if name == "person_ids":
            data[name] = request.form.getlist(name)
            continue
        value = request.form.get(name, "").strip()
        if name == "starts_at":
            if value:
                moment = agenda.parse_local(value)
                data[name] = moment.isoformat() if moment is not None else value
        elif name == "follow_up_date":
            data[name] = value or None
        else:
            data[name] = value
    return data


def _values_of(contact: Contact) -> dict[str, Any]:
    return {
        "contact_type": contact.contact_type.code,
        "starts_at": agenda.form_value(contact.starts_at),
        "duration_minutes": contact.duration_minutes,
        "person_ids": [str(p.id) for p in contact.persons],
        "subject": contact.subject,
        "notes": contact.notes,
        "outcome": contact.outcome,
        "follow_up_date": contact.follow_up_date.isoformat() if contact.follow_up_date else "",
        "version": contact.version,
    }


def _form_values() -> dict[str, Any]:
    values: dict[str, Any] = dict(request.form.items())
    values["person_ids"] = request.form.getlist("person_ids")
    return values


def _after_save(contact: Contact):
    """Back to the client file, or on to planning the next contact when asked."""
    if request.form.get("then") == "schedule":
        return redirect(
            url_for(
                "crm_contacts.contact_new",
                client_id=contact.client_id,
                state="scheduled",
                type=contact.contact_type.code,
            )
        )
    return redirect(url_for("crm_contacts.client_file", client_id=contact.client_id))


def _render_form(mode: str, client: Client, contact: Contact | None, values, errors, status=200):
    return render_template(
        "crm_contacts/contact_form.html",
        mode=mode,
        client=client,
        contact=contact,
        values=values,
        errors=errors,
        types=agenda.contact_types(db_session),
        persons=_persons(client) if mode != "done" else [],
        zone=zone_name(),
        # Who changed what since it was logged: the audit trail of the contact being edited.
        history=history_for(db_session, Contact.__tablename__, contact.id)
        if mode == "edit" and contact is not None
        else None,
    ), status


def _save(
    mode: str,
    client: Client,
    contact: Contact,
    data: dict,
    message: str,
    *,
    new: bool = False,
    partial: bool | tuple[str, ...] = False,
) -> Any:
    """Validate what the form posted and write it, or show the form again with a message per
    field (and nothing written)."""
    try:
        values = agenda.load_contact(
            db_session,
            ContactApiSchema(),
            data,
            contact=contact,
            client=client,
            new=new,
            partial=partial,
        )
    except ValidationError as error:
        db_session.rollback()
        record = None if new else contact
        return _render_form(mode, client, record, _form_values(), _flat(error.messages), 400)
    agenda.apply(contact, client, values)
    if new:
        db_session.add(contact)
    db_session.commit()
    flash(message, "success")
    return _after_save(contact)


def _not_scheduled(contact: Contact) -> Any:
    """Back to the file when the contact has already taken place or been called off: marking it
    done or cancelling it is for scheduled contacts. None when it is still scheduled."""
    if request.method == "POST":
        check_version(contact, request.form.get("version"))
    if contact.state == agenda.SCHEDULED:
        return None
    flash(f"This contact is already {contact.state}.", "warning")
    return redirect(url_for("crm_contacts.client_file", client_id=contact.client_id))


# --- log, schedule, edit, mark done, cancel ---------------------------------------------------


@bp.route("/clients/<int:client_id>/contacts/new", methods=["GET", "POST"])
@permission_required(WRITE)
def contact_new(client_id: int):
    """Log a contact that took place, or with ``?state=scheduled`` plan one ahead."""
    client = _client_or_404(client_id)
    scheduled = request.args.get("state") == agenda.SCHEDULED
    mode = "schedule" if scheduled else "new"
    if request.method == "GET":
        types = agenda.contact_types(db_session)
        wanted = request.args.get("type")
        code = wanted if any(t.code == wanted for t in types) else (types[0].code if types else "")
        if scheduled:
            # A plan is most often for a coming working day: tomorrow morning is one edit away.
            tomorrow = local_today() + timedelta(days=1)
            start = agenda.day_start(tomorrow) + timedelta(hours=9)
        else:
            start = agenda.now()
        values = {
            "contact_type": code,
            "starts_at": agenda.form_value(start),
            "duration_minutes": 30,
            "person_ids": [],
        }
        return _render_form(mode, client, None, values, {})

    data = _posted(LOG_FIELDS)
    data["client_id"] = client.id
    data["state"] = agenda.SCHEDULED if scheduled else agenda.DONE
    if scheduled:
        data.pop("outcome", None)  # nothing came out of a meeting that has not happened
    message = "Contact scheduled." if scheduled else "Contact logged."
    return _save(mode, client, Contact(user_id=current_user.id), data, message, new=True)


@bp.route("/contacts/<int:contact_id>/edit", methods=["GET", "POST"])
@permission_required(WRITE)
def contact_edit(contact_id: int):
    contact = _contact_or_404(contact_id)
    client = contact.client
    if request.method == "GET":
        return _render_form("edit", client, contact, _values_of(contact), {})
    check_version(contact, request.form.get("version"))
    data = _posted(LOG_FIELDS)
    data["client_id"] = client.id
    if contact.state == agenda.SCHEDULED:
        data.pop("outcome", None)
    # The state changes through its own actions (done, cancel), never through this form.
    return _save("edit", client, contact, data, "Contact saved.", partial=("state", "outcome"))


@bp.route("/contacts/<int:contact_id>/done", methods=["GET", "POST"])
@permission_required(WRITE)
def contact_done(contact_id: int):
    """A scheduled contact took place: its actual time and duration, notes and outcome."""
    contact = _contact_or_404(contact_id)
    client = contact.client
    refused = _not_scheduled(contact)
    if refused is not None:
        return refused
    if request.method == "GET":
        return _render_form("done", client, contact, _values_of(contact), {})
    data = _posted(DONE_FIELDS)
    data["state"] = agenda.DONE
    return _save("done", client, contact, data, "Contact marked done.", partial=True)


@bp.route("/contacts/<int:contact_id>/cancel", methods=["GET", "POST"])
@permission_required(WRITE)
def contact_cancel(contact_id: int):
    """Call off a scheduled contact, after a confirmation; it stays in the history."""
    contact = _contact_or_404(contact_id)
    refused = _not_scheduled(contact)
    if refused is not None:
        return refused
    if request.method == "GET":
        return render_template(
            "crm_contacts/contact_cancel.html", contact=contact, zone=zone_name()
        )
    contact.state = agenda.CANCELLED
    db_session.commit()
    flash("Contact cancelled.", "success")
    return redirect(url_for("crm_contacts.client_file", client_id=contact.client_id))


# --- the full history -------------------------------------------------------------------------


@bp.route("/clients/<int:client_id>/contacts")
@permission_required(READ)
def client_contacts(client_id: int):
    client = _client_or_404(client_id)
    types = agenda.contact_types(db_session)
    type_code = request.args.get("type", "")
    state = request.args.get("state", "")
    conditions = [Contact.client_id == client.id]
    if type_code:
        chosen = next((t for t in types if t.code == type_code), None)
        if chosen is None:
            abort(404)
        conditions.append(Contact.contact_type_id == chosen.id)
    if state:
        if state not in CONTACT_STATES:
            abort(404)
        conditions.append(Contact.state == state)
    total = db_session.scalar(
        select(func.count()).select_from(Contact).join(Contact.client).where(*conditions)
    )
    pages = max(1, -(-(total or 0) // PER_PAGE))
    page = min(max(request.args.get("page", 1, type=int) or 1, 1), pages)
    contacts = db_session.scalars(
        agenda.visible_contacts()
        .where(*conditions)
        .options(joinedload(Contact.user), selectinload(Contact.persons))
        .order_by(Contact.starts_at.desc(), Contact.id.desc())
        .limit(PER_PAGE)
        .offset((page - 1) * PER_PAGE)
    ).all()
    return render_template(
        "crm_contacts/contact_list.html",
        client=client,
        contacts=contacts,
        types=types,
        type_code=type_code,
        state=state,
        states=STATE_LABELS,
        page=page,
        pages=pages,
        total=total,
        zone=zone_name(),
    )
