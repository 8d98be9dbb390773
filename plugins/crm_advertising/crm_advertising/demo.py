"""Demo data of crm_advertising: a dozen materials, a warehouse, a location per representative,
and a year of movements (receipts, transfers to the cars, hand-outs at visits, fairs and
campaigns, stands returned, a few write-offs), the same every time (a seeded random). Written
through the service, as a user's movements are, so the stock always adds up."""

from __future__ import annotations

import random
from datetime import timedelta
from decimal import Decimal
from types import SimpleNamespace

from sqlalchemy import select
from sqlalchemy.orm import Session

from core import hookimpl
from core.timezone import local_today
from crm_advertising.models import DEFAULT_KINDS, Location, Material, MaterialKind, Stock
from crm_advertising.permissions import MANAGE_STOCK
from crm_advertising.service import Actor, ensure_rep_locations, hand_out, record_movement
from crm_contacts.models import Client, Person

SEED = 17
MATERIALS = (
    # code, name, kind, unit, cost, returnable, reorder level
    ("CAT-2026", "Product catalogue 2026", "catalogue", "pcs", "4.80", False, 200),
    ("CAT-PRO", "Professional catalogue", "catalogue", "pcs", "7.50", False, 100),
    ("BRO-NEW", "New products brochure", "brochure", "pcs", "0.60", False, 500),
    ("BRO-PRICE", "Price list leaflet", "brochure", "pcs", "0.25", False, 500),
    ("STAND-FLOOR", "Floor display stand", "display_stand", "pcs", "145.00", True, 5),
    ("STAND-COUNTER", "Counter display", "display_stand", "pcs", "38.00", True, 10),
    ("SMP-YOG", "Yoghurt tasting pack", "sample", "box", "12.40", False, 30),
    ("SMP-SNACK", "Snack sample box", "sample", "box", "9.90", False, 30),
    ("GFT-PEN", "Branded pen", "gift", "pcs", "0.90", False, 300),
    ("GFT-MUG", "Branded mug", "gift", "pcs", "3.20", False, 100),
    ("GFT-CAL", "Wall calendar 2027", "gift", "pcs", "2.10", False, 150),
    ("FRIDGE-STK", "Fridge sticker set", "other", "set", "1.50", False, 100),
    ("POS-BANNER", "Shop banner", "other", "pcs", "22.00", True, 5),
)
CAMPAIGNS = ("Spring launch", "Summer tasting", "Back to school", "Christmas")


def add_default_kinds(session: Session) -> None:
    present = set(session.scalars(select(MaterialKind.code)))
    for order, (code, name) in enumerate(DEFAULT_KINDS):
        if code not in present:
            session.add(MaterialKind(code=code, name=name, order=(order + 1) * 10))
    session.flush()


@hookimpl
def crm_demo_data(session: Session, scale: int) -> None:
    if session.scalar(select(Material.id).limit(1)) is not None:
        return  # materials are there already: demo data is added once
    rng = random.Random(SEED)
    add_default_kinds(session)
    ensure_rep_locations(session)
    kinds = {k.code: k.id for k in session.scalars(select(MaterialKind))}
    warehouse = Location(name="Central warehouse", kind="warehouse")
    session.add(warehouse)
    materials = [
        Material(
            code=c,
            name=n,
            kind_id=kinds[k],
            unit=u,
            unit_cost=Decimal(cost),
            returnable=r,
            reorder_level=level,
        )
        for c, n, k, u, cost, r, level in MATERIALS
    ]
    session.add_all(materials)
    session.flush()
    reps = list(session.scalars(select(Location).where(Location.kind == "representative")))
    system = Actor(SimpleNamespace(id=None), frozenset({MANAGE_STOCK}))
    today = local_today()
    start = today - timedelta(days=365)
    for material in materials:
        record_movement(
            session,
            system,
            {
                "kind": "receipt",
                "day": start,
                "material_id": material.id,
                "quantity": material.reorder_level * 6 * max(scale, 1),
                "to_location_id": warehouse.id,
                "unit_cost": material.unit_cost,
                "note": "Opening stock",
            },
        )
    clients_of: dict[int, list[tuple[int, int | None]]] = {}
    for client_id, rep_id in session.execute(select(Client.id, Client.responsible_id)):
        clients_of.setdefault(rep_id, []).append((client_id, None))
    persons = dict(
        session.execute(select(Person.client_id, Person.id).where(Person.is_primary)).all()
    )
    for month in range(12):
        day = start + timedelta(days=30 * month + 2)
        for rep in reps:
            actor = Actor(SimpleNamespace(id=rep.user_id), frozenset({MANAGE_STOCK}))
            for material in rng.sample(materials, k=5):
                wanted = max(1, material.reorder_level // 4)
                record_movement(
                    session,
                    system,
                    {
                        "kind": "transfer",
                        "day": day,
                        "material_id": material.id,
                        "quantity": wanted,
                        "from_location_id": warehouse.id,
                        "to_location_id": rep.id,
                        "note": "Monthly refill",
                    },
                )
            mine = clients_of.get(rep.user_id, [])
            for client_id, _ in rng.sample(mine, k=min(len(mine), 4)):
                held = dict(
                    session.execute(
                        select(Stock.material_id, Stock.quantity).where(
                            Stock.location_id == rep.id, Stock.quantity > 0
                        )
                    ).all()
                )
                choices = [m for m in materials if held.get(m.id)]
                if not choices:
                    continue
                lines = []
                for material in rng.sample(choices, k=min(2, len(choices))):
                    amount = (
                        1 if material.returnable else rng.randint(1, max(1, held[material.id] // 3))
                    )
                    lines.append({"material_id": material.id, "quantity": amount})
                occasion = rng.choice(("visit", "visit", "visit", "fair", "campaign"))
                hand_out(
                    session,
                    actor,
                    {
                        "client_id": client_id,
                        "from_location_id": rep.id,
                        "person_id": persons.get(client_id),
                        "day": day + timedelta(days=rng.randint(1, 25)),
                        "occasion": occasion,
                        "campaign": rng.choice(CAMPAIGNS) if occasion == "campaign" else "",
                        "note": "",
                        "lines": lines,
                    },
                )
    _returns_and_write_offs(session, rng, system, warehouse, materials, today)
    session.flush()


def _returns_and_write_offs(session, rng, system, warehouse, materials, today) -> None:
    """Half of the stands handed out more than four months ago came back to the warehouse; a
    few items were damaged there each quarter."""
    from crm_advertising.models import Movement
    from crm_advertising.service import at_client

    old = session.execute(
        select(Movement.client_id, Movement.material_id, Movement.day)
        .join(Material, Material.id == Movement.material_id)
        .where(
            Material.returnable,
            Movement.kind == "handout",
            Movement.day < today - timedelta(days=120),
        )
    ).all()
    for client_id, material_id, day in old[::2]:
        if at_client(session, client_id, material_id) > 0:
            record_movement(
                session,
                system,
                {
                    "kind": "return",
                    "day": day + timedelta(days=90),
                    "material_id": material_id,
                    "quantity": 1,
                    "client_id": client_id,
                    "to_location_id": warehouse.id,
                    "note": "Stand collected after the promotion",
                },
            )
    for quarter in range(4):
        material = rng.choice(materials)
        record_movement(
            session,
            system,
            {
                "kind": "writeoff",
                "day": today - timedelta(days=90 * quarter + 10),
                "material_id": material.id,
                "quantity": 2,
                "from_location_id": warehouse.id,
                "reason": rng.choice(("damaged", "lost", "expired")),
                "note": "Stock count",
            },
        )
