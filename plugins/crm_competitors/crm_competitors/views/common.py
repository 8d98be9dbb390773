"""Helpers shared by the module's pages: form values in, schema errors out, the records a user may
see, paging."""

from __future__ import annotations

import math
from typing import Any

from flask import abort, request
from sqlalchemy import Select, func, select
from sqlalchemy.orm import joinedload, selectinload

from core.db import db_session
from core.paging import page_links
from crm_competitors.groups import group_choices
from crm_competitors.models import Change, Competitor, Presence
from crm_contacts.models import Client, Region

PER_PAGE = 25


def int_arg(name: str) -> int | None:
    raw = request.args.get(name, "")
    return int(raw) if raw.isascii() and raw.isdigit() else None


def paged(
    stmt: Select, key: Any, options: tuple = (), per_page: int = PER_PAGE, arg: str = "page"
) -> dict:
    """One page of ``stmt`` (a SELECT of one model, ordered), loaded with ``options``: its rows,
    and what the pager needs. ``key`` is the model's primary key column. The page's keys are
    chosen first, on the bare rows: sorting thousands of rows joined to what a page shows
    (client, region, representative) would cost that much more than sorting the keys; then only
    the page's rows are loaded with their options. Three statements, plus the options' own."""
    bare = stmt.with_only_columns(key)
    counted = bare.with_only_columns(func.count(), maintain_column_froms=True)
    total = db_session.scalar(counted.order_by(None)) or 0
    pages = max(1, math.ceil(total / per_page))
    page = min(max(int_arg(arg) or 1, 1), pages)
    ids = db_session.scalars(bare.limit(per_page).offset((page - 1) * per_page)).all()
    # The rows by their keys alone (not through the page's joins and filters again, which could
    # lead the database to walk them instead of the keys), put back in the page's order.
    model = stmt.column_descriptions[0]["entity"]
    found = {
        getattr(row, key.key): row
        for row in db_session.scalars(select(model).where(key.in_(ids)).options(*options)).unique()
    } if ids else {}  # fmt: skip
    rows = [found[i] for i in ids if i in found]
    return {"rows": rows, "total": total, "page": page, "pages": pages,
            "links": page_links(page, pages), "arg": arg}  # fmt: skip


def form_values(names: tuple[str, ...]) -> dict[str, str]:
    return {name: request.form.get(name, "").strip() for name in names}


def posted_groups() -> list[str]:
    """Product groups as a form posts them: chosen in a list, or typed separated by commas."""
    values = request.form.getlist("groups")
    if group_choices() is not None:
        return values
    return [part for value in values for part in value.split(",")]


def posted_region_ids() -> list[Any]:
    return [v for v in request.form.getlist("region_ids") if v.strip()]


def optional(values: dict[str, Any], names: tuple[str, ...]) -> dict[str, Any]:
    """Form text shaped for a schema: an empty optional field is none (not an invalid date)."""
    return {k: (None if k in names and v == "" else v) for k, v in values.items()}


def _messages(value: Any) -> list[str]:
    if isinstance(value, dict):
        return [m for v in value.values() for m in _messages(v)]
    if isinstance(value, list | tuple):
        return [m for v in value for m in _messages(v)]
    return [str(value)]


def form_errors(messages: dict[str, Any]) -> dict[str, list[str]]:
    return {name: _messages(value) for name, value in messages.items()}


def regions() -> list[Any]:
    return db_session.execute(
        select(Region.id, Region.name).order_by(Region.order, Region.name)
    ).all()


def load_competitor(competitor_id: int) -> Competitor:
    competitor = db_session.scalars(
        select(Competitor)
        .where(Competitor.id == competitor_id)
        .options(selectinload(Competitor.regions), selectinload(Competitor.group_rows))
    ).one_or_none()
    return competitor or abort(404)


def load_presence(presence_id: int) -> Presence:
    """The presence, or 404 when it does not exist or its client is hidden from the user."""
    presence = db_session.scalars(
        select(Presence)
        .join(Client, Client.id == Presence.client_id)
        .where(Presence.id == presence_id)
        .options(
            joinedload(Presence.competitor),
            joinedload(Presence.client),
            joinedload(Presence.recorded_by),
            selectinload(Presence.group_rows),
        )
    ).one_or_none()
    return presence or abort(404)


CHANGE_OPTIONS = (
    joinedload(Change.competitor),
    joinedload(Change.recorded_by),
    selectinload(Change.regions),
    selectinload(Change.group_rows),
)


def load_change(change_id: int) -> Change:
    change = db_session.scalars(
        select(Change).where(Change.id == change_id).options(*CHANGE_OPTIONS)
    ).one_or_none()
    return change or abort(404)
