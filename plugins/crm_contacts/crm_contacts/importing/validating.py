"""Validating the clients of a file: each client's cells, and the phones, emails and contact
persons of each of its rows, through ``ClientSchema``; each error names its row and column."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from typing import Any

from marshmallow import ValidationError

from crm_contacts.importing.plan import _Draft, _Lookups
from crm_contacts.importing.reading import (
    ADDRESS_COLUMNS,
    BANK_COLUMNS,
    NOT_CLEARABLE,
    PERSON_COLUMNS,
    SCALAR_FIELDS,
    RowError,
    _split,
)
from crm_contacts.schemas import ClientSchema


def _client_input(
    cells: dict[str, str], columns: set[str], country: str, lookups: _Lookups
) -> tuple[dict[str, Any], dict[str, int | None], dict[str, str]]:
    """What ``ClientSchema`` loads of a client's own cells, the ids of the customer group and the
    responsible user the file names, and the messages (by column) of those lookups."""
    errors: dict[str, str] = {}
    raw: dict[str, Any] = {}
    ids: dict[str, int | None] = {}
    for name in SCALAR_FIELDS:
        if name not in columns:
            continue
        value = cells.get(name, "").strip()
        if name in NOT_CLEARABLE and not value:
            continue
        raw[name] = value if value or name != "payment_term_days" else None
    raw["country"] = raw.get("country") or country
    # Named in the file, looked up here: the ids found need no second check by the schema (which
    # would cost a session lookup per row), so they join the data after it is loaded.
    if group := cells.get("customer_group", "").strip():
        if (group_id := lookups.groups.get(group.casefold())) is None:
            errors["customer_group"] = f"No customer group is named “{group}”."
        ids["customer_group_id"] = group_id
    if region := cells.get("region", "").strip():
        if (region_id := lookups.regions.get(region.casefold())) is None:
            errors["region"] = f"No region is named “{region}”."
        ids["region_id"] = region_id
    if login := cells.get("responsible", "").strip():
        if (user_id := lookups.users.get(login.casefold())) is None:
            errors["responsible"] = f"No user has the login “{login}”."
        ids["responsible_id"] = user_id
    raw["tags"] = _split(cells.get("tags", ""))
    address = {c: cells.get(c, "").strip() for c in ADDRESS_COLUMNS if c in columns}
    raw["addresses"] = [{**address, "country": raw["country"]}] if any(address.values()) else []
    bank = {c: cells.get(c, "").strip() for c in BANK_COLUMNS if c in columns}
    if bank.get("iban"):
        raw["bank_accounts"] = [bank]
    elif any(bank.values()):
        errors["iban"] = "Required with a BIC or a bank name (those of the account with this IBAN)."
    return raw, ids, errors


_ERROR_COLUMNS = {
    "customer_group_id": "customer_group",
    "region_id": "region",
    "responsible_id": "responsible",
    "addresses": "street",
    "phones": "phone",
    "emails": "email",
    "persons": "person_name",
    "bank_accounts": "iban",
}


_PERSON_ERROR_COLUMNS = {
    "name": "person_name",
    "position": "person_position",
    "phones": "person_phone",
    "emails": "person_email",
}


def _flatten(messages: Any, path: tuple = ()) -> Iterator[tuple[tuple, str]]:
    if isinstance(messages, dict):
        for key, value in messages.items():
            yield from _flatten(value, (*path, key))
    elif isinstance(messages, list):
        for message in messages:
            yield from _flatten(message, path)
    else:
        yield path, str(messages)


def _column(path: tuple) -> str:
    """The CSV column of a ``ClientSchema`` error path (``persons.0.phones.1.number``...)."""
    if not path or path[0] == "_schema":
        return ""
    head = path[0]
    if head == "addresses" and len(path) >= 3:
        return "country" if path[2] == "country" else str(path[2])
    if head == "persons" and len(path) >= 3:
        return _PERSON_ERROR_COLUMNS.get(path[2], "person_name")
    if head == "bank_accounts" and len(path) >= 3 and path[2] in BANK_COLUMNS:
        return str(path[2])
    return _ERROR_COLUMNS.get(head, str(head))


def _validate(
    draft: _Draft,
    rows: dict[int, dict[str, str]],
    columns: set[str],
    lookups: _Lookups,
    schema: ClientSchema,
    errors: list[RowError],
) -> None:
    """Validate the client of ``draft`` with ``ClientSchema``: its own cells, and the phones,
    emails and contact persons of each of its rows. Each error names the row it comes from."""
    existing_country = lookups.countries.get(draft.existing_id) if draft.existing_id else None
    country = draft.cells.get("country", "").strip() or existing_country or "BG"
    first = draft.rows[0]
    raw, ids, lookup_errors = _client_input(draft.cells, columns, country, lookups)
    # Which row each phone, email and person of the lists below comes from.
    sources: dict[str, list[int]] = {"phones": [], "emails": [], "persons": []}
    raw["phones"], raw["emails"], raw["persons"] = [], [], []
    for number in draft.rows:
        cells = rows[number]
        for phone in _split(cells.get("phone", "")):
            raw["phones"].append({"kind": "work", "number": phone})
            sources["phones"].append(number)
        for email in _split(cells.get("email", "")):
            raw["emails"].append({"kind": "work", "address": email})
            sources["emails"].append(number)
        person = {c: cells.get(c, "").strip() for c in PERSON_COLUMNS}
        if any(person.values()):
            raw["persons"].append(
                {
                    "name": person["person_name"],
                    "position": person["person_position"],
                    "phones": [{"kind": "work", "number": p}
                               for p in _split(person["person_phone"])],
                    "emails": [{"kind": "work", "address": e}
                               for e in _split(person["person_email"])],
                }
            )  # fmt: skip
            sources["persons"].append(number)
    for column, message in lookup_errors.items():
        errors.append(RowError(draft.origin.get(column, first), column, message))
    try:
        data = schema.load(raw)
    except ValidationError as exc:
        for path, message in _flatten(exc.messages):
            column = _column(path)
            if path and path[0] in sources and len(path) > 1 and isinstance(path[1], int):
                row = sources[path[0]][path[1]]
            else:
                row = draft.origin.get(column, first)
            errors.append(RowError(row, column, message))
        draft.action = "error"
        return
    if lookup_errors:
        draft.action = "error"
        return
    _merge(draft, {**data, **ids}, columns)


def _merge(draft: _Draft, data: dict[str, Any], columns: set[str]) -> None:
    draft.data = {
        k: data.get(k)
        for k in (*SCALAR_FIELDS, "customer_group_id", "region_id", "responsible_id")
        if k in data
    }
    applied = {c for c in SCALAR_FIELDS if c in columns}
    applied -= {c for c in NOT_CLEARABLE if not draft.cells.get(c, "").strip()}
    if "customer_group" in columns:
        applied.add("customer_group_id")
    if "region" in columns:
        applied.add("region_id")
    if "responsible" in columns:
        applied.add("responsible_id")
    draft.applied = applied
    draft.tags = data["tags"] if "tags" in columns else None
    if data["addresses"]:
        address = data["addresses"][0]
        draft.address = {c: address[c] for c in ADDRESS_COLUMNS if c in columns}
    if data["bank_accounts"]:
        account = data["bank_accounts"][0]
        draft.bank = {c: account[c] for c in BANK_COLUMNS if c in columns}
    draft.phones = _unique(p["number"] for p in data["phones"])
    draft.emails = _unique(e["address"] for e in data["emails"])
    for person in data["persons"]:
        key = person["name"].strip().casefold()
        known = draft.persons.setdefault(
            key, {"name": person["name"], "position": person["position"], "phones": [],
                  "emails": []}
        )  # fmt: skip
        known["position"] = known["position"] or person["position"]
        known["phones"] = _unique([*known["phones"], *(p["number"] for p in person["phones"])])
        known["emails"] = _unique([*known["emails"], *(e["address"] for e in person["emails"])])


def _unique(values: Iterable[str]) -> list[str]:
    """In order, without repeats; email addresses compare without case."""
    seen: dict[str, str] = {}
    for value in values:
        seen.setdefault(value.casefold(), value)
    return list(seen.values())
