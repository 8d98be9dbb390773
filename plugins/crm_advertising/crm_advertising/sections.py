"""The client file's "Advertising material" section: what the client received and when, the
returnable items still there, and what it cost over the last twelve months."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal
from typing import Any

from flask import render_template
from markupsafe import Markup
from sqlalchemy import func, select
from sqlalchemy.orm import joinedload

from core import hookimpl
from core.auth import has_permission
from core.db import db_session
from core.timezone import local_today
from crm_advertising.models import Movement
from crm_advertising.permissions import HAND_OUT, READ
from crm_advertising.service import outstanding
from crm_contacts.hookspecs import ClientFileSection
from crm_contacts.models import Client

SHOWN = 10
SECTION_ID = "crm_advertising"


@hookimpl
def crm_client_file_sections(client: Client, user: Any) -> list[ClientFileSection]:
    if not has_permission(READ, user):
        return []
    # Three queries at most whatever the client's history: the latest movements, what is still
    # there, and the year's cost (when the latest are not all there is).
    latest = db_session.scalars(
        select(Movement)
        .where(Movement.client_id == client.id)
        .options(
            joinedload(Movement.material),
            joinedload(Movement.person),
            joinedload(Movement.created_by),
        )
        .order_by(Movement.day.desc(), Movement.id.desc())
        .limit(SHOWN)
    ).all()
    still_there = outstanding(db_session, Movement.client_id == client.id)
    year_ago = local_today() - timedelta(days=365)
    if len(latest) < SHOWN:  # the list holds every movement: the year's cost is theirs
        cost = sum((m.client_cost or 0 for m in latest if m.day > year_ago), Decimal(0))
    else:
        cost = db_session.scalar(
            select(func.coalesce(func.sum(Movement.client_cost), 0)).where(
                Movement.client_id == client.id, Movement.day > year_ago
            )
        )
    html = render_template(
        "crm_advertising/section.html",
        client=client,
        latest=latest,
        still_there=still_there,
        cost=Decimal(cost or 0),
        can_hand_out=has_permission(HAND_OUT, user),
    )
    return [
        ClientFileSection(
            id=SECTION_ID,
            title="Advertising material",
            html=Markup(html),  # noqa: S704 - rendered by Jinja with autoescaping
            order=70,
        )
    ]
