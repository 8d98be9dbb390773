"""Demo data of crm_contracts: for a share of the demo clients, contracts in every state (in force,
expiring soon, expired, terminated early, renewed, drafts), with negotiated prices and group
discounts, dated relative to today and the same every time (a seeded random)."""

from __future__ import annotations

import random
from datetime import date, timedelta
from decimal import Decimal

from sqlalchemy import select
from sqlalchemy.orm import Session

from core import hookimpl
from core.timezone import local_today
from crm_contacts.models import Client
from crm_contracts.catalogue import catalogue
from crm_contracts.models import Condition, Contract, ContractType
from crm_contracts.numbering import next_number

SEED = 6
CONTRACTS_PER_SCALE = 40
# Used when crm_sales' catalogue is not installed: codes like those of a food distributor's.
GROUPS = (
    ("DAIRY", "Dairy products"), ("BAKERY", "Bakery"), ("DRINKS", "Soft drinks"),
    ("SNACKS", "Snacks"), ("FROZEN", "Frozen food"), ("CLEAN", "Cleaning products"),
)  # fmt: skip
PRODUCTS = (
    ("MLK-1L", "Fresh milk 1 l"), ("YOG-400", "Yoghurt 400 g"), ("BRD-750", "White bread 750 g"),
    ("WTR-15", "Mineral water 1.5 l"), ("CHP-150", "Potato chips 150 g"),
    ("DET-3L", "Detergent 3 l"),
)  # fmt: skip
TITLES = {
    "framework": "Framework agreement {year}",
    "supply": "Supply of goods {year}",
    "service": "Merchandising services {year}",
    "distribution": "Exclusive distribution {year}",
    "other": "Agreement {year}",
}
# (share, how the contract's dates sit around today)
SHAPES = (
    (30, "active"), (12, "expiring"), (14, "expired"), (6, "terminated"), (8, "renewed"),
    (6, "draft"), (4, "upcoming"), (5, "open_ended"),
)  # fmt: skip


def _year_from(start: date) -> date:
    return start + timedelta(days=364)


def _catalogue_codes() -> tuple[list, list]:
    found = catalogue()
    groups, products = list(GROUPS), list(PRODUCTS)
    if found is not None:
        groups = found.group_choices() or groups
        products = found.product_choices()[:50] or products
    return groups, products


def _conditions(rng: random.Random, groups: list, products: list) -> list[Condition]:
    conditions = []
    for code, name in rng.sample(groups, k=min(len(groups), rng.randint(1, 2))):
        percent = Decimal(rng.choice((2, 3, 5, 5, 7, 10)))
        conditions.append(
            Condition(kind="discount", group_code=code, group_name=name,
                      discount_percent=percent.quantize(Decimal("0.01")))
        )  # fmt: skip
    for code, name in rng.sample(products, k=min(len(products), rng.randint(0, 2))):
        price = (Decimal(rng.randint(80, 2500)) / 100).quantize(Decimal("0.0001"))
        conditions.append(
            Condition(kind="price", product_code=code, product_name=name, price=price)
        )
    return conditions


@hookimpl
def crm_demo_data(session: Session, scale: int) -> None:
    if session.scalar(select(Contract.id).limit(1)) is not None:
        return  # contracts are there already: demo data is added once
    rng = random.Random(SEED)
    today = local_today()
    clients = session.execute(select(Client.id, Client.responsible_id).order_by(Client.id)).all()
    types = session.execute(select(ContractType.id, ContractType.code)).all()
    if not clients or not types:
        return
    groups, products = _catalogue_codes()
    shapes = [shape for share, shape in SHAPES for _ in range(share)]
    chosen = rng.sample(clients, k=min(len(clients), CONTRACTS_PER_SCALE * scale))
    for client_id, responsible_id in chosen:
        shape = rng.choice(shapes)
        type_id, type_code = rng.choice(types)
        if shape == "active":
            start = today - timedelta(days=rng.randint(30, 300))
        elif shape == "expiring":
            start = today - timedelta(days=364 - rng.randint(3, 28))
        elif shape in ("expired", "renewed"):
            start = today - timedelta(days=rng.randint(380, 700))
        elif shape == "terminated":
            start = today - timedelta(days=rng.randint(200, 320))
        elif shape == "upcoming":
            start = today + timedelta(days=rng.randint(5, 40))
        else:
            start = today - timedelta(days=rng.randint(0, 120))
        contract = Contract(
            number=next_number(session),
            client_id=client_id,
            title=TITLES.get(type_code, "Agreement {year}").format(year=start.year),
            type_id=type_id,
            signed_on=None if shape == "draft" else start - timedelta(days=rng.randint(1, 20)),
            valid_from=start,
            valid_to=None if shape == "open_ended" else _year_from(start),
            notice_days=rng.choice((30, 60, 90)),
            value=Decimal(rng.randint(5, 400) * 1000).quantize(Decimal("0.01")),
            currency="EUR" if rng.random() < 0.7 else "BGN",
            payment_term_days=rng.choice((10, 15, 30, 45, 60)),
            responsible_id=responsible_id,
            notes="",
        )
        contract.conditions = _conditions(rng, groups, products)
        if shape == "terminated":
            contract.terminated_on = today - timedelta(days=rng.randint(1, 60))
            contract.termination_reason = rng.choice(
                ("The client closed its shop.", "Agreed by both sides.", "Repeated late payments.")
            )
        session.add(contract)
        session.flush()
        if shape == "renewed":
            successor = Contract(
                number=next_number(session),
                client_id=client_id,
                title=contract.title.replace(str(start.year), str(contract.valid_to.year)),
                type_id=type_id,
                signed_on=contract.valid_to - timedelta(days=rng.randint(3, 20)),
                valid_from=contract.valid_to + timedelta(days=1),
                valid_to=_year_from(contract.valid_to + timedelta(days=1)),
                notice_days=contract.notice_days,
                value=contract.value,
                currency=contract.currency,
                payment_term_days=contract.payment_term_days,
                responsible_id=responsible_id,
                notes="",
                predecessor_id=contract.id,
            )
            successor.conditions = _conditions(rng, groups, products)
            session.add(successor)
            session.flush()
            contract.successor_id = successor.id
    session.flush()
