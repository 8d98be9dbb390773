"""The client list: search, filters, sortable headers, the columns each user chooses, pages."""

from __future__ import annotations

import math
from typing import Any

from flask import current_app, redirect, render_template, request, url_for
from flask_login import current_user
from sqlalchemy import ColumnElement, Select, func, select
from sqlalchemy.orm import joinedload, load_only

from core.choices import read_lists
from core.db import db_session
from core.models import User
from core.paging import page_links
from core.permissions import permission_required
from core.preferences import get_preference, set_preference
from crm_contacts import client_columns
from crm_contacts.blueprints import bp
from crm_contacts.models import CLIENT_STATUSES, Client, CustomerGroup, Region, Tag
from crm_contacts.permissions import READ
from crm_contacts.search import search_condition, search_order
from crm_contacts.views.clients import GROUP_CHOICES, user_choices
from crm_contacts.views.regions import REGION_CHOICES

PER_PAGE = 50
# Up to this many matches, a filtered list is read by id (see client_list); the setting
# CRM_CONTACTS_FEW_MATCHES tunes it.
FEW = 1000
FILTERS = ("q", "group", "region", "rep", "status", "tag")
# What a row of the list shows of its client itself (the rest: client_columns.fill).
ROW_COLUMNS = (
    Client.id, Client.name, Client.vat_number, Client.status,
    Client.customer_group_id, Client.region_id, Client.responsible_id,
)  # fmt: skip


def _int_arg(name: str) -> int | None:
    return request.args.get(name, type=int)


def _headers(columns: list, sort: str, state: dict[str, Any]) -> list[dict[str, Any]]:
    """Each header's label, link and arrow: a click sorts by it, A–Z first, and a click on the
    sorted header turns the order round. The link keeps the search, the filters and the page."""
    descending, current = sort.startswith("-"), sort.lstrip("-")
    headers = []
    for key, label, numeric, sortable in [
        ("name", "Name", False, True),
        *((c.key, c.label, c.numeric, c.sort is not None) for c in columns),
    ]:
        header: dict[str, Any] = {"key": key, "label": label, "numeric": numeric, "href": None}
        if sortable:
            is_sorted = key == current
            target = key if not is_sorted or descending else f"-{key}"
            header["href"] = url_for("crm_contacts.client_list", **{**state, "sort": target})
            header["aria"] = ("descending" if descending else "ascending") if is_sorted else None
        headers.append(header)
    return headers


def _page_ids(conditions: list, order: tuple, page: int) -> Select:
    """The ids of a page's clients, ordered, whatever the column, in this one query."""
    offset = (page - 1) * PER_PAGE
    return select(Client.id).where(*conditions).order_by(*order).limit(PER_PAGE).offset(offset)


def _page(conditions: list, order: tuple, requested: int) -> tuple[int, int, Any]:
    """The count, the page (the last one when asked for one past it) and its ids' query."""
    # A filter matching few clients is the slow case: the page's rows would be found by walking
    # the name index through the whole table, after a count that already read all of it. One
    # read (stopping early when there are many matches) collects the ids of the few instead;
    # their count and page then need no second pass over the table.
    few: list[int] | None = None
    if conditions:
        limit = current_app.config.get("CRM_CONTACTS_FEW_MATCHES", FEW)
        ids = db_session.scalars(select(Client.id).where(*conditions).limit(limit + 1)).all()
        few = list(ids) if len(ids) <= limit else None
    if few is not None:
        total, conditions = len(few), [Client.id.in_(few)]
    else:
        total = db_session.scalar(select(func.count()).select_from(Client).where(*conditions))
    page = min(requested, max(1, math.ceil((total or 0) / PER_PAGE)))
    return total or 0, page, _page_ids(conditions, order, page)


def _counted_page(conditions: list, order: tuple, requested: int) -> tuple[int, int, Any]:
    """A search's count, page and ids from one read of its matches (``count(*) OVER ()``): at
    1,000,000 clients a fragment common to 16,230 of them was read three times (the few ids,
    the count, the page): the page took 96 ms on SQLite, 176 ms on PostgreSQL; read once, 43
    and 36 ms (docs/performance.md). A page past the last has no row to carry the count: it is
    counted, and the last page read."""
    ids = _page_ids(conditions, order, requested).add_columns(func.count().over())
    rows = db_session.execute(ids).all()
    if rows or requested == 1:
        return (rows[0][1] if rows else 0), requested, [row[0] for row in rows]
    total = db_session.scalar(select(func.count()).select_from(Client).where(*conditions)) or 0
    page = max(1, math.ceil(total / PER_PAGE))
    return total, page, _page_ids(conditions, order, page)


