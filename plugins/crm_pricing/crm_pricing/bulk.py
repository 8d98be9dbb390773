"""Price lists of many clients at once, as a background job: one PDF per client in a ZIP.

The clients are those the user who started the job may see (the job runs under their record
rules), narrowed by customer group, status and "only mine"; the ZIP is the job's result file,
downloadable by that user only.
"""

from __future__ import annotations

import re
import tempfile
import unicodedata
import zipfile
from datetime import date
from typing import Any

from sqlalchemy import Select, func, select

from core import hookimpl
from core.jobs import JobDef, JobError
from crm_contacts.models import Client
from crm_pricing import exports
from crm_pricing.permissions import READ
from crm_pricing.service import price_list

JOB = "crm_pricing.price_lists_zip"
TIERS_JOB = "crm_pricing.refresh_tiers"
MAX_CLIENTS = 5_000


def clients_query(group_id: int | None, status: str, only_user: int | None) -> Select:
    stmt = select(Client.id, Client.name)
    if group_id:
        stmt = stmt.where(Client.customer_group_id == group_id)
    if status:
        stmt = stmt.where(Client.status == status)
    if only_user:
        stmt = stmt.where(Client.responsible_id == only_user)
    return stmt.order_by(Client.name, Client.id)


def count_clients(session: Any, stmt: Select) -> int:
    return session.scalar(select(func.count()).select_from(stmt.order_by(None).subquery())) or 0


def _file_name(name: str, client_id: int) -> str:
    ascii_name = unicodedata.normalize("NFKD", name).encode("ascii", "ignore").decode()
    slug = re.sub(r"[^A-Za-z0-9]+", "-", ascii_name).strip("-").lower()[:60] or "client"
    return f"{slug}-{client_id}.pdf"


def price_lists_zip(
    ctx: Any, on: str, group_id: int | None = None, status: str = "", mine: bool = False
) -> None:
    day = date.fromisoformat(on)
    stmt = clients_query(group_id, status, ctx.user.id if mine and ctx.user else None)
    clients = ctx.session.execute(stmt.limit(MAX_CLIENTS + 1)).all()
    if not clients:
        raise JobError("No client you may see matches the filters: no price list to make.")
    if len(clients) > MAX_CLIENTS:
        raise JobError(f"More than {MAX_CLIENTS:,} clients match: narrow the filters.")
    with tempfile.TemporaryFile() as spool:
        with zipfile.ZipFile(spool, "w", zipfile.ZIP_DEFLATED) as archive:
            for number, (client_id, name) in enumerate(clients, 1):
                run, lines = price_list(ctx.session, client_id, day)
                archive.writestr(
                    _file_name(name, client_id), exports.to_pdf(run.client, day, lines)
                )
                ctx.progress(number, len(clients), f"Price list of {name}")
        spool.seek(0)
        ctx.result_file(f"price-lists-{day.isoformat()}.zip", spool.read(), "application/zip")
    ctx.result_summary(f"{len(clients)} price lists on {day.isoformat()}, one PDF per client.")


def refresh_tiers_job(ctx) -> None:
    from crm_pricing.tiers import refresh

    ctx.result_summary(f"{refresh(ctx.session):,} clients' turnover tiers computed.")


@hookimpl
def crm_jobs() -> list[JobDef]:
    return [
        JobDef(JOB, price_lists_zip, "Price lists of many clients", READ),
        JobDef(TIERS_JOB, refresh_tiers_job, "Clients' turnover tiers, for reports"),
    ]


@hookimpl
def crm_periodic_jobs():
    from core.jobs import PeriodicJob, crontab

    # Before the working day: a report's tiers are those of this morning.
    return [PeriodicJob(TIERS_JOB, TIERS_JOB, crontab(minute="30", hour="5"))]
