"""Writing an import: what an ``ImportPlan`` says; new clients in bulk, changes of existing clients
through the ORM (audited)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from sqlalchemy import insert, select
from sqlalchemy.orm import Session, selectinload

from core.bulk import insert_ids, insert_rows
from core.models import utcnow
from crm_contacts.importing.plan import BATCH, ImportPlan, Progress, _Change, _Draft
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
from crm_contacts.search import search_text_of


@dataclass(frozen=True)
class ImportResult:
    created: int
    updated: int
    unchanged: int
    persons: int


def apply_import(
    session: Session, plan: ImportPlan, progress: Progress | None = None
) -> ImportResult:
    """Do what ``plan`` says, in the session's transaction (the caller commits). Refuses a plan
    with errors. ``progress(n)`` is told of every ``n`` clients written."""
    if not plan.valid:
        raise ValueError("the import has errors; nothing may be written")
    names = {t for d in plan.creates for t in d.tags or ()}
    tag_ids = _tag_ids(session, names | {t for c in plan.updates for t in c.tags or ()})
    persons = 0
    for start in range(0, len(plan.creates), BATCH):
        chunk = plan.creates[start : start + BATCH]
        persons += _insert_clients(session, chunk, tag_ids)
        if progress is not None:
            progress(len(chunk))
    for start in range(0, len(plan.updates), BATCH):
        chunk = plan.updates[start : start + BATCH]
        persons += _update_clients(session, chunk, tag_ids)
        if progress is not None:
            progress(len(chunk))
    session.flush()
    return ImportResult(len(plan.creates), len(plan.updates), plan.unchanged, persons)


def _tag_ids(session: Session, wanted: set[str]) -> dict[str, int]:
    """The ids of the tags named, those missing created."""
    known = {name: id_ for id_, name in session.execute(select(Tag.id, Tag.name))}
    # Tag names are unique as typed; a tag written in another case is the same tag.
    folded = {name.casefold(): id_ for name, id_ in known.items()}
    ids: dict[str, int] = {}
    missing: list[str] = []
    for name in sorted(wanted):
        if name in known:
            ids[name] = known[name]
        elif name.casefold() in folded:
            ids[name] = folded[name.casefold()]
        elif name.casefold() not in {m.casefold() for m in missing}:
            missing.append(name)
    if missing:
        created = session.execute(
            insert(Tag).returning(Tag.id, Tag.name, sort_by_parameter_order=True),
            [{"name": name} for name in missing],
        ).all()
        for id_, name in created:
            folded[name.casefold()] = id_
    for name in wanted:
        ids.setdefault(name, folded[name.casefold()])
    return ids


def search_text_for(draft: _Draft) -> str:
    """What ``crm_contacts.search.search_text`` computes for the client once written: its phones
    and emails, then those of its persons, as its relationships load them."""
    persons = list(draft.persons.values())
    identifiers = [draft.data.get(k) or "" for k in ("name", "legal_name", "vat_number",
                                                      "registration_number")]  # fmt: skip
    return search_text_of(
        identifiers,
        [draft.address.get("city", "")] if draft.address else [],
        [*draft.phones, *(p for person in persons for p in person["phones"])],
        [*draft.emails, *(e for person in persons for e in person["emails"])],
        [person["name"] for person in persons],
    )


_DEFAULTS = {
    "kind": "company",
    "legal_name": "",
    "registration_number": "",
    "vat_number": "",
    "country": "BG",
    "customer_group_id": None,
    "region_id": None,
    "responsible_id": None,
    "status": "prospect",
    "website": "",
    "payment_term_days": None,
    "invoice_remarks": "",
    "goods_description": "",
    "document_language": "",
}


def _insert_clients(
    session: Session,
    drafts: list[_Draft],
    tag_ids: dict[str, int],
    index: Callable[[int, int], None] | None = None,
) -> int:
    """New clients and what they own, in bulk (``core.bulk``); ``index(first, last)`` is told of
    the ids of the clients inserted (``crm_contacts.search.bulk_search_index``)."""
    now = utcnow()
    values = [
        {
            **_DEFAULTS,
            **d.data,
            "notes": "",
            "search_text": d.search_text or search_text_for(d),
            "created_at": now,
            "version": 1,
        }
        for d in drafts
    ]
    # Core inserts into the tables: the ORM's bulk mode costs as much again, for nothing here.
    ids = insert_ids(session, Client.__table__, values)
    if index is not None and ids:
        index(ids[0], ids[-1])
    person_rows, person_owners = [], []
    for client_id, draft in zip(ids, drafts, strict=True):
        for person in draft.persons.values():
            person_rows.append(
                {"client_id": client_id, "name": person["name"], "position": person["position"],
                 "department": "", "is_primary": False, "notes": ""}
            )  # fmt: skip
            person_owners.append((client_id, person))
    person_ids = insert_ids(session, Person.__table__, person_rows)
    phones, emails, addresses, accounts, tags = [], [], [], [], []
    for client_id, draft in zip(ids, drafts, strict=True):
        phones += [{"client_id": client_id, "person_id": None, "kind": "work", "number": n}
                   for n in draft.phones]  # fmt: skip
        emails += [{"client_id": client_id, "person_id": None, "kind": "work", "address": a}
                   for a in draft.emails]  # fmt: skip
        if draft.address:
            addresses.append(
                {"street": "", "city": "", "postal_code": "", **draft.address,
                 "client_id": client_id, "kind": "head_office", "country": draft.data["country"]}
            )  # fmt: skip
        if draft.bank:
            accounts.append(
                {"bic": "", "bank_name": "", **draft.bank, "client_id": client_id,
                 "is_default": True}
            )  # fmt: skip
        tags += [{"client_id": client_id, "tag_id": tag_ids[t]} for t in draft.tags or ()]
    for person_id, (client_id, person) in zip(person_ids, person_owners, strict=True):
        phones += [{"client_id": client_id, "person_id": person_id, "kind": "work", "number": n}
                   for n in person["phones"]]  # fmt: skip
        emails += [{"client_id": client_id, "person_id": person_id, "kind": "work", "address": a}
                   for a in person["emails"]]  # fmt: skip
    for model, rows in (
        (Phone, phones), (Email, emails), (Address, addresses), (BankAccount, accounts)
    ):  # fmt: skip
        insert_rows(session, model.__table__, rows)
    insert_rows(session, client_tag, tags)
    return len(person_rows)


def _update_clients(session: Session, changes: list[_Change], tag_ids: dict[str, int]) -> int:
    """Through the ORM, so that the audit trail records what the import changed and
    ``search_text`` follows."""
    clients = {
        c.id: c
        for c in session.scalars(
            select(Client)
            .where(Client.id.in_([change.client_id for change in changes]))
            .options(
                selectinload(Client.tags),
                selectinload(Client.addresses),
                selectinload(Client.bank_accounts),
                selectinload(Client.phones),
                selectinload(Client.emails),
                selectinload(Client.persons).selectinload(Person.phones),
                selectinload(Client.persons).selectinload(Person.emails),
            )
        )
    }
    tags = {t.id: t for t in session.scalars(select(Tag).where(Tag.id.in_(set(tag_ids.values()))))}
    persons = 0
    for change in changes:
        client = clients[change.client_id]
        for name, value in change.fields.items():
            setattr(client, name, value)
        if change.tags is not None:
            client.tags = [tags[tag_ids[t]] for t in change.tags]
        if change.address:
            address = next((a for a in client.addresses if a.kind == "head_office"), None)
            if address is None:
                address = Address(kind="head_office", country=client.country)
                client.addresses.append(address)
            for name, value in change.address.items():
                setattr(address, name, value)
        if change.bank:
            _set_default_account(client, change.bank)
        client.phones += [Phone(kind="work", number=n) for n in change.phones]
        client.emails += [Email(kind="work", address=a) for a in change.emails]
        for new in change.new_persons:
            person = Person(name=new["name"], position=new["position"])
            client.persons.append(person)
            person.phones = [Phone(kind="work", number=n, client=client) for n in new["phones"]]
            person.emails = [Email(kind="work", address=a, client=client) for a in new["emails"]]
            persons += 1
        by_id = {p.id: p for p in client.persons}
        for person_id, what in change.person_changes.items():
            person = by_id[person_id]
            if "position" in what:
                person.position = what["position"]
            person.phones += [
                Phone(kind="work", number=n, client=client) for n in what.get("phones", ())
            ]
            person.emails += [
                Email(kind="work", address=a, client=client) for a in what.get("emails", ())
            ]
    session.flush()
    return persons


def _set_default_account(client: Client, values: dict[str, str]) -> None:
    """The file's account becomes the client's default: the client's account with that IBAN if
    there is one (no IBAN twice), else the default account (its IBAN changed), else a new one.
    Other accounts stay, no longer default."""
    accounts = sorted(client.bank_accounts, key=lambda a: a.id)
    account = next((a for a in accounts if a.iban == values["iban"]), None) or next(
        (a for a in accounts if a.is_default), None
    )
    if account is None:
        account = BankAccount(bic="", bank_name="")
        client.bank_accounts.append(account)
    for name, value in values.items():
        setattr(account, name, value)
    account.is_default = True
    for other in accounts:
        if other is not account and other.is_default:
            other.is_default = False
