"""The history of contacts with a client (log, schedule, mark done, edit, cancel, the full list),
My agenda, and the iCalendar feed of a user's agenda."""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator
from datetime import datetime, timedelta
from typing import Any

from flask import (
    Response,
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
from core.auth import has_permission, user_groups
from core.db import db_session
from core.locking import check_version
from core.models import User
from core.permissions import PUBLIC, permission_required
from core.record_rules import RuleUser, activate
from core.state import current_state
from core.timezone import local_today, zone_name
from crm_contacts import agenda
from crm_contacts.blueprints import bp
from crm_contacts.models import CONTACT_STATES, CalendarFeed, Client, Contact, Person
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
_SECRET = re.compile(r"[A-Za-z0-9_-]{20,64}")


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


# --- My agenda and its calendar feed ------------------------------------------------------------


def _feed_urls(feed: CalendarFeed) -> tuple[str, str]:
    """The feed's address, and the same with the webcal scheme that phones open as a
    subscription."""
    url = url_for("crm_contacts.calendar_feed", secret=feed.secret, _external=True)
    return url, "webcal://" + url.split("://", 1)[1]


@bp.route("/agenda", endpoint="agenda")
@permission_required(READ)
def my_agenda():
    """Today's and this week's scheduled contacts of the current user, overdue ones first."""
    feed = agenda.feed_of(db_session, current_user.id)
    today = local_today()
    _monday, sunday = agenda.week_of(today)
    start, end = agenda.agenda_range(today, sunday)
    overdue, overdue_total = agenda.overdue(db_session, current_user.id, start)
    week = agenda.scheduled_between(db_session, current_user.id, start, end)
    tomorrow = agenda.day_start(today + timedelta(days=1))
    todays = [c for c in week if agenda.aware(c.starts_at) < tomorrow]
    later: dict[Any, list[Contact]] = {}
    for contact in week[len(todays) :]:
        later.setdefault(agenda.to_local(contact.starts_at).date(), []).append(contact)
    feed_url, webcal_url = _feed_urls(feed)
    return render_template(
        "crm_contacts/agenda.html",
        today=today,
        sunday=sunday,
        now=agenda.now(),
        overdue=overdue,
        overdue_total=overdue_total,
        todays=todays,
        later=later,
        feed_url=feed_url,
        webcal_url=webcal_url,
        zone=zone_name(),
    )


@bp.route("/agenda/calendar/regenerate", methods=["GET", "POST"])
@permission_required(READ)
def calendar_regenerate():
    """A new secret address for the calendar feed; the old one stops working (a lost phone)."""
    if request.method == "GET":
        return render_template("crm_contacts/agenda_regenerate.html")
    agenda.regenerate(db_session, current_user.id)
    flash(
        "Your calendar has a new address; the old one no longer works. "
        "Subscribe again on your devices with the address below.",
        "success",
    )
    return redirect(url_for("crm_contacts.agenda"))


@bp.route("/calendar/<secret>.ics")
# Public: calendar apps on phones subscribe to a URL and cannot log in, so the unguessable secret
# in the URL is the credential (and regenerating it is how it is revoked).
@permission_required(PUBLIC)
def calendar_feed(secret: str):
    if not _SECRET.fullmatch(secret):
        abort(404)
    feed = db_session.scalar(select(CalendarFeed).where(CalendarFeed.secret == secret))
    owner = db_session.get(User, feed.user_id) if feed is not None else None
    if owner is None or not owner.active or not has_permission(READ, owner):
        abort(404)
    # A public route runs without a user, so no record rule is active. The feed shows its owner's
    # contacts as the owner would see them: their own contacts only (agenda.feed_contacts), and
    # the owner's record rules switched on for the rest of this request, so that a representative
    # does not see contacts at clients that are no longer theirs.
    activate(current_state().enabled_record_rules, RuleUser(owner.id, user_groups(owner)))
    at = agenda.now()
    contacts = agenda.feed_contacts(db_session, owner.id, at)
    body = agenda.calendar(contacts, owner.name, request.host, at)
    response = Response(body, mimetype="text/calendar")
    response.headers["Cache-Control"] = "private, no-cache"
    response.headers["X-Robots-Tag"] = "noindex, nofollow"
    return response
