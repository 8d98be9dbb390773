"""CSV import and export of clients with their contact persons, shared by the import page and
``crm contacts import/export``.

The format
----------
UTF-8 (with or without a byte-order mark), comma-separated, one header row. Columns, in any order;
only ``name`` is required, and a column left out of the file leaves that field of existing clients
as it is:

``name``, ``kind`` (company / individual), ``legal_name``, ``registration_number``,
``vat_number``, ``country`` (two letters, BG by default), ``customer_group`` (its name),
``responsible`` (a user's login), ``status`` (prospect / active / inactive), ``tags`` (separated by
``;``), ``website``, ``payment_term_days``, ``invoice_remarks``, ``goods_description``,
``document_language``, ``street``, ``city``, ``postal_code`` (the head office address), ``phone``,
``email`` (the client's own; several separated by ``;``), and the contact person of the row:
``person_name``, ``person_position``, ``person_phone``, ``person_email``.

Rows with the same key are one client with several contact persons: the key is the VAT number
(rows without one: the name), or the name alone with ``key="name"``. The client's own cells of such
rows must agree (or be left empty on all but the first). Row numbers are a spreadsheet's: the
header is row 1.

What an import does
-------------------
Every row is validated with ``ClientSchema`` (VAT and phone numbers per the client's country, email
addresses...). An error names the row and the column (``row 7, vat_number: Not a valid VAT number
for BG.``) and, while any row has one, nothing is written. A client whose key matches an existing
client is updated (fields of the file's columns; phones, emails and persons not there yet are
added, none is removed), else created. Names of new clients that look like another client's
(``token_sort_ratio`` >= 90, rapidfuzz) are reported as warnings. Importing the same file twice
changes nothing the second time, and an export imports back as a no-op.

New clients are inserted in bulk (SQL ``INSERT``\\s of many rows), which is what makes 100,000
clients fit in a minute; bulk inserts bypass the audit trail, so an imported client's history
starts at the import. Updates of existing clients go through the ORM and are audited.
"""

from __future__ import annotations

import bisect
import csv
import functools
import io
import re
from collections import defaultdict
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any

from marshmallow import ValidationError
from rapidfuzz import fuzz, process
from sqlalchemy import insert, select
from sqlalchemy.orm import Session, selectinload

from core.models import User, utcnow
from crm_contacts.models import (
    Address,
    Client,
    CustomerGroup,
    Email,
    Person,
    Phone,
    Tag,
    client_tag,
)
from crm_contacts.schemas import ClientSchema
from crm_contacts.search import search_text_of
from crm_contacts.validation import format_phone, normalise_country, normalise_vat

CLIENT_COLUMNS = (
    "name",
    "kind",
    "legal_name",
    "registration_number",
    "vat_number",
    "country",
    "customer_group",
    "responsible",
    "status",
    "tags",
    "website",
    "payment_term_days",
    "invoice_remarks",
    "goods_description",
    "document_language",
    "street",
    "city",
    "postal_code",
    "phone",
    "email",
)
PERSON_COLUMNS = ("person_name", "person_position", "person_phone", "person_email")
COLUMNS = CLIENT_COLUMNS + PERSON_COLUMNS
KEYS = ("vat_number", "name")
ADDRESS_COLUMNS = ("street", "city", "postal_code")
# Client fields taken as they are; the others (group, responsible, tags, address, phones...) are
# looked up or built.
SCALAR_FIELDS = (
    "name",
    "kind",
    "legal_name",
    "registration_number",
    "vat_number",
    "country",
    "status",
    "website",
    "payment_term_days",
    "invoice_remarks",
    "goods_description",
    "document_language",
)
# An empty cell of these means "the default" (or "unchanged"): they cannot be empty.
NOT_CLEARABLE = ("kind", "status", "country")
SIMILARITY = 90
PREVIEW_ROWS = 20
BATCH = 500
MULTI_SEPARATOR = ";"

Progress = Callable[[int], None]


@dataclass(frozen=True)
class RowError:
    row: int
    column: str
    message: str

    def __str__(self) -> str:
        return (
            f"row {self.row}, {self.column}: {self.message}"
            if self.column
            else (f"row {self.row}: {self.message}")
        )


