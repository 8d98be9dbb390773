"""The client's ``search_text``: everything the client list searches, in one lower-case column.

Kept current by a ``before_flush`` listener on every session, for clients created or changed and
for clients whose addresses, phones, emails or contact persons were. Searching then is one
``LIKE`` over one column of one table, which stays fast at 100,000 clients.
"""

from __future__ import annotations

import re
from typing import Any

from sqlalchemy import event
from sqlalchemy.orm import Session

from crm_contacts.models import Address, Client, Email, Person, Phone
from crm_contacts.validation import format_phone

_CHILDREN = (Address, Phone, Email, Person)


def _phone_variants(e164: str) -> list[str]:
    """Digits as stored (+359 2 123 4567 → 35921234567) and as dialled at home (021234567), so a
    search for either finds the client."""
    international = format_phone(e164)
    digits = re.sub(r"\D", "", e164)
    parts = international.split(" ", 1)
    national = "0" + re.sub(r"\D", "", parts[1]) if len(parts) == 2 else ""
    return [digits, national]


def search_text(client: Client) -> str:
    words = [client.name, client.legal_name, client.vat_number, client.registration_number]
    words += [a.city for a in client.addresses]
    words += [variant for p in client.phones for variant in _phone_variants(p.number)]
    words += [e.address for e in client.emails]
    words += [p.name for p in client.persons]
    return " ".join(w for w in words if w).lower()


def _affected(session: Session) -> set[Client]:
    clients: set[Client] = set()
    for obj in (*session.new, *session.dirty, *session.deleted):
        if isinstance(obj, Client):
            clients.add(obj)
        elif isinstance(obj, _CHILDREN):
            client = obj.client if obj.client is not None else session.get(Client, obj.client_id)
            if client is not None:
                clients.add(client)
    return clients - set(session.deleted)


@event.listens_for(Session, "before_flush")
def _refresh_search_text(session: Session, _context: Any, _instances: Any) -> None:
    for client in _affected(session):
        text = search_text(client)
        if client.search_text != text:
            client.search_text = text


def crm_search(session, query, user):
    """(being written) Hits for the global search box."""
    return []
