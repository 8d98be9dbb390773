"""Materials in the global search box: by name or code."""

from __future__ import annotations

from typing import Any

from flask import url_for
from sqlalchemy import func, or_, select
from sqlalchemy.orm import Session

from core import hookimpl
from core.auth import has_permission
from core.search import SearchHit
from crm_advertising.models import Material
from crm_advertising.permissions import READ


@hookimpl
def crm_search(session: Session, query: str, user: Any) -> list[SearchHit]:
    if not has_permission(READ, user):
        return []
    pattern = query.lower()
    materials = session.scalars(
        select(Material)
        .where(
            or_(
                func.lower(Material.name).contains(pattern, autoescape=True),
                func.lower(Material.code).contains(pattern, autoescape=True),
            )
        )
        .order_by(Material.active.desc(), Material.name)
        .limit(10)
    )
    return [
        SearchHit(
            m.name,
            url_for("crm_advertising.material_detail", material_id=m.id),
            "Advertising material",
            f"{m.code}{'' if m.active else ' · inactive'}",
        )
        for m in materials
    ]
