"""The export: every client the session sees, with its contact persons, in the import's format."""

from __future__ import annotations

import io
from collections.abc import Iterator
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from core import csvfiles
from core.models import User
from crm_contacts.importing.comparing import _default_accounts
from crm_contacts.importing.plan import BATCH
from crm_contacts.importing.reading import BANK_COLUMNS, CLIENT_COLUMNS, COLUMNS, SCALAR_FIELDS
from crm_contacts.models import (
    Address,
    Client,
    CustomerGroup,
    Email,
    Person,
    Phone,
    Region,
    Tag,
    client_tag,
)
from crm_contacts.validation import format_phone


def export_csv(session: Session, batch: int = BATCH) -> Iterator[str]:
    """The clients ``session`` sees (record rules apply during a request), with their persons, as
    CSV text in chunks: one row per contact person, one row for a client without any. Importing
    it back changes nothing."""
    buffer = io.StringIO()
    writer = csvfiles.writer(buffer, lineterminator="\r\n")
    # The byte-order mark makes spreadsheet programs read the file as UTF-8.
    buffer.write("\ufeff")
    writer.writerow(COLUMNS)
    last_id = 0
    while True:
        rows = session.execute(
            select(
                Client.id,
                *(getattr(Client, f) for f in SCALAR_FIELDS),
                CustomerGroup.name.label("customer_group"),
                Region.name.label("region"),
                User.login.label("responsible"),
            )
            .outerjoin(CustomerGroup, CustomerGroup.id == Client.customer_group_id)
            .outerjoin(Region, Region.id == Client.region_id)
            .outerjoin(User, User.id == Client.responsible_id)
            .where(Client.id > last_id)
            .order_by(Client.id)
            .limit(batch)
        ).all()
        if not rows:
            break
        last_id = rows[-1].id
        for line in _export_lines(session, rows):
            writer.writerow(line)
        yield buffer.getvalue()
        buffer.seek(0)
        buffer.truncate()
    if buffer.tell():
        yield buffer.getvalue()


def _export_lines(session: Session, clients: list[Any]) -> Iterator[list[str]]:
    ids = [c.id for c in clients]
    snapshots = _snapshots_for_export(session, ids)
    for client in clients:
        snapshot = snapshots[client.id]
        values = client._asdict()
        address = snapshot["address"] or {}
        own = {
            "tags": "; ".join(sorted(snapshot["tags"])),
            "payment_term_days": "" if client.payment_term_days is None
            else str(client.payment_term_days),
            "customer_group": client.customer_group or "",
            "region": client.region or "",
            "responsible": client.responsible or "",
            "street": address.get("street", ""),
            "city": address.get("city", ""),
            "postal_code": address.get("postal_code", ""),
            "phone": "; ".join(format_phone(n) for n in snapshot["phones"]),
            "email": "; ".join(snapshot["emails"]),
            **(snapshot["bank"] or dict.fromkeys(BANK_COLUMNS, "")),
        }  # fmt: skip
        cells = [own[c] if c in own else (values.get(c) or "") for c in CLIENT_COLUMNS]
        if not snapshot["persons"]:
            yield [*cells, "", "", "", ""]
        for person in snapshot["persons"]:
            yield [
                *cells,
                person["name"],
                person["position"],
                "; ".join(format_phone(n) for n in person["phones"]),
                "; ".join(person["emails"]),
            ]


def _snapshots_for_export(session: Session, ids: list[int]) -> dict[int, dict[str, Any]]:
    result: dict[int, dict[str, Any]] = {
        i: {"tags": set(), "address": None, "bank": None, "phones": [], "emails": [], "persons": []}
        for i in ids
    }
    for client_id, name in session.execute(
        select(client_tag.c.client_id, Tag.name)
        .join(Tag, Tag.id == client_tag.c.tag_id)
        .where(client_tag.c.client_id.in_(ids))
    ):
        result[client_id]["tags"].add(name)
    for address in session.execute(
        select(Address.client_id, Address.street, Address.city, Address.postal_code)
        .where(Address.client_id.in_(ids), Address.kind == "head_office")
        .order_by(Address.id)
    ):
        if result[address.client_id]["address"] is None:
            result[address.client_id]["address"] = address._asdict()
    for client_id, account in _default_accounts(session, ids):
        result[client_id]["bank"] = account
    persons: dict[int, dict[str, Any]] = {}
    for person in session.execute(
        select(Person.id, Person.client_id, Person.name, Person.position)
        .where(Person.client_id.in_(ids))
        .order_by(Person.id)
    ):
        persons[person.id] = {"name": person.name, "position": person.position, "phones": [],
                              "emails": []}  # fmt: skip
        result[person.client_id]["persons"].append(persons[person.id])
    for client_id, person_id, number in session.execute(
        select(Phone.client_id, Phone.person_id, Phone.number)
        .where(Phone.client_id.in_(ids))
        .order_by(Phone.id)
    ):
        owner = result[client_id] if person_id is None else persons.get(person_id)
        if owner is not None:
            owner["phones"].append(number)
    for client_id, person_id, address in session.execute(
        select(Email.client_id, Email.person_id, Email.address)
        .where(Email.client_id.in_(ids))
        .order_by(Email.id)
    ):
        owner = result[client_id] if person_id is None else persons.get(person_id)
        if owner is not None:
            owner["emails"].append(address)
    return result
