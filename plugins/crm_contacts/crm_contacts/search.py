"""The client's ``search_text``: everything the client list searches, in one lower-case column.

Kept current by a ``before_flush`` listener on every session, for clients created or changed and
for clients whose addresses, phones, emails or contact persons were (the CSV import computes it
itself with ``search_text_of``, writing clients without the ORM). Searching is a "contains" over
that one column, served by an index made for it where the database has one (migration
``crm_contacts_0004``): SQLite's FTS5 with the trigram tokenizer, kept in step with the column by
triggers, so whatever writes ``search_text`` updates it; PostgreSQL's ``pg_trgm`` GIN index, which
``LIKE '%…%'`` uses by itself. Without either (or for fewer than three characters, which make no
trigram) the search is the ``LIKE`` alone: the same answer, by a scan.
"""

from __future__ import annotations

import re
import weakref
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager, suppress
from typing import Any

from flask import url_for
from phonenumbers import COUNTRY_CODE_TO_REGION_CODE
from sqlalchemy import ColumnElement, Engine, and_, column, event, select, table, text
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session, selectinload

from core import hookimpl
from core.auth import has_permission
from core.db import db_session
from core.search import SearchHit
from crm_contacts.models import Address, Client, Email, Person, Phone
from crm_contacts.permissions import READ

_CHILDREN = (Address, Phone, Email, Person)


def phone_variants(e164: str) -> tuple[str, str]:
    """Digits as stored (+359 2 123 4567 → 35921234567) and as dialled at home (021234567), so a
    search for either finds the client. The country code is read off the table of codes rather
    than by parsing the number again: an import computes this for every phone of 100,000 clients."""
    digits = e164.lstrip("+")
    for length in (1, 2, 3):
        if digits[:length].isdigit() and int(digits[:length]) in COUNTRY_CODE_TO_REGION_CODE:
            return digits, "0" + digits[length:]
    return digits, ""


def search_text_of(
    identifiers: Iterable[str],
    cities: Iterable[str],
    phones: Iterable[str],
    emails: Iterable[str],
    person_names: Iterable[str],
) -> str:
    """The search text from plain values (the CSV import writes clients without the ORM)."""
    words = [*identifiers, *cities]
    words += [variant for number in phones for variant in phone_variants(number)]
    words += [*emails, *person_names]
    return " ".join(w for w in words if w).lower()


def search_text(client: Client) -> str:
    return search_text_of(
        (client.name, client.legal_name, client.vat_number, client.registration_number),
        (a.city for a in client.addresses),
        (p.number for p in client.phones),
        (e.address for e in client.emails),
        (p.name for p in client.persons),
    )


def _affected(session: Session) -> set[Client]:
    clients: set[Client] = set()
    for obj in (*session.new, *session.dirty, *session.deleted):
        if isinstance(obj, Client):
            clients.add(obj)
        elif isinstance(obj, _CHILDREN):
            client = obj.client if obj.client is not None else session.get(Client, obj.client_id)
            if client is not None:
                clients.add(client)
    return clients - set(session.deleted)


@event.listens_for(Session, "before_flush")
def _refresh_search_text(session: Session, _context: Any, _instances: Any) -> None:
    for client in _affected(session):
        text = search_text(client)
        if client.search_text != text:
            client.search_text = text


# What a typed phone number may contain besides digits: "+359 (2) 123-45/67".
_PHONE_LIKE = re.compile(r"^[\d\s+()./-]+$")


# SQLite's index of search_text (migration crm_contacts_0004), where the database has FTS5's
# trigram tokenizer; whether it is there is asked once per engine.
FTS = table("crm_contacts_client_fts", column("rowid"), column("search_text"))
TRIGRAM = 3  # the index finds strings of at least three characters
_has_fts: weakref.WeakKeyDictionary[Engine, bool] = weakref.WeakKeyDictionary()


def has_fts_index(session: Session) -> bool:
    engine = session.get_bind().engine
    if engine.dialect.name != "sqlite":
        return False
    if engine not in _has_fts:
        found = session.scalar(
            text("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = :name"),
            {"name": FTS.name},
        )
        _has_fts[engine] = found is not None
    return _has_fts[engine]


# While a connection has this temporary table, the index's insert trigger leaves the clients it
# inserts to whoever made it (migration crm_contacts_0005).
BULK_MARKER = "crm_contacts_bulk_insert"