@dataclass(frozen=True)
class RowWarning:
    row: int
    message: str

    def __str__(self) -> str:
        return f"row {self.row}: {self.message}"


@dataclass
class PreviewRow:
    row: int
    name: str
    vat_number: str
    city: str
    person: str
    action: str  # create, update, unchanged or error
    notes: list[str] = field(default_factory=list)


@dataclass
class _Draft:
    """One client of the file: its rows merged and validated."""

    key: str
    rows: list[int]
    cells: dict[str, str]  # the client's cells (first row, completed by later ones)
    origin: dict[str, int] = field(default_factory=dict)  # cells completed: from which row
    first: dict[str, str] = field(default_factory=dict)  # the first row as it was
    data: dict[str, Any] = field(default_factory=dict)  # validated scalar fields
    applied: set[str] = field(default_factory=set)  # client fields the file sets
    tags: list[str] | None = None
    address: dict[str, str] | None = None
    phones: list[str] = field(default_factory=list)
    emails: list[str] = field(default_factory=list)
    persons: dict[str, dict[str, Any]] = field(default_factory=dict)  # by case-folded name
    existing_id: int | None = None
    action: str = "create"


@dataclass
class _Change:
    """What an import changes in one existing client."""

    client_id: int
    fields: dict[str, Any]
    tags: list[str] | None
    address: dict[str, str] | None  # values to set on the head office address (made if none)
    phones: list[str]
    emails: list[str]
    new_persons: list[dict[str, Any]]
    person_changes: dict[int, dict[str, Any]]  # person id: position / phones / emails to add


@dataclass
class ImportPlan:
    """What importing a file would do; ``apply_import`` does it when ``valid``."""

    key: str
    columns: tuple[str, ...] = ()
    rows: int = 0
    errors: list[RowError] = field(default_factory=list)
    warnings: list[RowWarning] = field(default_factory=list)
    preview: list[PreviewRow] = field(default_factory=list)
    creates: list[_Draft] = field(default_factory=list)
    updates: list[_Change] = field(default_factory=list)
    unchanged: int = 0

    @property
    def valid(self) -> bool:
        return not self.errors

    @property
    def persons(self) -> int:
        return sum(len(d.persons) for d in self.creates)


@dataclass(frozen=True)
class ImportResult:
    created: int
    updated: int
    unchanged: int
    persons: int


# --- reading -------------------------------------------------------------------------------------


def decode(content: bytes | str) -> str:
    """The text of an uploaded file; a ``ValidationError`` saying where, if it is not UTF-8."""
    if isinstance(content, str):
        return content.removeprefix("\ufeff")
    try:
        return content.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = content.count(b"\n", 0, exc.start) + 1
        raise ValidationError(
            f"The file is not UTF-8 (line {line}). Save it as “CSV UTF-8” and upload it again."
        ) from None


def read_rows(text: str) -> tuple[list[str], list[tuple[int, list[str]]], list[RowError]]:
    """The header and the (row number, cells) of the non-empty rows."""
    records = csv.reader(io.StringIO(text, newline=""))
    header = [h.strip().lower() for h in next(records, [])]
    errors: list[RowError] = []
    if not any(header):
        return [], [], [RowError(1, "", "The file is empty: it needs a header row.")]
    if ";" in header[0] and len(header) == 1:
        return header, [], [RowError(1, "", "Columns must be separated by commas, not “;”.")]
    for column in header:
        if column not in COLUMNS:
            errors.append(RowError(1, column or "(empty)", "Unknown column. " + _COLUMNS_HINT))
    for column in {c for c in header if header.count(c) > 1}:
        errors.append(RowError(1, column, "The column appears twice."))
    if "name" not in header:
        errors.append(RowError(1, "name", "The column is required."))
    rows = []
    for number, cells in enumerate(records, start=2):
        if not any(c.strip() for c in cells):
            continue
        if len(cells) > len(header):
            errors.append(
                RowError(number, "", f"{len(cells)} cells, but the header has {len(header)}.")
            )
            continue
        rows.append((number, cells))
    return header, rows, errors


_COLUMNS_HINT = "The columns are: " + ", ".join(COLUMNS) + "."


def _split(value: str) -> list[str]:
    return [v.strip() for v in value.split(MULTI_SEPARATOR) if v.strip()]


