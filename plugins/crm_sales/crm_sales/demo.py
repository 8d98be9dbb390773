"""Demo data of crm_sales: a wholesaler's catalogue (a group tree and about 300 products) and,
for every demo client, invoices, a few credit notes and payments from 1 January two years ago up
to today, with seasonality (a summer and a December peak, a January dip), each client's own size,
trend and habits of payment. Deterministic (seeded), dates relative to today.

Documents, lines and payments are written as an import writes them (set-based statements, a few
per 500 documents); the catalogue goes through the ORM, which keeps the group paths.
"""

from __future__ import annotations

import random
from datetime import date, timedelta
from decimal import ROUND_HALF_UP, Decimal

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from core import hookimpl
from crm_contacts.models import Client
from crm_sales.documents import DocumentData, LineData, PaymentData, write_documents
from crm_sales.models import Product, ProductGroup, SalesDocument
from crm_sales.settings import CENT, installation_currency

SEED = 7
# Group tree: top-level group -> {subgroup: (unit, price range, product bases)}.
CATALOGUE: dict[str, dict[str, tuple[str, tuple[int, int], tuple[str, ...]]]] = {
    "Food": {
        "Dairy": ("pcs", (1, 9), (
            "Fresh milk", "Yogurt", "White cheese", "Yellow cheese", "Butter", "Cream",
        )),
        "Bakery": ("pcs", (1, 6), ("White bread", "Rye bread", "Croissant", "Baguette", "Rusks")),
        "Beverages": ("bottle", (1, 5), (
            "Mineral water", "Apple juice", "Orange juice", "Cola", "Lemonade", "Iced tea",
        )),
        "Confectionery": ("pcs", (1, 8), ("Chocolate bar", "Wafers", "Biscuits", "Halva", "Lokum")),
    },
    "Household": {
        "Cleaning": ("pcs", (2, 15), (
            "Dish soap", "Floor cleaner", "Glass cleaner", "Bleach", "Washing powder",
        )),
        "Paper goods": ("pack", (2, 12), ("Toilet paper", "Kitchen towels", "Napkins", "Tissues")),
        "Kitchenware": ("pcs", (4, 40), (
            "Frying pan", "Pot", "Knife set", "Cutting board", "Baking tray",
        )),
    },
    "Office": {
        "Paper": ("ream", (3, 12), ("Copy paper A4", "Copy paper A3", "Notebook", "Sticky notes")),
        "Writing": ("pcs", (1, 10), (
            "Ballpoint pen", "Gel pen", "Pencil", "Marker", "Highlighter",
        )),
        "Filing": ("pcs", (1, 9), ("Lever arch file", "Binder", "Folder", "Sheet protectors")),
    },
    "Hygiene": {
        "Hair care": ("bottle", (3, 14), ("Shampoo", "Conditioner", "Hair gel", "Hair spray")),
        "Oral care": ("pcs", (1, 8), ("Toothpaste", "Toothbrush", "Mouthwash", "Dental floss")),
        "Skin care": ("pcs", (3, 20), (
            "Hand cream", "Body lotion", "Soap bar", "Shower gel", "Sun cream",
        )),
    },
    "Tools": {
        "Hand tools": ("pcs", (5, 60), (
            "Hammer", "Screwdriver set", "Pliers", "Wrench", "Saw", "Tape measure",
        )),
        "Power tools": ("pcs", (40, 300), (
            "Drill", "Angle grinder", "Jigsaw", "Sander", "Impact driver",
        )),
        "Garden": ("pcs", (4, 80), (
            "Garden hose", "Pruning shears", "Rake", "Shovel", "Watering can",
        )),
    },
}  # fmt: skip
VARIANTS = ("", "small", "large", "premium", "eco", "family pack")
# Seasonality by month (January first): a January dip, a summer peak, a December peak.
SEASON = (0.7, 0.8, 0.95, 1.0, 1.05, 1.2, 1.3, 1.1, 1.0, 1.0, 1.1, 1.4)


def _code(name: str, length: int = 4) -> str:
    return "".join(ch for ch in name.upper() if ch.isalpha())[:length]


