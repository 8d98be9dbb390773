"""Telling the stock managers when a material falls below its reorder level."""

from __future__ import annotations

from collections.abc import Iterable

from flask import url_for
from sqlalchemy.orm import Session

from core.notifications import notify
from crm_advertising.stock_checks import below_reorder, stock_managers


def announce_low_stock(session: Session, material_ids: Iterable[int]) -> None:
    """One notification per manager and crossing of the level, in the movement's transaction."""
    low = below_reorder(session, material_ids)
    if not low:
        return
    managers = stock_managers(session)
    for material in low:
        url = url_for("crm_advertising.material_detail", material_id=material.id)
        for user_id in managers:
            notify(
                session,
                user_id,
                f"{material.name} is below its reorder level ({material.reorder_level} "
                f"{material.unit}): time to reorder.",
                url,
            )
