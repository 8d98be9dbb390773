"""Contracts in the global search box: by number or title."""

from __future__ import annotations

from typing import Any

from flask import url_for
from sqlalchemy import func, or_, select
from sqlalchemy.orm import Session, joinedload

from core import hookimpl
from core.auth import has_permission
from core.search import SearchHit
from crm_contracts.models import Contract
from crm_contracts.permissions import READ


@hookimpl
def crm_search(session: Session, query: str, user: Any) -> list[SearchHit]:
    if not has_permission(READ, user):
        return []
    pattern = query.lower()
    contracts = session.scalars(
        select(Contract)
        .where(
            or_(
                func.lower(Contract.number).contains(pattern, autoescape=True),
                func.lower(Contract.title).contains(pattern, autoescape=True),
            )
        )
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
