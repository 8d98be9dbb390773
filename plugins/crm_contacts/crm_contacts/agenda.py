"""The contact history's shared rules: the queries behind the history page, My agenda, the JSON API
and the iCalendar feed, and the checks every way of writing a contact goes through.

Times are stored in UTC and typed and shown in the installation's time zone (``CRM_TIMEZONE``,
see ``core.timezone``); the forms say which zone that is.
"""

from __future__ import annotations

import secrets
from collections.abc import Iterable
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

import icalendar
from flask import url_for
from marshmallow import Schema, ValidationError
from sqlalchemy import Select, func, select
from sqlalchemy.exc import IntegrityError, OperationalError
from sqlalchemy.orm import Session, contains_eager, joinedload, selectinload

from core.timezone import local_today, local_zone
from crm_contacts.models import CalendarFeed, Client, Contact, ContactType, Person

SCHEDULED, DONE, CANCELLED = "scheduled", "done", "cancelled"
# What a contact may become: a plan is carried out or called off; what happened stays so.
TRANSITIONS: dict[str, set[str]] = {SCHEDULED: {DONE, CANCELLED}, DONE: set(), CANCELLED: set()}

# Stored as given once validated; the type, persons, time and state are checked further.
CHANGEABLE = ("duration_minutes", "subject", "notes", "outcome", "follow_up_date")
OVERDUE_LIMIT = 50
FEED_PAST = timedelta(days=30)
FEED_FUTURE = timedelta(days=180)
# A phone polls the feed every few hours: bounded even for a representative with years ahead.
FEED_LIMIT = 2000


# --- time -----------------------------------------------------------------------------------


def now() -> datetime:
    return datetime.now(UTC)


def aware(moment: datetime) -> datetime:
    """``moment`` in UTC. SQLite hands timezone-aware columns back naive; every stored time is
    UTC."""
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)


def to_local(moment: datetime) -> datetime:
    return aware(moment).astimezone(local_zone())


def day_start(day: date) -> datetime:
    """The UTC instant at which ``day`` starts where the user is."""
    return datetime.combine(day, time(), tzinfo=local_zone()).astimezone(UTC)


def week_of(day: date) -> tuple[date, date]:
    """Monday and Sunday of the week of ``day``."""
    monday = day - timedelta(days=day.weekday())
    return monday, monday + timedelta(days=6)


def parse_local(text: str) -> datetime | None:
    """A date and time typed in a form (``2026-03-02T09:30``, what ``datetime-local`` posts),
    read in the user's zone; None if it is not one."""
    try:
        moment = datetime.fromisoformat(text.strip())
    except ValueError:
        return None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=local_zone())
    return moment.astimezone(UTC)


def form_value(moment: datetime | None) -> str:
    """``moment`` as a ``datetime-local`` input shows it, in the user's zone."""
    return to_local(moment).strftime("%Y-%m-%dT%H:%M") if moment is not None else ""


# --- queries --------------------------------------------------------------------------------


def visible_contacts() -> Select[tuple[Contact]]:
    """Contacts as the current user may see them. Contacts carry no record rule of their own: they
    are seen through their client, and the inner join makes the client's rules (a representative
    sees only their own clients) hide the contacts of a hidden client as well."""
    return (
        select(Contact)
        .join(Contact.client)
        .options(contains_eager(Contact.client), joinedload(Contact.contact_type))
    )


def get_visible(session: Session, contact_id: int) -> Contact | None:
    return session.scalars(visible_contacts().where(Contact.id == contact_id)).unique().first()


def scheduled_between(
    session: Session, user_id: int, start: datetime, end: datetime
) -> list[Contact]:
    """The user's scheduled contacts starting in [start, end), in time order."""
    stmt = (
        visible_contacts()
        .where(
            Contact.user_id == user_id,
            Contact.state == SCHEDULED,
            Contact.starts_at >= start,
            Contact.starts_at < end,
        )
        .options(selectinload(Contact.persons))
        .order_by(Contact.starts_at, Contact.id)
    )
    return list(session.scalars(stmt).unique())


