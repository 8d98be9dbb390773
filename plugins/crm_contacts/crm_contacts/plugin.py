"""Manifest and hook implementations of crm_contacts."""

from __future__ import annotations

import random

from flask import url_for
from sqlalchemy import func, or_, select, true

from core import Manifest, MenuItem, ModelDef, Permission, hookimpl
from core.models import User
from core.record_rules import RecordRule
from core.search import SearchHit
from crm_contacts.models import Client
from crm_contacts.schemas import ClientSchema

MANIFEST = Manifest(
    name="crm_contacts",
    summary="Clients, contact persons and the history of contacts",
    application=True,
)


@hookimpl
def crm_models():
    return [ModelDef(Client, label="Client", schema=ClientSchema)]


@hookimpl
def crm_blueprints():
    from crm_contacts.views import api, bp

    return [bp, api]


@hookimpl
def crm_menus():
    return [
        MenuItem("crm_contacts.root", "Clients", order=10),
        MenuItem(
            "crm_contacts.clients",
            "All clients",
            endpoint="crm_contacts.client_list",
            parent="crm_contacts.root",
            order=10,
            permission="crm_contacts.read",
        ),
    ]


@hookimpl
def crm_permissions():
    return [
        Permission(
            "crm_contacts.read",
            "Read clients",
            groups=("sales_manager", "sales_rep", "back_office"),
        ),
        Permission(
            "crm_contacts.write",
            "Create and edit clients",
            groups=("sales_manager", "sales_rep", "back_office"),
        ),
    ]


@hookimpl
def crm_record_rules():
    return [
        RecordRule(
            "crm_contacts.own_clients",
            "Sales representatives see only the clients they are responsible for",
            Client,
            groups=("sales_rep",),
            criteria=lambda user: Client.responsible_id == user.id,
        ),
        # Managers and back office see every client, even when they are representatives too.
        RecordRule(
            "crm_contacts.all_clients",
            "Sales managers and back office see all clients",
            Client,
            groups=("sales_manager", "back_office"),
            criteria=lambda user: true(),
        ),
    ]


@hookimpl
def crm_search(session, query, user):
    like = f"%{query.lower()}%"
    clients = session.scalars(
        select(Client)
        .where(or_(func.lower(Client.name).like(like), func.lower(Client.city).like(like)))
        .order_by(Client.name)
        .limit(10)
    )
    return [
        SearchHit(c.name, url_for("crm_contacts.client_detail", client_id=c.id), "Client", c.city)
        for c in clients
    ]


_NAMES = (
    "Bioprom",
    "Agrotech",
    "Nova Foods",
    "Sever Trade",
    "Dunav Pharma",
    "Orion Retail",
    "Balkan Metals",
    "Zora Textiles",
    "Rila Water",
    "Pirin Wood",
    "Struma Logistics",
    "Vitosha Market",
    "Iskar Paper",
    "Maritsa Grain",
    "Tundzha Chem",
)
_CITIES = ("Sofia", "Plovdiv", "Varna", "Burgas", "Ruse", "Pleven", "Stara Zagora")
_SUFFIXES = ("Ltd", "JSC", "& Co", "Group", "Trading")


@hookimpl
def crm_demo_data(session, scale):
    rng = random.Random(4)  # the same demo every time
    representatives = session.scalars(
        select(User.id).where(User.login.in_(("maria", "peter"))).order_by(User.login)
    ).all() or [None]
    count = 40 * scale
    for i in range(count):
        name = f"{_NAMES[i % len(_NAMES)]} {_SUFFIXES[(i // len(_NAMES)) % len(_SUFFIXES)]}"
        if i >= len(_NAMES) * len(_SUFFIXES):
            name += f" {i}"
        session.add(
            Client(
                name=name,
                email=f"office{i}@example.com",
                phone=f"+359 2 {rng.randint(100, 999)} {rng.randint(1000, 9999)}",
                city=rng.choice(_CITIES),
                status=rng.choice(("prospect", "active", "active", "inactive")),
                responsible_id=representatives[i % len(representatives)],
            )
        )
