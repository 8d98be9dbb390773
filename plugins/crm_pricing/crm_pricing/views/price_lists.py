"""A client's price list: every active product with its list price, the client's price and
discount, grouped by product group, for a chosen date: on screen (a page at a time) and as CSV,
XLSX and PDF files to send to the client (the whole list)."""

from __future__ import annotations

from datetime import date

from flask import Response, abort, redirect, render_template, request, url_for
from sqlalchemy import select

from core.db import db_session
from core.permissions import permission_required
from core.timezone import local_today
from crm_contacts.models import Client
from crm_pricing import exports
from crm_pricing.blueprints import bp
from crm_pricing.permissions import READ
from crm_pricing.service import (
    PricingRun,
    count_products,
    load_products,
    price_lines,
)
from crm_pricing.service import (
    price_list as full_price_list,
)
from crm_pricing.views.forms import pages

PRICE_LIST_PAGE = 200
MIME = {
    "csv": "text/csv; charset=utf-8",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    "pdf": "application/pdf",
}


def _visible_client(client_id: int) -> Client:
    """The client, if the user may see it (record rules apply to this query), else 404."""
    client = db_session.scalar(select(Client).where(Client.id == client_id))
    if client is None:
        abort(404)
    return client


def _on() -> date:
    raw = request.args.get("date", "")
    if not raw:
        return local_today()
    try:
        return date.fromisoformat(raw)
    except ValueError:
        abort(400, "date: use the form YYYY-MM-DD.")


@bp.route("/price-list")
@permission_required(READ)
def price_list_choose():
    """Whose price list: the client chosen in a picker (the price list page's "another client")."""
    chosen = request.args.get("client_id", "").strip()
    if chosen.isdigit():
        return redirect(
            url_for(".price_list", client_id=int(chosen), date=request.args.get("date"))
        )
    return render_template("crm_pricing/price_list_choose.html", typed=chosen), (
        400 if chosen else 200
    )


@bp.route("/clients/<int:client_id>/price-list")
@permission_required(READ)
def price_list(client_id: int):
    client = _visible_client(client_id)
    on = _on()
    total = count_products(db_session)
    page, count = pages(total, PRICE_LIST_PAGE)
    run = PricingRun(db_session, client.id, on)
    products = load_products(db_session, limit=PRICE_LIST_PAGE, offset=(page - 1) * PRICE_LIST_PAGE)
    lines = price_lines(run, products)
    return render_template(
        "crm_pricing/price_list.html",
        client=client,
        on=on,
        lines=lines,
        page=page,
        pages=count,
        total=total,
        cap=run.cap,
    )


@bp.route("/clients/<int:client_id>/price-list.<any(csv, xlsx, pdf):fmt>")
@permission_required(READ)
def price_list_export(client_id: int, fmt: str):
    client = _visible_client(client_id)
    on = _on()
    run, lines = full_price_list(db_session, client.id, on)
    if fmt == "csv":
        body: str | bytes = exports.to_csv(lines)
    elif fmt == "xlsx":
        body = exports.to_xlsx(run.client, on, lines)
    else:
        body = exports.to_pdf(run.client, on, lines)
    filename = f"price-list-{client.id}-{on.isoformat()}.{fmt}"
    return Response(
        body,
        mimetype=MIME[fmt],
        headers={"Content-Disposition": f'attachment; filename="{filename}"'},
    )