def overdue(session: Session, user_id: int, before: datetime) -> tuple[list[Contact], int]:
    """The user's contacts still scheduled that should have happened before ``before``, oldest
    first (at most ``OVERDUE_LIMIT``), and how many there are in all."""
    condition = (
        Contact.user_id == user_id,
        Contact.state == SCHEDULED,
        Contact.starts_at < before,
    )
    stmt = visible_contacts().where(*condition)
    contacts = list(
        session.scalars(
            stmt.options(selectinload(Contact.persons))
            .order_by(Contact.starts_at, Contact.id)
            .limit(OVERDUE_LIMIT)
        ).unique()
    )
    total = len(contacts)
    if total == OVERDUE_LIMIT:
        total = session.scalar(
            select(func.count()).select_from(Contact).join(Contact.client).where(*condition)
        )
    return contacts, total or 0


def agenda_range(start_day: date, end_day: date) -> tuple[datetime, datetime]:
    """The UTC instants bounding the days ``start_day`` to ``end_day`` (both included)."""
    return day_start(start_day), day_start(end_day + timedelta(days=1))


def contact_types(session: Session) -> list[ContactType]:
    return list(session.scalars(select(ContactType).order_by(ContactType.order, ContactType.name)))


# --- writing --------------------------------------------------------------------------------


def _minute(moment: datetime) -> datetime:
    return aware(moment).replace(second=0, microsecond=0)


def _check(
    session: Session, contact: Contact, client: Client, data: dict[str, Any], *, new: bool
) -> tuple[dict[str, list[str]], dict[str, Any]]:
    """The checks a schema cannot make alone, because they depend on the client and on the
    contact as it is: the messages per field, and the values to store."""
    errors: dict[str, list[str]] = {}
    values = {k: data[k] for k in CHANGEABLE if k in data}
    if "client_id" in data and data["client_id"] != client.id:
        errors["client_id"] = (
            ["No such client."] if new else ["A contact cannot move to another client."]
        )
    if "contact_type" in data:
        values["contact_type"] = session.scalar(
            select(ContactType).where(ContactType.code == data["contact_type"])
        )
        if values["contact_type"] is None:
            errors["contact_type"] = ["No such contact type."]
    if "person_ids" in data:
        wanted = set(data["person_ids"])
        persons = (
            list(
                session.scalars(
                    select(Person)
                    .where(Person.id.in_(wanted), Person.client_id == client.id)
                    .order_by(Person.name, Person.id)
                )
            )
            if wanted
            else []
        )
        if len(persons) != len(wanted):
            errors["person_ids"] = ["Only contact persons of this client can take part."]
        values["persons"] = persons
    state = values["state"] = data.get("state", DONE if new else contact.state)
    if new and state not in (SCHEDULED, DONE):
        errors["state"] = ["A new contact is either done or scheduled."]
    elif not new and state != contact.state and state not in TRANSITIONS[contact.state]:
        errors["state"] = [f"A contact that is {contact.state} cannot become {state}."]
    if "starts_at" in data:
        starts_at = values["starts_at"] = aware(data["starts_at"])
        # Forms post times to the minute: the same minute posted again is no move (an overdue
        # plan can have its notes edited without being refused for lying in the past).
        if not new and _minute(starts_at) == _minute(contact.starts_at):
            del values["starts_at"]
        elif state == SCHEDULED and starts_at < day_start(local_today()):
            errors["starts_at"] = [
                "A scheduled contact cannot be in the past: log it as done instead."
            ]
    return errors, values


def load_contact(
    session: Session,
    schema: Schema,
    payload: dict[str, Any],
    *,
    contact: Contact,
    client: Client,
    new: bool,
    partial: bool | tuple[str, ...] = False,
) -> dict[str, Any]:
    """Validate ``payload`` (a form's fields or a JSON body) for ``contact`` of ``client``: the
    schema's rules and those that depend on the client and the contact, all reported at once.
    Raises ``ValidationError`` naming the fields; returns what ``apply`` stores."""
    try:
        data, errors = schema.load(payload, partial=partial), {}
    except ValidationError as error:
        data = error.valid_data if isinstance(error.valid_data, dict) else {}
        errors = dict(error.messages) if isinstance(error.messages, dict) else {}
    more, values = _check(session, contact, client, data, new=new)
    for name, messages in more.items():
        errors.setdefault(name, messages)
    if errors:
        raise ValidationError(errors)
    return values


