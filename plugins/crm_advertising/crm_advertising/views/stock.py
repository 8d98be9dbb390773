"""Stock by material and location, with its value; materials below their reorder level."""

from __future__ import annotations

from decimal import Decimal

from flask import render_template, request
from sqlalchemy import func, select

from core.db import db_session
from core.permissions import permission_required
from crm_advertising.blueprints import bp
from crm_advertising.models import Location, Material, Stock
from crm_advertising.permissions import READ
from crm_advertising.views.common import int_arg, locations


def low_materials() -> list[tuple[Material, int]]:
    """Active materials whose whole stock is below their reorder level (for the stock managers:
    representatives see only their share, so this is asked with every location counted)."""
    total = func.coalesce(func.sum(Stock.quantity), 0)
    return db_session.execute(
        select(Material, total)
        .outerjoin(Stock, Stock.material_id == Material.id)
        .where(Material.active, Material.reorder_level > 0)
        .group_by(Material.id)
        .having(total < Material.reorder_level)
        .order_by(Material.name)
        .execution_options(crm_all_records=True)
    ).all()


@bp.route("/stock")
@permission_required(READ)
def stock_page():
    location_id = int_arg("location")
    low_only = request.args.get("low") == "1"
    places = locations(active_only=False)
    shown = [p for p in places if location_id is None or p.id == location_id]
    rows = db_session.execute(
        select(Stock.material_id, Stock.location_id, Stock.quantity)
        .join(Location, Location.id == Stock.location_id)
        .where(Stock.location_id.in_([p.id for p in shown]), Stock.quantity != 0)
    ).all()
    grid: dict[int, dict[int, int]] = {}
    for material_id, place_id, quantity in rows:
        grid.setdefault(material_id, {})[place_id] = quantity
    low = {m.id for m, _ in low_materials()}
    materials = db_session.scalars(
        select(Material).where(Material.id.in_(list(grid) or [0])).order_by(Material.name)
    ).all()
    if low_only:
        materials = [m for m in materials if m.id in low]
    value = {m.id: m.unit_cost * sum(grid[m.id].values()) for m in materials}
    return render_template(
        "crm_advertising/stock.html",
        materials=materials,
        places=shown,
        all_places=places,
        grid=grid,
        value=value,
        total_value=sum(value.values(), Decimal("0.00")),
        low=low,
        location_id=location_id,
        low_only=low_only,
    )
