"""Comparing the clients of a file with the existing clients they match: what an import would
change in each, if anything."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from crm_contacts.importing.plan import BATCH, ImportPlan, _Change, _Draft
from crm_contacts.importing.reading import BANK_COLUMNS, SCALAR_FIELDS
from crm_contacts.models import (
    Address,
    BankAccount,
    Client,
    Email,
    Person,
    Phone,
    Tag,
    client_tag,
)


def _plan_changes(session: Session, drafts: list[_Draft], plan: ImportPlan) -> None:
    existing = [d for d in drafts if d.existing_id is not None]
    plan.creates = [d for d in drafts if d.existing_id is None]
    for start in range(0, len(existing), BATCH):
        chunk = existing[start : start + BATCH]
        snapshots = _snapshots(session, [d.existing_id for d in chunk])
        for draft in chunk:
            change = _diff(draft, snapshots[draft.existing_id])
            if change is None:
                draft.action = "unchanged"
                plan.unchanged += 1
            else:
                draft.action = "update"
                plan.updates.append(change)


def _snapshots(session: Session, ids: list[int]) -> dict[int, dict[str, Any]]:
    """What the import compares with, of existing clients: plain values in a few queries."""
    scalars = [getattr(Client, f) for f in SCALAR_FIELDS]
    result: dict[int, dict[str, Any]] = {}
    for row in session.execute(
        select(
            Client.id, Client.customer_group_id, Client.region_id, Client.responsible_id, *scalars
        ).where(Client.id.in_(ids))
    ):
        values = row._asdict()
        values.update(tags=set(), address=None, bank=None, phones=set(), emails=set(), persons={})
        result[row.id] = values
    for client_id, name in session.execute(
        select(client_tag.c.client_id, Tag.name)
        .join(Tag, Tag.id == client_tag.c.tag_id)
        .where(client_tag.c.client_id.in_(ids))
    ):
        result[client_id]["tags"].add(name)
    for address in session.execute(
        select(Address.id, Address.client_id, Address.street, Address.city, Address.postal_code)
        .where(Address.client_id.in_(ids), Address.kind == "head_office")
        .order_by(Address.id)
    ):
        if result[address.client_id]["address"] is None:
            result[address.client_id]["address"] = address._asdict()
    for client_id, account in _default_accounts(session, ids):
        result[client_id]["bank"] = account
    for person in session.execute(
        select(Person.id, Person.client_id, Person.name, Person.position)
        .where(Person.client_id.in_(ids))
        .order_by(Person.id)
    ):
        result[person.client_id]["persons"].setdefault(
            person.name.strip().casefold(),
            {"id": person.id, "position": person.position, "phones": set(), "emails": set()},
        )
    by_person = {p["id"]: p for snapshot in result.values() for p in snapshot["persons"].values()}
    for client_id, person_id, number in session.execute(
        select(Phone.client_id, Phone.person_id, Phone.number).where(Phone.client_id.in_(ids))
    ):
        if person_id is None:
            result[client_id]["phones"].add(number)
        elif person_id in by_person:
            by_person[person_id]["phones"].add(number)
    for client_id, person_id, address in session.execute(
        select(Email.client_id, Email.person_id, Email.address).where(Email.client_id.in_(ids))
    ):
        if person_id is None:
            result[client_id]["emails"].add(address.casefold())
        elif person_id in by_person:
            by_person[person_id]["emails"].add(address.casefold())
    return result


def _default_accounts(session: Session, ids: list[int]) -> Iterator[tuple[int, dict[str, str]]]:
    """The client's bank account that the CSV columns stand for: its default one (the first, if
    several are marked default); a client without a default account has none in the file."""
    seen: set[int] = set()
    for account in session.execute(
        select(BankAccount.client_id, BankAccount.iban, BankAccount.bic, BankAccount.bank_name)
        .where(BankAccount.client_id.in_(ids), BankAccount.is_default.is_(True))
        .order_by(BankAccount.id)
    ):
        if account.client_id not in seen:
            seen.add(account.client_id)
            yield account.client_id, {c: getattr(account, c) for c in BANK_COLUMNS}


def _diff(draft: _Draft, snapshot: dict[str, Any]) -> _Change | None:
    fields = {
        name: draft.data.get(name)
        for name in draft.applied
        if draft.data.get(name) != snapshot[name]
    }
    tags = draft.tags if draft.tags is not None and set(draft.tags) != snapshot["tags"] else None
    address = None
    if draft.address:
        current = snapshot["address"] or {}
        if any(current.get(c) != v for c, v in draft.address.items()):
            address = draft.address
    bank = None
    if draft.bank:
        current = snapshot["bank"] or {}
        if any(current.get(c) != v for c, v in draft.bank.items()):
            bank = draft.bank
    phones = [p for p in draft.phones if p not in snapshot["phones"]]
    emails = [e for e in draft.emails if e.casefold() not in snapshot["emails"]]
    new_persons, person_changes = [], {}
    for key, person in draft.persons.items():
        known = snapshot["persons"].get(key)
        if known is None:
            new_persons.append(person)
            continue
        change: dict[str, Any] = {}
        if person["position"] != known["position"] and person["position"]:
            change["position"] = person["position"]
        if added := [p for p in person["phones"] if p not in known["phones"]]:
            change["phones"] = added
        if added := [e for e in person["emails"] if e.casefold() not in known["emails"]]:
            change["emails"] = added
        if change:
            person_changes[known["id"]] = change
    if not (fields or tags is not None or address or bank or phones or emails or new_persons) and (
        not person_changes
    ):
        return None
    return _Change(
        draft.existing_id, fields, tags, address, bank, phones, emails, new_persons, person_changes
    )
