"""Helpers for tests of crm_advertising and of modules built on it: give a representative's car
some stock from the first warehouse, as a stock manager's transfer would."""

from __future__ import annotations

from datetime import date
from types import SimpleNamespace

from flask import Flask
from sqlalchemy import select

from core.db import db_session
from core.models import User
from crm_advertising.models import Location, Stock
from crm_advertising.permissions import MANAGE_STOCK
from crm_advertising.service import Actor, ensure_rep_location, record_movement


def car_of(app: Flask, login: str) -> int:
    with app.app_context():
        user = db_session.scalars(select(User).where(User.login == login)).one()
        location = ensure_rep_location(db_session, user)
        db_session.commit()
        return location.id


def fill_car(app: Flask, login: str, quantities: dict[int, int]) -> int:
    car = car_of(app, login)
    with app.app_context():
        warehouse = db_session.scalars(
            select(Location).where(Location.kind == "warehouse").order_by(Location.id)
        ).first()
        system = Actor(SimpleNamespace(id=None), frozenset({MANAGE_STOCK}))
        for material_id, count in quantities.items():
            record_movement(
                db_session,
                system,
                {
                    "kind": "transfer",
                    "day": date(2026, 2, 1),
                    "material_id": material_id,
                    "quantity": count,
                    "from_location_id": warehouse.id,
                    "to_location_id": car,
                },
            )
        db_session.commit()
    return car


def stock_of(app: Flask, material_id: int, location_id: int) -> int:
    with app.app_context():
        return (
            db_session.scalar(
                select(Stock.quantity).where(
                    Stock.material_id == material_id, Stock.location_id == location_id
                )
            )
            or 0
        )
