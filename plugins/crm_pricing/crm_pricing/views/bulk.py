"""The form that starts the price lists of many clients (a ZIP of PDFs) as a background job."""

from __future__ import annotations

import secrets
from datetime import date

from flask import redirect, render_template, request, url_for
from flask_login import current_user
from sqlalchemy import select

from core.db import db_session
from core.jobs import enqueue
from core.permissions import permission_required
from core.timezone import local_today
from crm_contacts.models import CLIENT_STATUSES, CustomerGroup
from crm_pricing.blueprints import bp
from crm_pricing.bulk import JOB, MAX_CLIENTS, clients_query, count_clients
from crm_pricing.permissions import READ


def _page(values: dict, errors: dict, status: int = 200):
    groups = db_session.scalars(select(CustomerGroup).order_by(CustomerGroup.name)).all()
    return render_template(
        "crm_pricing/price_lists_many.html",
        values=values,
        errors=errors,
        groups=groups,
        statuses=CLIENT_STATUSES,
        limit=MAX_CLIENTS,
        token=secrets.token_urlsafe(16),
    ), status


@bp.route("/price-lists", methods=["GET", "POST"])
@permission_required(READ)
def price_lists_many():
    if request.method == "GET":
        return _page({"date": local_today().isoformat(), "status": "active"}, {})
    values = request.form.to_dict()
    errors: dict[str, list[str]] = {}
    try:
        on = date.fromisoformat(values.get("date", ""))
    except ValueError:
        errors["date"] = ["Give a date as YYYY-MM-DD."]
    group_id = values.get("group_id") or None
    if group_id is not None and not (
        group_id.isdigit() and db_session.get(CustomerGroup, int(group_id))
    ):
        errors["group_id"] = ["Choose a customer group from the list."]
    status = values.get("status", "")
    if status and status not in CLIENT_STATUSES:
        errors["status"] = ["Choose a status from the list."]
    mine = values.get("mine") == "1"
    if not errors:
        stmt = clients_query(
            int(group_id) if group_id else None, status, current_user.id if mine else None
        )
        found = count_clients(db_session, stmt)
        if not found:
            errors["group_id"] = ["No client you may see matches these filters."]
        elif found > MAX_CLIENTS:
            errors["group_id"] = [f"{found:,} clients match: at most {MAX_CLIENTS:,} at once."]
    if errors:
        return _page(values, errors, 400)
    job_id = enqueue(
        JOB,
        current_user,
        # The form's own token: a double click on its button starts one job.
        idempotency_key=f"{JOB}:{current_user.id}:{values['token'][:40]}"
        if values.get("token")
        else None,
        on=on.isoformat(),
        group_id=int(group_id) if group_id else None,
        status=status,
        mine=mine,
        label=f"Price lists of {found} clients on {on.isoformat()}",
    )
    return redirect(url_for("core_jobs.job_detail", job_id=job_id))