# --- planning ------------------------------------------------------------------------------------


class _Lookups:
    """What rows refer to by name: customer groups, users, and the existing clients."""

    def __init__(self, session: Session) -> None:
        # Whole objects, held here: ClientSchema checks the ids with session.get, which then finds
        # them in the identity map instead of asking the database once per row.
        self._loaded = [
            *session.scalars(select(CustomerGroup)),
            *session.scalars(select(User)),
        ]
        self.groups = {
            g.name.casefold(): g.id for g in self._loaded if isinstance(g, CustomerGroup)
        }
        self.users = {u.login.casefold(): u.id for u in self._loaded if isinstance(u, User)}
        # Through the session: record rules apply, an import sees the clients its user sees.
        self.by_vat: dict[str, list[int]] = defaultdict(list)
        self.by_name: dict[str, list[int]] = defaultdict(list)
        self.names: dict[int, str] = {}
        self.countries: dict[int, str] = {}
        for id_, name, vat, country in session.execute(
            select(Client.id, Client.name, Client.vat_number, Client.country)
        ):
            self.names[id_] = name
            self.countries[id_] = country
            self.by_name[name.strip().casefold()].append(id_)
            if vat:
                self.by_vat[vat].append(id_)


def _vat_key(cells: dict[str, str]) -> str:
    """The normalised VAT number for grouping and matching; what is invalid is compacted only
    (its row gets an error from the schema anyway)."""
    return _compact_vat(cells.get("vat_number", "").strip(), cells.get("country", "").strip())


@functools.lru_cache(maxsize=4096)
def _compact_vat(raw: str, country: str) -> str:
    if not raw:
        return ""
    try:
        country = normalise_country(country or "BG")
    except ValidationError:
        country = "BG"
    try:
        return normalise_vat(raw, country)
    except ValidationError:
        return re.sub(r"[\s.\-/]", "", raw).upper()


def _group_rows(
    key: str, rows: list[tuple[int, dict[str, str]]], errors: list[RowError]
) -> list[_Draft]:
    """Rows with the same key become one draft; rows without a VAT number join the client of the
    file with the same name, if there is exactly one."""
    drafts: dict[str, _Draft] = {}
    vat_by_name: dict[str, set[str]] = defaultdict(set)
    keyed: list[tuple[int, dict[str, str], str]] = []
    for number, cells in rows:
        name = cells.get("name", "").strip().casefold()
        vat = _vat_key(cells) if key == "vat_number" else ""
        if vat:
            vat_by_name[name].add(vat)
        keyed.append((number, cells, vat))
    for number, cells, vat in keyed:
        name = cells.get("name", "").strip().casefold()
        if vat:
            group_key = "vat:" + vat
        elif len(vat_by_name.get(name, ())) == 1:
            group_key = "vat:" + next(iter(vat_by_name[name]))
        else:
            group_key = "name:" + name
        draft = drafts.get(group_key)
        if draft is None:
            drafts[group_key] = _Draft(group_key, [number], dict(cells), first=cells)
            continue
        draft.rows.append(number)
        if all(cells.get(c, "") == draft.first.get(c, "") for c in _COMPARED):
            continue  # the client's cells repeated, as an export writes them
        for column in CLIENT_COLUMNS:
            value = cells.get(column, "").strip()
            first = draft.cells.get(column, "").strip()
            if not value or column in ("phone", "email"):
                continue  # each row may add phones and emails of the client
            if not first:
                draft.cells[column] = value
                draft.origin[column] = number
            elif not _same(column, value, first, cells, draft.cells):
                errors.append(
                    RowError(
                        number,
                        column,
                        f"Differs from row {draft.rows[0]}, the same client: repeat “{first}” or "
                        "leave the cell empty.",
                    )
                )
    return list(drafts.values())


_COMPARED = tuple(c for c in CLIENT_COLUMNS if c not in ("phone", "email"))


def _same(column: str, a: str, b: str, a_cells: dict[str, str], b_cells: dict[str, str]) -> bool:
    if column == "vat_number":
        return _vat_key(a_cells) == _vat_key(b_cells)
    if column in ("name", "customer_group", "responsible", "kind", "status", "country"):
        return a.casefold() == b.casefold()
    if column == "tags":
        return sorted(_split(a)) == sorted(_split(b))
    return a == b


