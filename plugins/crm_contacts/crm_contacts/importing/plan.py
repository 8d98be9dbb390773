"""What the steps of an import hand each other: the plan, the clients of the file as drafts, the
changes of existing clients, and what the rows refer to by name."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from core.models import User
from crm_contacts.importing.reading import RowError
from crm_contacts.models import Client, CustomerGroup, Region

BATCH = 500

Progress = Callable[[int], None]
# Told (rows done, of how many: None while unknown, what is being done).
Report = Callable[[int, int | None, str], None]


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
    bank: dict[str, str] | None = None  # the default bank account: iban, and bic / bank_name
    phones: list[str] = field(default_factory=list)
    emails: list[str] = field(default_factory=list)
    persons: dict[str, dict[str, Any]] = field(default_factory=dict)  # by case-folded name
    values: dict[int, dict[str, str]] = field(default_factory=dict)  # its rows' cells, by row
    existing_id: int | None = None
    action: str = "create"
    search_text: str = ""  # of a new client, computed where it was validated


@dataclass
class _Change:
    """What an import changes in one existing client."""

    client_id: int
    fields: dict[str, Any]
    tags: list[str] | None
    address: dict[str, str] | None  # values to set on the head office address (made if none)
    bank: dict[str, str] | None  # values of the default bank account (see _set_default_account)
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
    # New clients and changes: counted always, kept for ``apply_import`` when asked to.
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    creates: list[_Draft] = field(default_factory=list)
    updates: list[_Change] = field(default_factory=list)
    persons_added: int = 0  # written by ``run_import(write=True)``

    @property
    def valid(self) -> bool:
        return not self.errors

    @property
    def persons(self) -> int:
        return sum(len(d.persons) for d in self.creates)


class _Lookups:
    """What rows refer to by name: customer groups, users, and the existing clients."""

    def __init__(self, session: Session) -> None:
        # Whole objects, held here: ClientSchema checks the ids with session.get, which then finds
        # them in the identity map instead of asking the database once per row.
        self._loaded = [
            *session.scalars(select(CustomerGroup)),
            *session.scalars(select(Region)),
            *session.scalars(select(User)),
        ]
        self.groups = {
            g.name.casefold(): g.id for g in self._loaded if isinstance(g, CustomerGroup)
        }
        self.regions = {r.name.casefold(): r.id for r in self._loaded if isinstance(r, Region)}
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
