"""Comparing the clients of a file with the existing clients they match: whether the file says
what a client holds already (``as_stored``: then it needs no checking), and what an import would
change in each (``_diff``), if anything."""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from core.bulk import among
from crm_contacts.importing.plan import _Change, _Draft, _Lookups
from crm_contacts.importing.reading import (
    ADDRESS_COLUMNS,
    BANK_COLUMNS,
    NOT_CLEARABLE,
    PERSON_COLUMNS,
    SCALAR_FIELDS,
    _split,
)
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


def _snapshots(session: Session, ids: list[int]) -> dict[int, dict[str, Any]]:
    """What the import compares with, of existing clients: plain values in a few queries."""
    scalars = [getattr(Client, f) for f in SCALAR_FIELDS]
    result: dict[int, dict[str, Any]] = {}
    for row in session.execute(
        select(
            Client.id, Client.customer_group_id, Client.region_id, Client.responsible_id, *scalars
        ).where(among(Client.id, ids, session))
    ):
        values = row._asdict()
        values.update(tags=set(), address=None, bank=None, phones=set(), emails=set(), persons={})
        result[row.id] = values
    for client_id, name in session.execute(
        select(client_tag.c.client_id, Tag.name)
        .join(Tag, Tag.id == client_tag.c.tag_id)
        .where(among(client_tag.c.client_id, ids, session))
    ):
        result[client_id]["tags"].add(name)
    for address in session.execute(
        select(Address.id, Address.client_id, Address.street, Address.city, Address.postal_code)
        .where(among(Address.client_id, ids, session), Address.kind == "head_office")
        .order_by(Address.id)
    ):
        if result[address.client_id]["address"] is None:
            result[address.client_id]["address"] = address._asdict()
    for client_id, account in _default_accounts(session, ids):
        result[client_id]["bank"] = account
    for person in session.execute(
        select(Person.id, Person.client_id, Person.name, Person.position)
        .where(among(Person.client_id, ids, session))
        .order_by(Person.id)
    ):
        result[person.client_id]["persons"].setdefault(
            person.name.strip().casefold(),
            {"id": person.id, "position": person.position, "phones": set(), "emails": set()},
        )
    by_person = {p["id"]: p for snapshot in result.values() for p in snapshot["persons"].values()}
    for client_id, person_id, number in session.execute(
        select(Phone.client_id, Phone.person_id, Phone.number).where(
            among(Phone.client_id, ids, session)
        )
    ):
        if person_id is None:
            result[client_id]["phones"].add(number)
        elif person_id in by_person:
            by_person[person_id]["phones"].add(number)
    for client_id, person_id, address in session.execute(
        select(Email.client_id, Email.person_id, Email.address).where(
            among(Email.client_id, ids, session)
        )
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
        .where(among(BankAccount.client_id, ids, session), BankAccount.is_default.is_(True))
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


def as_stored(
    draft: _Draft,
    columns: set[str],
    snapshot: dict[str, Any],
    lookups: _Lookups,
) -> bool:
    """Whether every cell of ``draft`` says what the existing client holds: the same text, the
    same names of group, region and user, phone numbers that are its numbers written with spaces,
    email addresses that are its addresses. What the database holds passed ``ClientSchema`` when
    it was written, so such a client needs no checking: this is what makes checking a file again
    (or an export) cost reading it. Anything else (a number written another way included) is
    checked by the schema and compared (``_diff``)."""
    cells = draft.cells
    for name in SCALAR_FIELDS:
        if name in columns:
            value = cells.get(name, "").strip()
            stored = snapshot[name]
            if name == "payment_term_days":
                stored = "" if stored is None else str(stored)
            if (value or name not in NOT_CLEARABLE) and value != (stored or ""):
                return False
    for column, field, names in (
        ("customer_group", "customer_group_id", lookups.groups),
        ("region", "region_id", lookups.regions),
        ("responsible", "responsible_id", lookups.users),
    ):
        if column in columns:
            value = cells.get(column, "").strip()
            if value and value.casefold() not in names:
                return False  # the schema's message names it
            if (names[value.casefold()] if value else None) != snapshot[field]:
                return False
    if "tags" in columns and set(_split(cells.get("tags", ""))) != snapshot["tags"]:
        return False
    address = {c: cells.get(c, "").strip() for c in ADDRESS_COLUMNS if c in columns}
    if any(address.values()):
        stored = snapshot["address"] or {}
        if any(stored.get(c) != v for c, v in address.items()):
            return False
    bank = {c: cells.get(c, "").strip() for c in BANK_COLUMNS if c in columns}
    if any(bank.values()):
        stored = snapshot["bank"]
        if stored is None or _compact(bank.get("iban", "")) != stored["iban"]:
            return False
        if "bic" in bank and _compact(bank["bic"]) != stored["bic"]:
            return False
        if bank.get("bank_name", stored["bank_name"]) != stored["bank_name"]:
            return False
    for row in draft.values.values():
        if not _known(row.get("phone", ""), row.get("email", ""), snapshot):
            return False
        person = {c: row.get(c, "").strip() for c in PERSON_COLUMNS}
        if any(person.values()):
            known = snapshot["persons"].get(person["person_name"].casefold())
            if not person["person_name"] or known is None:
                return False
            if person["person_position"] and person["person_position"] != known["position"]:
                return False
            if not _known(person["person_phone"], person["person_email"], known):
                return False
    return True


def _known(phones: str, emails: str, holder: dict[str, Any]) -> bool:
    """Whether the phones and emails of a cell are all the holder's (client or person)."""
    return all(_e164(p) in holder["phones"] for p in _split(phones)) and all(
        e.casefold() in holder["emails"] for e in _split(emails)
    )


_PHONE_MARKS = re.compile(r"[\s\-./()]")


def _e164(cell: str) -> str | None:
    """A number written with its country code, as stored (``+359 2 856 8181``: ``+35928568181``),
    or None for any other writing (which the schema reads)."""
    if not cell.startswith("+"):
        return None
    digits = _PHONE_MARKS.sub("", cell[1:])
    return "+" + digits if digits.isascii() and digits.isdigit() else None


def _compact(value: str) -> str:
    return re.sub(r"\s", "", value).upper()