def _match(draft: _Draft, key: str, lookups: _Lookups) -> RowError | None:
    name = draft.cells.get("name", "").strip().casefold()
    if draft.key.startswith("vat:"):
        found = lookups.by_vat.get(draft.key[4:], [])
        what = "VAT number"
    else:
        found = lookups.by_name.get(name, []) if name else []
        what = "name"
    if len(found) > 1:
        ids = ", ".join(f"#{i}" for i in found[:5])
        column = "vat_number" if what == "VAT number" else "name"
        return RowError(
            draft.rows[0],
            column,
            f"{len(found)} existing clients have this {what} ({ids}): merge them first, or import "
            "by another key.",
        )
    if found:
        draft.existing_id = found[0]
    return None


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
    if login := cells.get("responsible", "").strip():
        if (user_id := lookups.users.get(login.casefold())) is None:
            errors["responsible"] = f"No user has the login “{login}”."
        ids["responsible_id"] = user_id
    raw["tags"] = _split(cells.get("tags", ""))
    address = {c: cells.get(c, "").strip() for c in ADDRESS_COLUMNS if c in columns}
    raw["addresses"] = [{**address, "country": raw["country"]}] if any(address.values()) else []
    return raw, ids, errors


_ERROR_COLUMNS = {
    "customer_group_id": "customer_group",
    "responsible_id": "responsible",
    "addresses": "street",
    "phones": "phone",
    "emails": "email",
    "persons": "person_name",
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
        k: data.get(k) for k in (*SCALAR_FIELDS, "customer_group_id", "responsible_id") if k in data
    }
    applied = {c for c in SCALAR_FIELDS if c in columns}
    applied -= {c for c in NOT_CLEARABLE if not draft.cells.get(c, "").strip()}
    if "customer_group" in columns:
        applied.add("customer_group_id")
    if "responsible" in columns:
        applied.add("responsible_id")
    draft.applied = applied
    draft.tags = data["tags"] if "tags" in columns else None
    if data["addresses"]:
        address = data["addresses"][0]
        draft.address = {c: address[c] for c in ADDRESS_COLUMNS if c in columns}
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


def plan_import(
    session: Session,
    content: bytes | str,
    key: str = "vat_number",
    progress: Progress | None = None,
) -> ImportPlan:
    """Read and check ``content`` (a CSV file) and work out what importing it would do. Writes
    nothing. ``progress(n)`` is told of every ``n`` rows checked."""
    if key not in KEYS:
        raise ValueError(f"key must be one of {KEYS}")
    plan = ImportPlan(key=key)
    try:
        text = decode(content)
    except ValidationError as exc:
        plan.errors.append(RowError(1, "", str(exc.messages[0])))
        return plan
    header, records, errors = read_rows(text)
    plan.errors.extend(errors)
    plan.columns = tuple(header)
    plan.rows = len(records)
    if any(e.row == 1 for e in errors):
        return plan
    columns = set(header)
    rows = {number: dict(zip(header, cells, strict=False)) for number, cells in records}
    drafts = _group_rows(key, list(rows.items()), plan.errors)
    lookups = _Lookups(session)
    schema = ClientSchema()
    done = 0
    for draft in drafts:
        if error := _match(draft, key, lookups):
            plan.errors.append(error)
            draft.action = "error"
        _validate(draft, rows, columns, lookups, schema, plan.errors)
        if progress is not None:
            done += len(draft.rows)
            if done >= BATCH:
                progress(done)
                done = 0
    if progress is not None and done:
        progress(done)
    good = [d for d in drafts if d.action != "error"]
    _plan_changes(session, good, plan)
    _flag_similar(plan, good, lookups)
    _flag_vat_elsewhere(plan, good, lookups, key)
    plan.errors.sort(key=lambda e: (e.row, COLUMNS.index(e.column) if e.column in COLUMNS else -1))
    plan.warnings.sort(key=lambda w: w.row)
    _preview(plan, drafts, rows)
    return plan


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
        select(Client.id, Client.customer_group_id, Client.responsible_id, *scalars).where(
            Client.id.in_(ids)
        )
    ):
        values = row._asdict()
        values.update(tags=set(), address=None, phones=set(), emails=set(), persons={})
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
    if not (fields or tags is not None or address or phones or emails or new_persons) and (
        not person_changes
    ):
        return None
    return _Change(
        draft.existing_id, fields, tags, address, phones, emails, new_persons, person_changes
    )