@contextmanager
def bulk_search_index(session: Session) -> Iterator[Callable[[int, int], None]]:
    """For inserting many clients at once: yields ``index(first, last)``, to call once the
    clients with ids ``first`` to ``last`` are inserted; the index is then filled for them in one
    statement instead of row by row (a quarter of the time on SQLite). Elsewhere ``index`` does
    nothing: PostgreSQL's index follows by itself."""
    if not has_fts_index(session):
        yield lambda first, last: None
        return
    session.execute(text(f"CREATE TEMP TABLE {BULK_MARKER} (x INTEGER)"))

    def index(first: int, last: int) -> None:
        session.execute(
            text(
                f"INSERT INTO {FTS.name}(rowid, search_text) SELECT id, search_text "
                "FROM crm_contacts_client WHERE id BETWEEN :first AND :last"
            ),
            {"first": first, "last": last},
        )

    try:
        yield index
    finally:
        # Dropped in the same transaction: a rollback undoes both; the marker never outlives the
        # import on a pooled connection.
        with suppress(SQLAlchemyError):
            session.execute(text(f"DROP TABLE temp.{BULK_MARKER}"))


def search_needle(query: str) -> str:
    """What ``search_text`` is searched for: the query lower-cased with its spaces collapsed, and
    a typed phone number ("+359 (2) 123-45/67") as the bare digits ``search_text`` holds."""
    needle = " ".join(query.lower().split())
    digits = re.sub(r"\D", "", needle)
    if _PHONE_LIKE.match(needle) and len(digits) >= 3:
        needle = digits
    return needle


def search_condition(query: str, session: Session | None = None) -> ColumnElement[bool]:
    """The condition of clients matching ``query`` (not empty): ``search_text`` contains it.
    On SQLite with the index, the index finds the candidates (a quoted FTS5 phrase is a
    substring match under the trigram tokenizer) and the ``LIKE`` keeps the exact meaning it has
    without the index; PostgreSQL's trigram index serves the ``LIKE`` itself."""
    needle = search_needle(query)
    contains = Client.search_text.contains(needle, autoescape=True)
    if len(needle) < TRIGRAM or not has_fts_index(session or db_session):
        return contains
    phrase = '"' + needle.replace('"', '""') + '"'
    return and_(Client.id.in_(select(FTS.c.rowid).where(FTS.c.search_text.match(phrase))), contains)


def search_order(query: str) -> list[ColumnElement[Any]]:
    """What a list ordered by name (or any column) puts first when it searches through the index:
    a key equal for every row (``id IS NULL`` is false for all), which changes no order but keeps
    PostgreSQL from walking the name index and testing each row until it has a page. It guesses
    that walk cheap when the matches are a few per cent, and at 1,000,000 clients a fragment
    whose 16,230 matches all sort under "P" made it read 580,000 rows (1.7 s); the matches from
    the trigram index, then sorted, take 0.13 s. The key is the narrow ``id``: on
    ``search_text`` (as it was) PostgreSQL carried that column under the count of the matches,
    16,230 rows of 270 bytes, past ``work_mem`` onto disk (30 ms against 21 ms).

    Sorted so, every match is read before the first row is out: a list asks for its count in
    that same read (``count(*) OVER ()``), never in a second one."""
    return [Client.id.is_(None)] if len(search_needle(query)) >= TRIGRAM else []


@hookimpl
def crm_search(session: Session, query: str, user: Any) -> list[SearchHit]:
    """Up to ten clients for the global search box; record rules apply through ``session``."""
    if not has_permission(READ, user):
        return []
    clients = session.scalars(
        select(Client)
        .where(search_condition(query, session))
        .options(selectinload(Client.addresses))
        # The index's matches, then sorted: PostgreSQL walked the name index otherwise, 2.7 s
        # for "rogres" at 1,000,000 clients (580,078 rows tested).
        .order_by(*search_order(query), Client.name, Client.id)
        .limit(10)
    ).all()
    hits = []
    for client in clients:
        cities = dict.fromkeys(a.city for a in client.addresses if a.city)
        snippet = " · ".join(filter(None, [client.vat_number, ", ".join(cities)]))
        url = url_for("crm_contacts.client_file", client_id=client.id)
        hits.append(SearchHit(title=client.name, url=url, kind="Client", snippet=snippet))
    return hits
