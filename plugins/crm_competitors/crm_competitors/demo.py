"""Demo data of crm_competitors: seven competitors of a food distributor, present at a third of
the demo clients, with two years of moves; dated relative to today and the same every time (a
seeded random)."""

from __future__ import annotations

import random
from datetime import timedelta
from decimal import Decimal

from sqlalchemy import select
from sqlalchemy.orm import Session

from core import hookimpl
from core.timezone import local_today
from crm_competitors.groups import group_choices
from crm_competitors.models import (
    KINDS,
    Change,
    ChangeGroup,
    Competitor,
    CompetitorGroup,
    Presence,
    PresenceGroup,
)
from crm_contacts.models import Client, Region

SEED = 16
# Used when crm_sales' catalogue is not installed.
GROUPS = ("Dairy products", "Bakery", "Beverages", "Snacks", "Frozen food", "Cleaning products")
# Where each competes, by the names of crm_contacts' demo regions (others: chosen at random).
REGIONS = {
    "Acme Foods": ("North", "Sofia"),
    "Balkan Distribution": ("North", "South", "Sofia"),
    "Metro Trade": ("Sofia", "Abroad"),
    "Coastline Wholesale": ("Black Sea coast",),
    "Danube Goods": ("North",),
    "EuroFresh": ("Abroad", "Sofia"),
    "Rila Supply": ("South",),
}
COMPETITORS = (
    # name, website, country, price position, status, strengths, weaknesses
    ("Acme Foods", "https://www.acme-foods.example", "BG", "cheaper", "active",
     "Aggressive prices, fast delivery in the north.", "Narrow range, frequent stock-outs."),
    ("Balkan Distribution", "https://balkan-distribution.example", "BG", "same", "active",
     "Nation-wide fleet, long payment terms.", "Slow to answer complaints."),
    ("Metro Trade", "https://metro-trade.example", "RO", "dearer", "active",
     "Strong brands, merchandisers in every big shop.", "Expensive; minimum orders."),
    ("Coastline Wholesale", "https://coastline.example", "BG", "cheaper", "active",
     "Owns warehouses in Varna and Burgas.", "Seasonal: weak outside the summer."),
    ("Danube Goods", "https://danube-goods.example", "BG", "same", "active",
     "Close to producers, fresh dairy.", "Only the north and Sofia."),
    ("EuroFresh", "https://eurofresh.example", "DE", "dearer", "active",
     "Imported premium range.", "Long delivery times."),
    ("Rila Supply", "", "BG", "cheaper", "left",
     "Was cheapest on cleaning products.", "Left the market after losing its main supplier."),
)  # fmt: skip
DESCRIPTIONS = {
    "price_change": "List prices changed for shops and restaurants.",
    "promotion": "Buy ten, get one free for new customers until the end of the month.",
    "new_product": "Launched a private-label range.",
    "region_entry": "Opened a sales office and started deliveries.",
    "region_exit": "Stopped delivering; customers are offered a partner instead.",
    "new_distributor": "Signed an exclusive regional distributor.",
    "payment_terms": "Payment terms extended to 60 days for key accounts.",
    "other": "Hired two of our former representatives.",
}
SOURCES = ("Told by the buyer", "Their price list", "Trade fair", "Newspaper", "Our representative")
CHANGES_PER_COMPETITOR = (20, 40)  # two years of moves
PRESENT_SHARE = 3  # one client in three


@hookimpl
def crm_demo_data(session: Session, scale: int) -> None:
    if session.scalar(select(Competitor.id).limit(1)) is not None:
        return  # competitors are there already: demo data is added once
    rng = random.Random(SEED)
    today = local_today()
    regions = list(session.scalars(select(Region).order_by(Region.order, Region.name)))
    groups = group_choices() or list(GROUPS)
    competitors = []
    for name, website, country, position, status, strengths, weaknesses in COMPETITORS:
        competitor = Competitor(
            name=name, website=website, country=country, price_position=position, status=status,
            strengths=strengths, weaknesses=weaknesses, notes="",
        )  # fmt: skip
        named = [r for r in regions if r.name in REGIONS[name]]
        competitor.regions = named or rng.sample(regions, k=min(len(regions), rng.randint(1, 3)))
        competitor.group_rows = [
            CompetitorGroup(name=g) for g in rng.sample(groups, k=min(len(groups), 3))
        ]
        competitors.append(competitor)
    session.add_all(competitors)
    session.flush()
    _presences(session, rng, competitors, today)
    for competitor in competitors:
        for _ in range(rng.randint(*CHANGES_PER_COMPETITOR)):
            kind = rng.choice(KINDS)
            change = Change(
                competitor_id=competitor.id,
                kind=kind,
                occurred_on=today - timedelta(days=rng.randint(0, 730)),
                percent=Decimal(rng.choice((-15, -10, -5, -3, 2, 4, 8))) if kind == "price_change"
                else None,
                description=DESCRIPTIONS[kind],
                source=rng.choice(SOURCES),
            )  # fmt: skip
            change.regions = [rng.choice(competitor.regions)] if competitor.regions else []
            change.group_rows = [ChangeGroup(name=rng.choice(competitor.groups))]
            session.add(change)
    session.flush()


def _presences(session: Session, rng: random.Random, competitors: list, today) -> None:
    clients = session.execute(
        select(Client.id, Client.responsible_id, Client.region_id).order_by(Client.id)
    ).all()
    active = [c for c in competitors if c.status == "active"]
    for client_id, responsible_id, region_id in clients[::PRESENT_SHARE]:
        # Mostly the competitors active in the client's region, as in real life.
        local = [c for c in active if region_id in {r.id for r in c.regions}] or active
        for competitor in rng.sample(local, k=min(len(local), rng.choice((1, 1, 1, 2)))):
            since = today - timedelta(days=rng.randint(60, 1200))
            ended = rng.random() < 0.15
            presence = Presence(
                competitor_id=competitor.id,
                client_id=client_id,
                share_percent=Decimal(rng.choice((5, 10, 15, 20, 25, 35, 40, 60))),
                since=since,
                until=since + timedelta(days=rng.randint(30, 50)) if ended else None,
                source=rng.choice(SOURCES[:1] + SOURCES[4:]),
                notes="",
                recorded_by_id=responsible_id,
            )
            presence.group_rows = [
                PresenceGroup(name=g) for g in rng.sample(competitor.groups, k=rng.randint(1, 2))
            ]
            session.add(presence)