def _prepare(name: str) -> str:
    # token_sort_ratio is the plain ratio of the names' sorted words: sorting once per name, and
    # not once per comparison, is what keeps 100,000 names in seconds.
    return " ".join(sorted(name.casefold().split()))


def _flag_similar(plan: ImportPlan, drafts: list[_Draft], lookups: _Lookups) -> None:
    """Warn of new clients whose names look like an existing client's or another new one's.

    Compared within blocks of the same first letter, and only with names of a length that can
    reach the threshold (the ratio cannot exceed 90 when one name is more than 11/9 of the other).
    """
    new_by_block: dict[str, list[tuple[int, str, _Draft]]] = defaultdict(list)
    for draft in (d for d in drafts if d.action == "create"):
        prepared = _prepare(draft.data["name"])
        if prepared:
            new_by_block[draft.data["name"].strip().casefold()[:1]].append(
                (len(prepared), prepared, draft)
            )
    old_by_block: dict[str, list[tuple[int, str, int]]] = defaultdict(list)
    for id_, name in lookups.names.items():
        prepared = _prepare(name)
        block = name.strip().casefold()[:1]
        if prepared and block in new_by_block:
            old_by_block[block].append((len(prepared), prepared, id_))
    found: dict[int, list[str]] = defaultdict(list)
    for block, new in new_by_block.items():
        new.sort(key=lambda item: item[0])
        old = sorted(old_by_block.get(block, []), key=lambda item: item[0])
        old_lengths = [item[0] for item in old]
        old_names = [item[1] for item in old]
        new_lengths = [item[0] for item in new]
        new_names = [item[1] for item in new]
        for index, (length, prepared, draft) in enumerate(new):
            low, high = -(-9 * length // 11), 11 * length // 9
            start, stop = (
                bisect.bisect_left(old_lengths, low),
                bisect.bisect_right(old_lengths, high),
            )
            for _, _score, at in process.extract(
                prepared, old_names[start:stop], scorer=fuzz.ratio, processor=None,
                score_cutoff=SIMILARITY, limit=3,
            ):  # fmt: skip
                id_ = old[start + at][2]
                if id_ != draft.existing_id:
                    found[draft.rows[0]].append(f"{lookups.names[id_]} (#{id_})")
            stop = bisect.bisect_right(new_lengths, high)
            for _, _score, at in process.extract(
                prepared, new_names[index + 1 : stop], scorer=fuzz.ratio, processor=None,
                score_cutoff=SIMILARITY, limit=3,
            ):  # fmt: skip
                other = new[index + 1 + at][2]
                first, later = sorted((draft, other), key=lambda d: d.rows[0])
                found[later.rows[0]].append(f"{first.data['name']} (row {first.rows[0]})")
    for row, names in found.items():
        plan.warnings.append(RowWarning(row, "Possible duplicate of " + "; ".join(names[:3]) + "."))


def _flag_vat_elsewhere(
    plan: ImportPlan, drafts: list[_Draft], lookups: _Lookups, key: str
) -> None:
    """Importing by name, a VAT number that another client has is worth a look."""
    if key != "name":
        return
    for draft in drafts:
        vat = draft.data.get("vat_number")
        others = [i for i in lookups.by_vat.get(vat, []) if i != draft.existing_id] if vat else []
        if others:
            names = "; ".join(f"{lookups.names[i]} (#{i})" for i in others[:3])
            plan.warnings.append(
                RowWarning(draft.rows[0], f"Possible duplicate of {names}: same VAT number.")
            )


def _preview(plan: ImportPlan, drafts: list[_Draft], rows: dict[int, dict[str, str]]) -> None:
    action = {number: d.action for d in drafts for number in d.rows}
    action.update({e.row: "error" for e in plan.errors})
    notes: dict[int, list[str]] = defaultdict(list)
    for error in plan.errors:
        notes[error.row].append(str(error).split(", ", 1)[1] if error.column else error.message)
    for warning in plan.warnings:
        notes[warning.row].append(warning.message)
    for number in sorted(rows)[:PREVIEW_ROWS]:
        cells = rows[number]
        plan.preview.append(
            PreviewRow(
                number,
                cells.get("name", ""),
                cells.get("vat_number", ""),
                cells.get("city", ""),
                cells.get("person_name", ""),
                action.get(number, "error"),
                notes.get(number, []),
            )
        )


# --- writing -------------------------------------------------------------------------------------


def apply_import(
    session: Session, plan: ImportPlan, progress: Progress | None = None
) -> ImportResult:
    """Do what ``plan`` says, in the session's transaction (the caller commits). Refuses a plan
    with errors. ``progress(n)`` is told of every ``n`` clients written."""
    if not plan.valid:
        raise ValueError("the import has errors; nothing may be written")
    tag_ids = _tag_ids(session, plan)
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


def _tag_ids(session: Session, plan: ImportPlan) -> dict[str, int]:
    wanted = {t for d in plan.creates for t in d.tags or ()}
    wanted |= {t for c in plan.updates for t in c.tags or ()}
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


def _search_text(draft: _Draft) -> str:
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
    "responsible_id": None,
    "status": "prospect",
    "website": "",
    "payment_term_days": None,
    "invoice_remarks": "",
    "goods_description": "",
    "document_language": "",
}