@bp.route("/clients")
@permission_required(READ)
def client_list():
    query = " ".join(request.args.get("q", "").split())
    group_id = _int_arg("group")
    region_id = _int_arg("region")
    responsible_id = _int_arg("rep")
    status = request.args.get("status", "")
    status = status if status in CLIENT_STATUSES else ""
    tag = request.args.get("tag", "").strip()
    offered = client_columns.available(current_user)
    columns = client_columns.chosen(
        offered, get_preference(db_session, current_user.id, client_columns.PREFERENCE)
    )
    # Any sortable column may order the list, shown or not (a link kept from before a change).
    sort, order = client_columns.sort_order(request.args.get("sort", "name"), offered)
    # A search through its index sorts the matches once it has them all (search_order): every
    # match is read before the first row, so the count comes from that same read.
    first = search_order(query) if query else []
    order = (*first, *order)

    conditions: list[ColumnElement[bool]] = []
    if query:
        conditions.append(search_condition(query))
    if group_id is not None:
        conditions.append(Client.customer_group_id == group_id)
    if region_id is not None:
        conditions.append(Client.region_id == region_id)
    if responsible_id is not None:
        conditions.append(Client.responsible_id == responsible_id)
    if status:
        conditions.append(Client.status == status)
    if tag:
        conditions.append(Client.tags.any(func.lower(Tag.name) == tag.lower()))

    requested = max(_int_arg("page") or 1, 1)
    if first:
        total, page, page_ids = _counted_page(conditions, order, requested)
    else:
        total, page, page_ids = _page(conditions, order, requested)
    pages = max(1, math.ceil(total / PER_PAGE))
    # The page's rows joined to their group and representative once chosen: joined before the
    # OFFSET, a deep page would join every row it skips. Only what the rows show is read (the
    # chosen columns' values come from client_columns.fill); another column would raise here,
    # not be read row by row.
    clients = db_session.scalars(
        select(Client)
        .where(Client.id.in_(page_ids))
        .options(
            load_only(*ROW_COLUMNS, raiseload=True),
            joinedload(Client.customer_group).load_only(CustomerGroup.name),
            joinedload(Client.region).load_only(Region.name),
            joinedload(Client.responsible).load_only(User.id, User.name),
        )
        .order_by(*order)
    ).all()
    values = client_columns.fill(db_session, columns, [c.id for c in clients])

    filters = {
        "q": query,
        "group": group_id,
        "region": region_id,
        "rep": responsible_id,
        "status": status,
        "tag": tag,
    }
    filters = {k: v for k, v in filters.items() if v not in ("", None)}
    state = {**filters, "page": page} if page > 1 else dict(filters)
    # The filter bar's four lists in one statement (a round trip each on PostgreSQL).
    choices = read_lists(
        db_session,
        {
            "groups": GROUP_CHOICES,
            "regions": REGION_CHOICES,
            "users": user_choices(responsible_id),
            "tags": (select(Tag.id, Tag.name), (Tag.name,)),
        },
    )
    return render_template(
        "crm_contacts/client_list.html",
        clients=clients,
        total=total,
        page=page,
        pages=pages,
        page_links=page_links(page, pages),
        query=query,
        filters=filters,
        filtered=bool(filters),
        sort=sort,
        headers=_headers(columns, sort, state),
        columns=columns,
        offered=offered,
        values=values,
        shown=client_columns.shown,
        here=url_for("crm_contacts.client_list", **{**state, "sort": sort}),
        statuses=CLIENT_STATUSES,
        # One url_for for the fifty rows' links: a file's address is this prefix and its id.
        file_prefix=url_for("crm_contacts.client_file", client_id=0).removesuffix("0"),
        **choices,
    )


@bp.route("/clients/columns", methods=["POST"])
@permission_required(READ)
def client_columns_save():
    """The column chooser: the ticked columns become the user's, then back to the same list."""
    keys = {c.key for c in client_columns.available(current_user)}
    picked = [key for key in request.form.getlist("columns") if key in keys]
    if request.form.get("reset"):
        picked = list(client_columns.DEFAULT)
    set_preference(db_session, current_user.id, client_columns.PREFERENCE, picked)
    db_session.commit()
    back = request.form.get("next", "")
    # Only back to the list itself: never an address someone else put in the form.
    prefix = url_for("crm_contacts.client_list")
    if not (back == prefix or back.startswith(prefix + "?")):
        back = prefix
    return redirect(back)
