"""Competitors in the global search box: by name; strategy changes: by description."""

from __future__ import annotations

from typing import Any

from flask import url_for
from sqlalchemy import ColumnElement, func, select
from sqlalchemy.orm import Session, joinedload

from core import hookimpl
from core.auth import has_permission
from core.search import SearchHit
from crm_competitors.models import Change, Competitor
from crm_competitors.permissions import READ

HITS = 10


def competitor_matching(query: str) -> ColumnElement[bool]:
    return func.lower(Competitor.name).contains(query.lower(), autoescape=True)


def change_matching(query: str) -> ColumnElement[bool]:
    return func.lower(Change.description).contains(query.lower(), autoescape=True)


@hookimpl
def crm_search(session: Session, query: str, user: Any) -> list[SearchHit]:
    if not has_permission(READ, user):
        return []
    competitors = session.scalars(
        select(Competitor).where(competitor_matching(query)).order_by(Competitor.name).limit(HITS)
    ).all()
    changes = session.scalars(
        select(Change)
        .where(change_matching(query))
        .options(joinedload(Change.competitor))
        .order_by(Change.occurred_on.desc(), Change.id.desc())
        .limit(HITS)
    ).all()
    return [
        *(
            SearchHit(
                c.name,
                url_for("crm_competitors.competitor_detail", competitor_id=c.id),
                "Competitor",
                c.status_label,
            )
            for c in competitors
        ),
        *(
            SearchHit(
                f"{c.competitor.name}: {c.headline}",
                url_for("crm_competitors.change_detail", change_id=c.id),
                "Competitor's move",
                f"{c.occurred_on} · {c.description[:120]}",
            )
            for c in changes
        ),
    ]