def _insert_clients(session: Session, drafts: list[_Draft], tag_ids: dict[str, int]) -> int:
    now = utcnow()
    values = [
        {
            **_DEFAULTS,
            **d.data,
            "notes": "",
            "search_text": _search_text(d),
            "created_at": now,
            "version": 1,
        }
        for d in drafts
    ]
    # Core inserts into the tables: the ORM's bulk mode costs as much again, for nothing here.
    clients = Client.__table__
    ids = session.scalars(
        insert(clients).returning(clients.c.id, sort_by_parameter_order=True), values
    ).all()
    person_rows, person_owners = [], []
    for client_id, draft in zip(ids, drafts, strict=True):
        for person in draft.persons.values():
            person_rows.append(
                {"client_id": client_id, "name": person["name"], "position": person["position"],
                 "department": "", "is_primary": False, "notes": ""}
            )  # fmt: skip
            person_owners.append((client_id, person))
    people = Person.__table__
    person_ids = (
        session.scalars(
            insert(people).returning(people.c.id, sort_by_parameter_order=True), person_rows
        ).all()
        if person_rows
        else []
    )
    phones, emails, addresses, tags = [], [], [], []
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
        tags += [{"client_id": client_id, "tag_id": tag_ids[t]} for t in draft.tags or ()]
    for person_id, (client_id, person) in zip(person_ids, person_owners, strict=True):
        phones += [{"client_id": client_id, "person_id": person_id, "kind": "work", "number": n}
                   for n in person["phones"]]  # fmt: skip
        emails += [{"client_id": client_id, "person_id": person_id, "kind": "work", "address": a}
                   for a in person["emails"]]  # fmt: skip
    for model, rows in ((Phone, phones), (Email, emails), (Address, addresses)):
        if rows:
            session.execute(insert(model.__table__), rows)
    if tags:
        session.execute(insert(client_tag), tags)
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


# --- export --------------------------------------------------------------------------------------


def export_csv(session: Session, batch: int = BATCH) -> Iterator[str]:
    """The clients ``session`` sees (record rules apply during a request), with their persons, as
    CSV text in chunks: one row per contact person, one row for a client without any. Importing
    it back changes nothing."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
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
                User.login.label("responsible"),
            )
            .outerjoin(CustomerGroup, CustomerGroup.id == Client.customer_group_id)
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
            "responsible": client.responsible or "",
            "street": address.get("street", ""),
            "city": address.get("city", ""),
            "postal_code": address.get("postal_code", ""),
            "phone": "; ".join(format_phone(n) for n in snapshot["phones"]),
            "email": "; ".join(snapshot["emails"]),
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
        i: {"tags": set(), "address": None, "phones": [], "emails": [], "persons": []} for i in ids
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


def count_rows(content: bytes | str) -> int:
    """About how many rows a file has (for a progress bar's length)."""
    data = content if isinstance(content, bytes) else content.encode()
    return max(data.count(b"\n") - 1, 0) + (0 if data.endswith(b"\n") else 1)
