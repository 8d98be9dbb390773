"""The columns of the client list: the client's own, crm_contacts' contributed ones (city, phone,
last contact), and those of other modules through ``crm_contacts_client_columns``.

Which columns a user sees is remembered per user (``core.preferences``). Sorting is server-side:
``?sort=<key>`` ascending, ``?sort=-<key>`` descending, checked against the columns that declare
an SQL sort expression; the client id breaks ties in the same direction, so pages never overlap.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, replace
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import ColumnElement, case, func, select
from sqlalchemy.orm import Session

from core import hookimpl
from core.models import User
from core.plugins import collect
from core.state import current_state
from core.timezone import local_zone
from crm_contacts.hookspecs import ClientColumn
from crm_contacts.models import Address, Client, Contact, CustomerGroup, Phone, Region

PREFERENCE = "crm_contacts.client_columns"


@dataclass(frozen=True)
class OwnColumn:
    """A column read from the client row the list loads anyway: no query of its own."""

    key: str
    label: str
    sort: ColumnElement[Any]
    order: int
    numeric: bool = False
    values: None = None
    module: str = "crm_contacts"


def _name_of(model: Any, foreign_key: Any) -> ColumnElement[Any]:
    return select(model.name).where(model.id == foreign_key).scalar_subquery()


_GROUP_NAME = _name_of(CustomerGroup, Client.customer_group_id)
OWN = (
    OwnColumn("vat_number", "VAT number", Client.vat_number, 10),
    OwnColumn("status", "Status", Client.status, 20),
    OwnColumn("customer_group", "Customer group", _GROUP_NAME, 30),
    OwnColumn("region", "Region", _name_of(Region, Client.region_id), 40),
    OwnColumn("representative", "Representative", _name_of(User, Client.responsible_id), 50),
)
DEFAULT = tuple(column.key for column in OWN)
# Always shown, first: the link to the client file.
NAME_SORT = Client.name
# Columns that hold no NULL: plain ORDER BY, which their indexes (name, status) can serve.
NOT_NULL = frozenset({"name", "vat_number", "status"})


# --- crm_contacts' contributed columns: one query each for the page's clients --------------------

# The head office's city first, then the oldest address: what "the client's city" means.
_ADDRESS_ORDER = (case((Address.kind == "head_office", 0), else_=1), Address.id)


def _first_per_client(session: Session, stmt: Any) -> dict[int, Any]:
    found: dict[int, Any] = {}
    for client_id, value in session.execute(stmt):
        found.setdefault(client_id, value)
    return found


def _cities(session: Session, client_ids: list[int]) -> dict[int, Any]:
    return _first_per_client(
        session,
        select(Address.client_id, Address.city)
        .where(Address.client_id.in_(client_ids), Address.city != "")
        .order_by(Address.client_id, *_ADDRESS_ORDER),
    )


def _phones(session: Session, client_ids: list[int]) -> dict[int, Any]:
    # The client's own numbers before its people's.
    return _first_per_client(
        session,
        select(Phone.client_id, Phone.number)
        .where(Phone.client_id.in_(client_ids))
        .order_by(Phone.client_id, Phone.person_id.is_not(None), Phone.id),
    )


def _done_contacts() -> Any:
    return Contact.state == "done"


def _last_contacts(session: Session, client_ids: list[int]) -> dict[int, Any]:
    return dict(
        session.execute(
            select(Contact.client_id, func.max(Contact.starts_at))
            .where(Contact.client_id.in_(client_ids), _done_contacts())
            .group_by(Contact.client_id)
        ).all()
    )


@hookimpl
def crm_contacts_client_columns(user):
    city_sort = (
        select(Address.city)
        .where(Address.client_id == Client.id, Address.city != "")
        .order_by(*_ADDRESS_ORDER)
        .limit(1)
        .scalar_subquery()
    )
    last_contact_sort = (
        select(func.max(Contact.starts_at))
        .where(Contact.client_id == Client.id, _done_contacts())
        .scalar_subquery()
    )
    return [
        ClientColumn("city", "City", _cities, sort=city_sort, order=60),
        # Sorting by a phone number helps nobody: not sortable.
        ClientColumn("phone", "Phone", _phones, order=70),
        ClientColumn("last_contact", "Last contact", _last_contacts, sort=last_contact_sort,
                     order=80),
    ]  # fmt: skip


# --- the columns of a request ---------------------------------------------------------------------


def available(user: Any) -> list[OwnColumn | ClientColumn]:
    """Every column ``user`` may choose, in the order they are offered."""
    errors: dict[str, str] = {}
    contributed = []
    for module, item in collect(
        current_state().pm, "crm_contacts_client_columns", errors, user=user
    ):
        if isinstance(item, ClientColumn) and item.key not in DEFAULT and item.key != "name":
            contributed.append(replace(item, module=module))
    columns: list[OwnColumn | ClientColumn] = [*OWN, *contributed]
    unique = {column.key: column for column in reversed(columns)}  # the first of a key wins
    return sorted(unique.values(), key=lambda c: (c.order, c.label))


def chosen(columns: list[OwnColumn | ClientColumn], keys: Any) -> list[OwnColumn | ClientColumn]:
    """The columns of ``keys`` (a stored choice) that still exist, in the offered order."""
    wanted = set(keys) if isinstance(keys, list) else set(DEFAULT)
    return [column for column in columns if column.key in wanted]


def sort_order(sort: str, columns: list[OwnColumn | ClientColumn]) -> tuple[str, tuple]:
    """The checked ``?sort=`` value and its ORDER BY; an unknown one is the name, A–Z."""
    descending = sort.startswith("-")
    key = sort[1:] if descending else sort
    if key == "name":
        expression: Any = NAME_SORT
    elif key == "created":  # ids grow with creation, and the primary key needs no sort
        return sort, ((Client.id.desc(),) if descending else (Client.id.asc(),))
    else:
        sortable = {c.key: c.sort for c in columns if c.sort is not None}
        if key not in sortable:
            return "name", (Client.name.asc(), Client.id.asc())
        expression = sortable[key]
    ordered = expression.desc() if descending else expression.asc()
    if key not in NOT_NULL:
        # Clients without a value (never contacted, no sales) come last both ways.
        ordered = ordered.nulls_last()
    return sort, (ordered, Client.id.desc() if descending else Client.id.asc())


def fill(
    session: Session, columns: list[OwnColumn | ClientColumn], client_ids: list[int]
) -> dict[str, Mapping[int, Any]]:
    """``{column key: {client id: value}}`` of the contributed columns: one query each."""
    if not client_ids:
        return {}
    return {
        column.key: column.values(session, client_ids) or {}
        for column in columns
        if column.values is not None
    }


def shown(value: Any) -> str:
    """A contributed column's value as the list prints it."""
    if value is None or value == "":
        return "—"
    if isinstance(value, Decimal):
        return f"{value:,.2f}"
    if isinstance(value, datetime):
        # Stored in UTC; SQLite gives it back without its zone.
        aware = value if value.tzinfo else value.replace(tzinfo=UTC)
        return aware.astimezone(local_zone()).date().isoformat()
    if isinstance(value, date):
        return value.isoformat()
    return str(value)
