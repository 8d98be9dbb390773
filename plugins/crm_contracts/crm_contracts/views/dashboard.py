"""The dashboard of contracts expiring in the next 30, 60 and 90 days: what a sales manager
assigns for renewal. Contracts already renewed or terminated are not on it."""

from __future__ import annotations

from datetime import timedelta

from flask import flash, redirect, render_template, request, url_for
from flask_login import current_user
from sqlalchemy import case, func, select

from core.auth import has_permission
from core.db import db_session
from core.locking import check_version
from core.models import User
from core.notifications import notify
from core.permissions import permission_required
from core.timezone import local_today
from crm_contracts.blueprints import bp
from crm_contracts.models import Contract
from crm_contracts.permissions import READ, RENEW, WRITE
from crm_contracts.views.common import ROW_OPTIONS, expiring_between, load_contract

HORIZONS = (30, 60, 90)
SHOWN = 50  # per period; the list page shows the rest


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
            .options(*ROW_OPTIONS)
            .order_by(Contract.valid_to, Contract.id)
            .limit(SHOWN)
        ).all()
        periods.append(
            {"days": days, "start": start, "end": end, "count": count, "contracts": contracts}
        )
    can_write = has_permission(WRITE)
    return render_template(
        "crm_contracts/dashboard.html",
        periods=periods,
        can_write=can_write,
    )


@bp.route("/<int:contract_id>/assign", methods=["POST"])
@permission_required(WRITE)
def contract_assign(contract_id: int):
    """Hand a contract's renewal to a representative, from the dashboard: they become
    responsible for it and are notified."""
    contract = load_contract(contract_id, with_conditions=False)
    check_version(contract, request.form.get("version"))
    responsible_id = request.form.get("responsible_id", type=int)
    user = db_session.get(User, responsible_id) if responsible_id is not None else None
    # Only someone who can act on it: an active user allowed to prepare renewals (the picker
    # offers only those; a hand-made post is refused the same way).
    if user is None or not user.active or not has_permission(RENEW, user):
        flash("Representative: choose an active user who may renew contracts.", "danger")
        return redirect(url_for("crm_contracts.dashboard"))
    contract.responsible_id = user.id
    if user.id != current_user.id:
        ends = contract.valid_to.isoformat() if contract.valid_to else "—"
        notify(
            db_session,
            user.id,
            f"{current_user.name} asked you to renew contract {contract.number} with "
            f"{contract.client.name}, ending on {ends}.",
            url=url_for("crm_contracts.contract_detail", contract_id=contract.id),
        )
    db_session.commit()
    flash(f"{user.name} is now responsible for renewing {contract.number}.", "success")
    return redirect(url_for("crm_contracts.dashboard", _anchor=request.form.get("period", "")))
