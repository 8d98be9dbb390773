"""crm_contacts' own sections of the client file, given through its own extension point like any
other module's (``crm_client_file_sections``), so that they sort among the others by ``order``.

Orders, so that other modules can place their sections between these: general data 10, addresses
and phones 20, contact persons 30, preferences 40, bank accounts 50, latest contacts 60. The history
of changes is not a section: the page closes with it, after every module's sections. The sections
read the client as the page loaded it (its collections are loaded already); only the latest
contacts cost queries, three (four when there are more than the section lists).
"""

from __future__ import annotations

from typing import Any

from flask import render_template
from markupsafe import Markup
from sqlalchemy import func, select
from sqlalchemy.orm import joinedload
from sqlalchemy.orm.attributes import set_committed_value

from core import hookimpl
from core.audit import HistoryEntry, history_for
from core.auth import has_permission
from core.db import db_session
from core.state import current_state
from crm_contacts.agenda import to_local
from crm_contacts.hookspecs import ClientFileSection
from crm_contacts.models import ADDRESS_KINDS, Client, Contact, Person, contact_person
from crm_contacts.permissions import WRITE
from crm_contacts.validation import format_phone

LATEST_CONTACTS = 5
UPCOMING_CONTACTS = 3


def label(code: str) -> str:
    """``head_office`` → ``Head office``: how the fixed lists' codes read on the page."""
    return code.replace("_", " ").capitalize()


def _kind_rank(kind: str) -> int:
    return ADDRESS_KINDS.index(kind) if kind in ADDRESS_KINDS else len(ADDRESS_KINDS)


def format_iban(iban: str) -> str:
    """``BG80 BNBG 9661 1020 3456 78``: groups of four, as printed on statements."""
    return " ".join(iban[i : i + 4] for i in range(0, len(iban), 4))


def persons_in_order(client: Client) -> list[Person]:
    """The primary contact person first, then by name."""
    return sorted(client.persons, key=lambda p: (not p.is_primary, p.name.lower(), p.id))


def primary_person(client: Client) -> Person | None:
    persons = persons_in_order(client)
    return persons[0] if persons else None


def _render(name: str, client: Client, **context: Any) -> Markup:
    return Markup(  # noqa: S704 - a template rendered by Jinja with autoescaping
        render_template(
            f"crm_contacts/{name}",
            client=client,
            label=label,
            format_phone=format_phone,
            as_local=to_local,
            **context,
        )
    )


def _contacts(client: Client, *, upcoming: bool, limit: int) -> list[Contact]:
    """The contacts with their type and user joined in (their persons: ``_with_persons``).
    Persons joined in too would put the LIMIT in a subquery and leave SQLite to build and scan
    the whole contact-person join of the database (``SCAN (join-2)``, 0.8 s at 100,000
    clients) to find the few rows it needs."""
    stmt = (
        select(Contact)
        .where(Contact.client_id == client.id)
        .options(joinedload(Contact.contact_type), joinedload(Contact.user))
    )
    if upcoming:
        stmt = stmt.where(Contact.state == "scheduled").order_by(Contact.starts_at, Contact.id)
    else:
        stmt = stmt.where(Contact.state != "scheduled").order_by(
            Contact.starts_at.desc(), Contact.id.desc()
        )
    return list(db_session.scalars(stmt.limit(limit)))


def _with_persons(*lists: list[Contact]) -> None:
    """The persons of every contact of ``lists``, in one statement by the contacts' ids (as
    ``selectinload`` would, once per list), set on each contact as loaded."""
    contacts = [contact for contacts in lists for contact in contacts]
    persons: dict[int, list[Person]] = {contact.id: [] for contact in contacts}
    if persons:
        rows = db_session.execute(
            select(contact_person.c.contact_id, Person)
            .join(Person, Person.id == contact_person.c.person_id)
            .where(contact_person.c.contact_id.in_(persons))
            .order_by(Person.id)
        )
        for contact_id, person in rows:
            persons[contact_id].append(person)
    for contact in contacts:
        set_committed_value(contact, "persons", persons[contact.id])


def client_history(client: Client) -> list[HistoryEntry]:
    """The client's audit trail for the history panel, which closes the page after every
    module's sections."""
    return history_for(db_session, Client.__tablename__, client.id)


def client_since(client: Client):
    """The earliest day a module knows the client by (its first sale...), else the day it was
    entered in the CRM (in the installation's time zone)."""
    known = [d for d in current_state().pm.hook.crm_client_since(client=client) if d]
    if known:
        return min(known)
    return to_local(client.created_at).date() if client.created_at else None


@hookimpl
def crm_client_file_sections(client: Client, user: Any) -> list[ClientFileSection]:
    can_write = has_permission(WRITE, user)
    persons = persons_in_order(client)
    latest = _contacts(client, upcoming=False, limit=LATEST_CONTACTS)
    upcoming = _contacts(client, upcoming=True, limit=UPCOMING_CONTACTS)
    _with_persons(latest, upcoming)
    if len(latest) < LATEST_CONTACTS and len(upcoming) < UPCOMING_CONTACTS:
        total_contacts = len(latest) + len(upcoming)  # both lists hold all there is
    else:
        total_contacts = db_session.scalar(
            select(func.count()).select_from(Contact).where(Contact.client_id == client.id)
        )
    common = {"can_write": can_write, "persons": persons}
    reach = {
        # Head office, billing, delivery, other: the order people look for them in.
        "addresses": sorted(client.addresses, key=lambda a: (_kind_rank(a.kind), a.id)),
        # A person's phones and emails are shown with the person.
        "phones": sorted((p for p in client.phones if p.person_id is None), key=lambda p: p.id),
        "emails": sorted((e for e in client.emails if e.person_id is None), key=lambda e: e.id),
    }
    accounts = sorted(client.bank_accounts, key=lambda b: (not b.is_default, b.id))
    sections = [
        ("crm_contacts.general", "General data", "section_general.html", 10,
         {"client_since": client_since(client)}),
        ("crm_contacts.addresses", "Addresses, phones and emails", "section_addresses.html", 20,
         reach),
        ("crm_contacts.persons", "Contact persons", "section_persons.html", 30, {}),
        ("crm_contacts.preferences", "Preferences", "section_preferences.html", 40, {}),
        ("crm_contacts.bank_accounts", "Bank accounts", "section_bank.html", 50,
         {"accounts": accounts, "format_iban": format_iban}),
        ("crm_contacts.contacts", "Latest contacts", "section_contacts.html", 60,
         {"latest": latest, "upcoming": upcoming, "total_contacts": total_contacts}),
    ]  # fmt: skip
    return [
        ClientFileSection(
            id=section_id,
            title=title,
            html=_render(template, client, **common, **extra),
            order=order,
        )
        for section_id, title, template, order, extra in sections
    ]