def build_catalogue(session: Session, rng: random.Random) -> list[Product]:
    """About 300 products under 5 top-level groups and 16 subgroups."""
    currency = installation_currency()
    products: list[Product] = []
    for top_name, subgroups in CATALOGUE.items():
        top = ProductGroup(code=_code(top_name, 6), name=top_name)
        session.add(top)
        for sub_name, (unit, (low, high), bases) in subgroups.items():
            sub = ProductGroup(code=f"{top.code}-{_code(sub_name, 6)}", name=sub_name, parent=top)
            session.add(sub)
            for b, base in enumerate(bases):
                for v, variant in enumerate(VARIANTS[: rng.randint(2, 4) + 1]):
                    price = Decimal(rng.uniform(low, high)).quantize(CENT, ROUND_HALF_UP)
                    products.append(
                        Product(
                            code=f"{top.code[:2]}{_code(sub_name, 3)}-{b + 1:02d}{v + 1}",
                            name=f"{base} {variant}".strip(),
                            unit=unit,
                            list_price=price + Decimal("0.99") - price % 1,
                            currency=currency,
                            group=sub,
                            active=rng.random() > 0.03,
                        )
                    )
    session.add_all(products)
    session.flush()
    return products


@hookimpl
def crm_demo_data(session: Session, scale: int) -> None:
    if session.scalar(select(func.count()).select_from(Product)):
        return  # the catalogue is there already: demo data is added once
    rng = random.Random(SEED)
    products = build_catalogue(session, rng)
    clients = session.execute(
        select(Client.id, Client.responsible_id, Client.payment_term_days, Client.status)
        .order_by(Client.id)
    ).all()  # fmt: skip
    if not clients:
        return
    write_history(session, rng, clients, products, date.today())


def write_history(
    session: Session,
    rng: random.Random,
    clients: list,
    products: list[Product],
    today: date,
) -> None:
    """Invoices, credit notes and payments of ``clients`` from 1 January two years ago to today,
    written as an import writes them (``crm_sales.documents.write_documents``)."""
    currency = installation_currency()
    start = date(today.year - 2, 1, 1)
    next_id = (session.scalar(select(func.max(SalesDocument.id))) or 0) + 1
    documents: list[DocumentData] = []
    catalogue = [p for p in products if p.active]
    for client_id, responsible_id, term, status in clients:
        if status == "prospect" and rng.random() < 0.7:
            continue  # most prospects have bought nothing yet
        size = rng.lognormvariate(0, 0.8)  # how much this client buys
        trend = rng.uniform(0.8, 1.3)  # its yearly growth or decline
        term = term or rng.choice((15, 30, 30, 45, 60))
        lateness = rng.choice((-5, 0, 0, 3, 10, 25))  # days paid after (or before) the term
        favourites = rng.sample(catalogue, k=min(len(catalogue), rng.randint(8, 30)))
        of_client = {"client_id": client_id, "currency": currency,
                     "responsible_id": responsible_id, "responsible_known": True}  # fmt: skip
        day = start + timedelta(days=rng.randint(0, 20))
        while day <= today:
            years_back = (today - day).days / 365
            weight = size * SEASON[day.month - 1] * trend ** (-years_back)
            lines = []
            for _ in range(rng.randint(1, 6)):
                product = rng.choice(favourites)
                quantity = Decimal(max(1, round(rng.uniform(2, 40) * weight)))
                discount = rng.choice((Decimal("0"), Decimal("0"), Decimal("3"), Decimal("5")))
                lines.append(LineData(product, quantity, product.list_price, discount))
            due = day + timedelta(days=term)
            paid_on = due + timedelta(days=lateness + rng.randint(-5, 5))
            total = sum((line.computed_amount() for line in lines), Decimal("0.00"))
            documents.append(
                DocumentData(
                    number=f"INV-{day.year}-{next_id:06d}", kind="invoice", date=day,
                    due_date=due, lines=lines,
                    payments=[PaymentData(paid_on, total)] if paid_on <= today else [],
                    **of_client,
                )
            )  # fmt: skip
            next_id += 1
            if rng.random() < 0.04:  # a return: part of one line credited a week later
                returned = rng.choice(lines)
                quantity = max(Decimal(1), (returned.quantity / 4).quantize(Decimal(1)))
                credit_day = min(day + timedelta(days=7), today)
                documents.append(
                    DocumentData(
                        number=f"CN-{credit_day.year}-{next_id:06d}", kind="credit_note",
                        date=credit_day,
                        lines=[LineData(returned.product, quantity, returned.unit_price)],
                        **of_client,
                    )
                )  # fmt: skip
                next_id += 1
            # Bigger clients order more often: every 5 to 30 days.
            day += timedelta(days=max(4, round(rng.uniform(10, 35) / min(size, 3) ** 0.5)))
    write_documents(session, documents)
