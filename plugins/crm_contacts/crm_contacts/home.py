"""crm_contacts' card of the home page (the core's ``crm_home_widgets``): the user's agenda for
today, in the installation's time zone, with the contacts still scheduled in the past counted.

Three queries whatever the size of the agenda: today's contacts (limited, type and client joined),
their persons, and the count of overdue ones.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from flask import render_template
from markupsafe import Markup
from sqlalchemy import func, select
from sqlalchemy.orm import selectinload

from core import HomeWidget, hookimpl
from core.auth import has_permission
from core.db import db_session
from core.timezone import local_today
from crm_contacts import agenda
from crm_contacts.models import Contact
from crm_contacts.permissions import READ

SHOWN = 10


@hookimpl
def crm_home_widgets(user: Any) -> list[HomeWidget]:
    if not has_permission(READ, user):
        return []
    today = local_today()
    start, end = agenda.day_start(today), agenda.day_start(today + timedelta(days=1))
    mine_scheduled = (Contact.user_id == user.id, Contact.state == agenda.SCHEDULED)
    todays = list(
        db_session.scalars(
            agenda.visible_contacts()
            .where(*mine_scheduled, Contact.starts_at >= start, Contact.starts_at < end)
            .options(selectinload(Contact.persons))
            .order_by(Contact.starts_at, Contact.id)
            .limit(SHOWN + 1)
        ).unique()
    )
    # Through the client, like the agenda page: a client hidden by a record rule hides its
    # contacts.
    overdue = db_session.scalar(
        select(func.count())
        .select_from(Contact)
        .join(Contact.client)
        .where(*mine_scheduled, Contact.starts_at < start)
    )
    html = Markup(  # noqa: S704 - a template rendered by Jinja with autoescaping
        render_template(
            "crm_contacts/home_agenda.html",
            todays=todays[:SHOWN],
            more=len(todays) > SHOWN,
            overdue=overdue or 0,
            today=today,
        )
    )
    return [HomeWidget("crm_contacts.agenda", "My agenda today", html, order=10)]
