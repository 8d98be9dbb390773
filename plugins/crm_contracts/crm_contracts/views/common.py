"""Helpers shared by the module's pages: form values in, schema errors out, the records a user may
see, paging."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

from flask import abort, request
from sqlalchemy import ColumnElement, and_, or_, select
from sqlalchemy.orm import joinedload, selectinload

from core.db import db_session
from core.models import User
from core.timezone import local_today
from crm_contacts.models import Client
from crm_contracts.models import IN_FORCE, Contract, ContractType

PER_PAGE = 50
MAX_WITHIN = 3650  # days: the longest "ending within" filter
# A contract as a row of the list or the dashboard: its client's and representative's names.
ROW_OPTIONS = (
    joinedload(Contract.client).load_only(Client.id, Client.name),
    joinedload(Contract.type),
    joinedload(Contract.responsible).load_only(User.id, User.name),
)


def expiring_between(start: date, end: date) -> ColumnElement[bool]:
    """Contracts in force today whose end falls between ``start`` and ``end`` (inclusive)."""
    return and_(
        Contract.status.in_(IN_FORCE),
        Contract.valid_to.is_not(None),
        Contract.valid_to >= start,
        Contract.valid_to <= end,
    )


def ending_within(days: int) -> ColumnElement[bool]:
    """Contracts in force today that end within ``days`` days (at most ``MAX_WITHIN``)."""
    today = local_today()
    return expiring_between(today, today + timedelta(days=min(days, MAX_WITHIN)))


def form_values(names: tuple[str, ...]) -> dict[str, str]:
    return {name: request.form.get(name, "").strip() for name in names}


def form_text(record: Any, names: tuple[str, ...]) -> dict[str, str]:
    """A record's values as its form shows them: dates as YYYY-MM-DD, none as empty."""
    values = {name: getattr(record, name) for name in names}
    return {
        k: "" if v is None else v.isoformat() if hasattr(v, "isoformat") else str(v)
        for k, v in values.items()
    }


def schema_input(values: dict[str, str], optional: tuple[str, ...]) -> dict[str, Any]:
    """Form text shaped for a schema: an empty optional field is none (not an invalid date)."""
    data: dict[str, Any] = dict(values)
    for name in optional:
        if name in data and data[name] == "":
            data[name] = None
    return data


def _messages(value: Any) -> list[str]:
    if isinstance(value, dict):
        return [m for v in value.values() for m in _messages(v)]
    if isinstance(value, list | tuple):
        return [m for v in value for m in _messages(v)]
    return [str(value)]


def form_errors(messages: dict[str, Any]) -> dict[str, list[str]]:
    return {name: _messages(value) for name, value in messages.items()}


def int_arg(name: str) -> int | None:
    # A whole number that fits an INTEGER column (core/inputs.py), else None.
    value = request.args.get(name, type=int)
    return value if value is not None and value >= 0 else None


def load_contract(contract_id: int, *, with_conditions: bool = True) -> Contract:
    """The contract, or 404 when it does not exist or a record rule hides it (a statement, not
    ``session.get``, so that the rules apply)."""
    options = [
        joinedload(Contract.client),
        joinedload(Contract.type),
        joinedload(Contract.responsible),
        joinedload(Contract.predecessor),
        joinedload(Contract.successor),
    ]
    if with_conditions:
        options.append(selectinload(Contract.conditions))
    contract = db_session.scalars(
        select(Contract).where(Contract.id == contract_id).options(*options)
    ).one_or_none()
    if contract is None:
        abort(404)
    return contract


def users(keep: int | None) -> list[Any]:
    """Who can be responsible: the active users, and ``keep`` even if deactivated."""
    condition = User.active if keep is None else or_(User.active, User.id == keep)
    return db_session.execute(
        select(User.id, User.name).where(condition).order_by(User.name, User.id)
    ).all()


def contract_types() -> list[Any]:
    return db_session.execute(
        select(ContractType.id, ContractType.name).order_by(ContractType.order, ContractType.name)
    ).all()
