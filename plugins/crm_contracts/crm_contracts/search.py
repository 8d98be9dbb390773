"""Contracts in the global search box: by number or title."""

from __future__ import annotations

from typing import Any

from flask import url_for
from sqlalchemy import ColumnElement, func, or_, select
from sqlalchemy.orm import Session, joinedload

from core import hookimpl
from core.auth import has_permission
from core.search import SearchHit
from crm_contracts.models import Contract
from crm_contracts.permissions import READ


def matching(query: str) -> ColumnElement[bool]:
    """Contracts whose number or title contains ``query``, whatever the case."""
    pattern = query.lower()
    return or_(
        func.lower(Contract.number).contains(pattern, autoescape=True),
        func.lower(Contract.title).contains(pattern, autoescape=True),
    )


@hookimpl
def crm_search(session: Session, query: str, user: Any) -> list[SearchHit]:
    if not has_permission(READ, user):
        return []
    contracts = session.scalars(
        select(Contract)
        .where(matching(query))
        .options(joinedload(Contract.client))
        .order_by(Contract.id.desc())
        .limit(10)
    )
    return [
        SearchHit(
            f"{c.number} {c.title}",
            url_for("crm_contracts.contract_detail", contract_id=c.id),
            "Contract",
            f"{c.client.name} · {c.status_label}",
        )
        for c in contracts
    ]
