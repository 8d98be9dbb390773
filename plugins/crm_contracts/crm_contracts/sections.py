"""The client file's "Contracts" section: the contracts in force (and those signed or being
prepared for later) with their validity and conditions; the others one click away."""

from __future__ import annotations

from typing import Any

from flask import render_template
from markupsafe import Markup
from sqlalchemy import and_, func, or_, select
from sqlalchemy.orm import joinedload, selectinload

from core import hookimpl
from core.auth import has_permission
from core.db import db_session
from core.timezone import local_today
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
    today = local_today()
    # A renewed contract is still shown while it is in force: its conditions still apply.
    renewed_in_force = and_(
        Contract.status == "renewed",
        Contract.valid_from <= today,
        or_(Contract.valid_to.is_(None), Contract.valid_to >= today),
        or_(Contract.terminated_on.is_(None), Contract.terminated_on > today),
    )
    contracts = db_session.scalars(
        select(Contract)
        .where(Contract.client_id == client.id, or_(Contract.status.in_(CURRENT), renewed_in_force))
        .options(joinedload(Contract.type), selectinload(Contract.conditions))
        .order_by(Contract.valid_from.desc(), Contract.id.desc())
        .limit(SHOWN)
    ).all()
    by_status = dict(
        db_session.execute(
            select(Contract.status, func.count())
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