def apply(contact: Contact, client: Client, values: dict[str, Any]) -> None:
    """Store what ``load_contact`` returned."""
    contact.client = client
    contact.client_id = client.id
    for name, value in values.items():
        setattr(contact, name, value)


# --- the iCalendar feed ---------------------------------------------------------------------


def feed_of(session: Session, user_id: int) -> CalendarFeed:
    """The user's feed, created at the first visit of My agenda."""
    for attempt in (1, 2):
        feed = session.get(CalendarFeed, user_id)
        if feed is not None:
            return feed
        feed = CalendarFeed(user_id=user_id, secret=secrets.token_urlsafe(32))
        session.add(feed)
        try:
            session.commit()
            return feed
        except IntegrityError:
            # The same user's other tab created it a moment ago: theirs is the one.
            session.rollback()
            feed = session.get(CalendarFeed, user_id)
            if feed is None:
                raise
            return feed
        except OperationalError:
            # SQLite: another request wrote since this one began reading, so its read
            # transaction cannot become a write ("database is locked" at once, without waiting).
            # A new transaction sees that write and may write in turn.
            session.rollback()
            if attempt == 2:
                raise
    raise AssertionError("unreachable")


def regenerate(session: Session, user_id: int) -> CalendarFeed:
    """A new secret: the old URL stops working at once, wherever it was subscribed."""
    feed = session.get(CalendarFeed, user_id) or CalendarFeed(user_id=user_id)
    feed.secret = secrets.token_urlsafe(32)
    feed.created_at = now()
    session.add(feed)
    session.commit()
    return feed


def feed_contacts(session: Session, user_id: int, at: datetime) -> list[Contact]:
    """What the feed shows: the user's scheduled and done contacts from 30 days ago to 180 days
    ahead. Cancelled ones are left out, so that they disappear from the phone's calendar."""
    stmt = (
        visible_contacts()
        .where(
            Contact.user_id == user_id,
            Contact.state.in_((SCHEDULED, DONE)),
            Contact.starts_at >= at - FEED_PAST,
            Contact.starts_at < at + FEED_FUTURE,
        )
        .order_by(Contact.starts_at, Contact.id)
        .limit(FEED_LIMIT)
    )
    return list(session.scalars(stmt).unique())


def calendar(contacts: Iterable[Contact], name: str, host: str, stamp: datetime) -> bytes:
    """The feed as iCalendar text; each contact is one VEVENT whose UID never changes, so that
    calendars update an event instead of adding it again."""
    cal = icalendar.Calendar()
    cal.add("prodid", "-//CRM//crm_contacts agenda//EN")
    cal.add("version", "2.0")
    cal.add("calscale", "GREGORIAN")
    cal.add("method", "PUBLISH")
    cal.add("x-wr-calname", f"CRM – {name}")
    # How often subscribing calendars should poll (Apple and Google read one or the other).
    cal.add("refresh-interval", timedelta(hours=1), parameters={"VALUE": "DURATION"})
    cal.add("x-published-ttl", "PT1H")
    for contact in contacts:
        start = aware(contact.starts_at)
        event = icalendar.Event()
        event.add("uid", f"crm-contact-{contact.id}@{host}")
        event.add("dtstamp", stamp)
        event.add("dtstart", start)
        event.add("dtend", start + timedelta(minutes=contact.duration_minutes))
        event.add("summary", f"{contact.contact_type.name}: {contact.client.name}")
        description = [part for part in (contact.subject, contact.notes) if part]
        if contact.state == DONE and contact.outcome:
            description.append(f"Outcome: {contact.outcome}")
        if description:
            event.add("description", "\n\n".join(description))
        event.add(
            "url", url_for("crm_contacts.client_file", client_id=contact.client_id, _external=True)
        )
        event.add("status", "CONFIRMED")
        # Each saved change bumps the version: calendars take the higher sequence as newer.
        event.add("sequence", max(contact.version - 1, 0))
        cal.add_component(event)
    return cal.to_ical()
