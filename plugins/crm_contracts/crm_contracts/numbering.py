"""Contract numbers: ``<prefix><year>-<counter>``, e.g. ``C-2026-0007``, from a counter per prefix
and year kept in ``crm_contracts_sequence``.

The counter moves in one statement (``INSERT ... ON CONFLICT DO UPDATE ... RETURNING``), which the
database runs atomically: two workers creating contracts at the same moment on PostgreSQL get two
numbers (the second waits for the first's row lock until it commits), never the same one, and a
rolled-back creation leaves no gap-filling race behind. SQLite serialises writers anyway.
"""

from __future__ import annotations

from sqlalchemy import literal, select
from sqlalchemy.orm import Session

from core.timezone import local_today
from crm_contracts.models import DEFAULT_TYPES, ContractType, NumberSequence, Settings


def settings(session: Session) -> Settings:
    """The module's settings row, created with the defaults when missing."""
    found = session.get(Settings, 1)
    if found is None:
        found = Settings(id=1)  # the columns' defaults
        session.add(found)
        session.flush()
    return found


def add_default_types(session: Session) -> None:
    session.add_all(
        ContractType(code=code, name=name, order=10 * (i + 1))
        for i, (code, name) in enumerate(DEFAULT_TYPES)
    )


def format_number(prefix: str, year: int, counter: int, digits: int) -> str:
    return f"{prefix}{year}-{counter:0{digits}d}"


def next_number(session: Session) -> str:
    """Allocate the next number of this year (in the installation's time zone).

    The counter is written before anything is read, with the prefix taken from the settings in
    the same statement: on SQLite a transaction that read first and wrote second could find
    another writer between the two and fail with "database is locked" instead of waiting.
    """
    year = local_today().year
    table = NumberSequence.__table__
    if session.get_bind().dialect.name == "postgresql":
        from sqlalchemy.dialects.postgresql import insert
    else:
        from sqlalchemy.dialects.sqlite import insert
    source = select(Settings.number_prefix, literal(year), literal(1)).where(Settings.id == 1)
    stmt = (
        insert(table)
        .from_select(["prefix", "year", "last_number"], source)
        .on_conflict_do_update(
            index_elements=[table.c.prefix, table.c.year],
            set_={"last_number": table.c.last_number + 1},
        )
        .returning(table.c.prefix, table.c.last_number)
    )
    allocated = session.execute(stmt).one_or_none()
    if allocated is None:  # no settings row yet: create it with the defaults, then allocate
        settings(session)
        allocated = session.execute(stmt).one()
    prefix, counter = allocated
    digits = session.scalar(select(Settings.number_digits).where(Settings.id == 1))
    return format_number(prefix, year, counter, digits)
