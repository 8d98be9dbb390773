"""For managers: what was handed out, by client, by representative and by campaign, with its
cost, over a period; and the returnable items that have been at clients for too long."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal

from flask import render_template, request
from sqlalchemy import func, select

from core.db import db_session
from core.models import User
from core.permissions import permission_required
from core.timezone import local_today
from crm_advertising.blueprints import bp
from crm_advertising.models import Movement
from crm_advertising.permissions import MANAGE_STOCK
from crm_advertising.service import outstanding
from crm_advertising.views.common import int_arg
from crm_contacts.models import Client

TOP = 25
DEFAULT_DAYS_OUT = 90


def _date_arg(name: str, default: date) -> date:
    try:
        return date.fromisoformat(request.args.get(name, ""))
    except ValueError:
        return default


def _cost():
    """What was given (hand-outs less returns and reversals): quantity × the cost at the time."""
    return func.coalesce(func.sum(Movement.client_cost), 0)


def _top(keys: tuple, *conditions, join: tuple | None = None) -> list:
    """The ``TOP`` groups of ``keys`` by cost: items and cost of each."""
    cost = _cost()
    stmt = select(*keys, func.sum(Movement.client_delta).label("items"), cost.label("cost"))
    if join is not None:
        stmt = stmt.join(*join)
    return db_session.execute(
        stmt.where(*conditions).group_by(*keys).order_by(cost.desc()).limit(TOP)
    ).all()


@bp.route("/overview")
@permission_required(MANAGE_STOCK)
def overview():
    today = local_today()
    start = _date_arg("from", today - timedelta(days=365))
    end = _date_arg("to", today)
    days_out = min(int_arg("days") or DEFAULT_DAYS_OUT, 36500)
    period = (Movement.day >= start, Movement.day <= end)
    by_client = _top(
        (Client.id, Client.name),
        Movement.client_id.is_not(None),
        *period,
        join=(Client, Client.id == Movement.client_id),
    )
    by_rep = _top(
        (User.id, User.name),
        Movement.client_id.is_not(None),
        *period,
        join=(User, User.id == Movement.created_by_id),
    )
    by_campaign = _top((Movement.occasion, Movement.campaign), Movement.kind == "handout", *period)
    total = db_session.scalar(
        select(_cost()).where(Movement.client_id.is_not(None), *period)
    ) or Decimal("0")
    out = outstanding(db_session)
    late = [row for row in out if row.since and row.since <= today - timedelta(days=days_out)]
    return render_template(
        "crm_advertising/overview.html",
        start=start,
        end=end,
        by_client=by_client,
        by_rep=by_rep,
        by_campaign=by_campaign,
        total=Decimal(total),
        late=late,
        days_out=days_out,
        today=today,
    )
