"""The client file's "Contracts" section: the contracts in force (and those signed or being
prepared for later) with their validity and conditions; the others one click away."""

from __future__ import annotations

from typing import Any

from flask import render_template
from markupsafe import Markup
from sqlalchemy import func, select
from sqlalchemy.orm import joinedload, selectinload

from core import hookimpl
from core.auth import has_permission
from core.db import db_session
from crm_contacts.hookspecs import ClientFileSection
from crm_contacts.models import Client
from crm_contracts.models import STATUS_LABELS, Contract
from crm_contracts.permissions import READ, WRITE

CURRENT = ("active", "expiring", "upcoming", "draft")
SHOWN = 20
SECTION_ID = "crm_contracts.contracts"


@hookimpl
def crm_client_file_sections(client: Client, user: Any) -> list[ClientFileSection]:
    if not has_permission(READ, user):
        return []
    # Three queries whatever the number of contracts: the current ones, their conditions, and
    # how many there are of each status.
    contracts = db_session.scalars(
        select(Contract)
        .where(Contract.client_id == client.id, Contract.status.in_(CURRENT))
        .options(joinedload(Contract.type), selectinload(Contract.conditions))
        .order_by(Contract.valid_from.desc(), Contract.id.desc())
        .limit(SHOWN)
    ).all()
    by_status = dict(
        db_session.execute(
            select(Contract.status, func.count(Contract.id))
            .where(Contract.client_id == client.id)
            .group_by(Contract.status)
        ).all()
    )
    earlier = {s: n for s, n in by_status.items() if s not in CURRENT}
    html = render_template(
        "crm_contracts/section_contracts.html",
        client=client,
        contracts=contracts,
        current_total=sum(n for s, n in by_status.items() if s in CURRENT),
        earlier=earlier,
        labels=STATUS_LABELS,
        can_write=has_permission(WRITE, user),
    )
    return [
        ClientFileSection(
            id=SECTION_ID,
            title="Contracts and conditions",
            html=Markup(html),  # noqa: S704 - rendered by Jinja with autoescaping
            order=45,
        )
    ]
