"""The dashboard of contracts expiring in the next 30, 60 and 90 days: what a sales manager
assigns for renewal. Contracts already renewed or terminated are not on it."""

from __future__ import annotations

from datetime import timedelta

from flask import render_template
from sqlalchemy import and_, case, func, select
from sqlalchemy.orm import joinedload

from core.auth import has_permission
from core.db import db_session
from core.models import User
from core.permissions import permission_required
from crm_contacts.models import Client
from crm_contracts.blueprints import bp
from crm_contracts.dates import local_today
from crm_contracts.models import IN_FORCE, Contract
from crm_contracts.permissions import READ, WRITE

HORIZONS = (30, 60, 90)
SHOWN = 50  # per period; the list page shows the rest


def expiring_between(start, end):
    """Contracts in force today whose end falls between ``start`` and ``end`` (inclusive)."""
    return and_(
        Contract.status.in_(IN_FORCE),
        Contract.valid_to.is_not(None),
        Contract.valid_to >= start,
        Contract.valid_to <= end,
    )


@bp.route("/expiring")
@permission_required(READ)
def dashboard():
    today = local_today()
    bounds = []
    start = today
    for days in HORIZONS:
        end = today + timedelta(days=days)
        bounds.append((days, start, end))
        start = end + timedelta(days=1)
    # One query counts all three periods; one per period lists its first contracts.
    counts = db_session.execute(
        select(
            *(
                func.coalesce(func.sum(case((expiring_between(s, e), 1), else_=0)), 0)
                for _days, s, e in bounds
            )
        ).where(expiring_between(today, bounds[-1][2]))
    ).one()
    periods = []
    for (days, start, end), count in zip(bounds, counts, strict=True):
        contracts = db_session.scalars(
            select(Contract)
            .where(expiring_between(start, end))
            .options(
                joinedload(Contract.client).load_only(Client.id, Client.name),
                joinedload(Contract.type),
                joinedload(Contract.responsible).load_only(User.id, User.name),
            )
            .order_by(Contract.valid_to, Contract.id)
            .limit(SHOWN)
        ).all()
        periods.append(
            {"days": days, "start": start, "end": end, "count": count, "contracts": contracts}
        )
    return render_template(
        "crm_contracts/dashboard.html",
        periods=periods,
        today=today,
        can_write=has_permission(WRITE),
    )
