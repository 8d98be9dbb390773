"""Stock seen as a whole: materials that fell below their reorder level (announced once to the
users who reorder), and the check that every location's stock equals the sum of its movements
(``crm advertising check``)."""

from __future__ import annotations

from collections.abc import Iterable

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from core.models import Group, PermissionRecord, User
from crm_advertising.models import Material, Movement, ReorderAlert, Stock
from crm_advertising.permissions import CONFIGURE

# --- the reorder level ---------------------------------------------------------------------------


def below_reorder(session: Session, material_ids: Iterable[int]) -> list[Material]:
    """Materials just taken below their reorder level and not announced yet; marks them."""
    ids = list(set(material_ids))
    if not ids:
        return []
    totals = dict(
        session.execute(
            select(Stock.material_id, func.sum(Stock.quantity))
            .where(Stock.material_id.in_(ids))
            .group_by(Stock.material_id)
            .execution_options(crm_all_records=True)
        ).all()
    )
    announced = set(
        session.scalars(select(ReorderAlert.material_id).where(ReorderAlert.material_id.in_(ids)))
    )
    low = []
    for material in session.scalars(select(Material).where(Material.id.in_(ids))):
        total = totals.get(material.id) or 0
        if total < material.reorder_level:
            if material.id not in announced:
                session.add(ReorderAlert(material_id=material.id))
                low.append(material)
        elif material.id in announced:
            session.execute(
                ReorderAlert.__table__.delete().where(ReorderAlert.material_id == material.id)
            )
    return low


def stock_managers(session: Session) -> list[int]:
    """The users who hold the configure permission (they reorder)."""
    return list(
        session.scalars(
            select(User.id)
            .join(User.groups)
            .join(Group.permissions)
            .where(PermissionRecord.code == CONFIGURE, User.active)
            .distinct()
        )
    )


# --- the check -----------------------------------------------------------------------------------


def differences(session: Session) -> list[tuple[int, int, int, int]]:
    """(material id, location id, stock, sum of movements) wherever the two disagree."""
    flows = (
        select(
            Movement.material_id,
            Movement.to_location_id.label("location_id"),
            Movement.quantity.label("delta"),
        )
        .where(Movement.to_location_id.is_not(None))
        .union_all(
            select(Movement.material_id, Movement.from_location_id, -Movement.quantity).where(
                Movement.from_location_id.is_not(None)
            )
        )
    ).subquery()
    moved = dict(
        ((m, loc), total)
        for m, loc, total in session.execute(
            select(flows.c.material_id, flows.c.location_id, func.sum(flows.c.delta)).group_by(
                flows.c.material_id, flows.c.location_id
            )
        )
    )
    held = {(s.material_id, s.location_id): s.quantity for s in session.scalars(select(Stock))}
    found = []
    for key in sorted(set(moved) | set(held)):
        stock, flow = held.get(key, 0), moved.get(key, 0)
        if stock != flow:
            found.append((key[0], key[1], stock, flow))
    return found
