"""The client file's "Competitors" section: who supplies this client (in which product groups,
for what share), and the latest moves of competitors in the client's region."""

from __future__ import annotations

from typing import Any

from flask import render_template
from markupsafe import Markup
from sqlalchemy import or_, select
from sqlalchemy.orm import joinedload, selectinload

from core import hookimpl
from core.auth import has_permission
from core.db import db_session
from crm_competitors.models import Change, Presence, change_region
from crm_competitors.permissions import READ, WRITE
from crm_competitors.service import current_presence
from crm_contacts.hookspecs import ClientFileSection
from crm_contacts.models import Client

SECTION_ID = "crm_competitors.competitors"
LATEST_CHANGES = 5
PRESENCES_SHOWN = 20


def region_changes(region_id: int | None):
    """Changes concerning a region: those naming it, and those naming none (everywhere)."""
    no_region = ~Change.id.in_(select(change_region.c.change_id))
    if region_id is None:
        return no_region
    return or_(
        Change.id.in_(
            select(change_region.c.change_id).where(change_region.c.region_id == region_id)
        ),
        no_region,
    )


@hookimpl
def crm_client_file_sections(client: Client, user: Any) -> list[ClientFileSection]:
    if not has_permission(READ, user):
        return []
    # Four statements whatever the history: presences, their groups, changes, their regions.
    presences = db_session.scalars(
        select(Presence)
        .where(Presence.client_id == client.id, current_presence())
        .options(joinedload(Presence.competitor), selectinload(Presence.group_rows))
        .order_by(Presence.share_percent.desc().nulls_last(), Presence.id)
        .limit(PRESENCES_SHOWN)
    ).all()
    changes = db_session.scalars(
        select(Change)
        .where(region_changes(client.region_id))
        .options(joinedload(Change.competitor), selectinload(Change.regions))
        .order_by(Change.occurred_on.desc(), Change.id.desc())
        .limit(LATEST_CHANGES)
    ).all()
    html = render_template(
        "crm_competitors/section_competitors.html",
        client=client,
        presences=presences,
        changes=changes,
        can_write=has_permission(WRITE, user),
    )
    return [
        ClientFileSection(
            id=SECTION_ID,
            title="Competitors",
            html=Markup(html),  # noqa: S704 - rendered by Jinja with autoescaping
            order=70,
        )
    ]
