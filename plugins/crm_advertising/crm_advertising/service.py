"""What happens to stock, shared by the forms, the JSON API, the CSV import and the demo, so that
every path moves stock the same way, with the same refusals.

Every refusal is a marshmallow ``ValidationError`` naming the field; nothing is written before the
checks pass, and a refused line of a hand-out undoes the lines before it (the caller rolls back).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Any

from marshmallow import ValidationError
from sqlalchemy import case, func, insert, select, update
from sqlalchemy.orm import Session

from core.models import Group, User
from crm_advertising.models import Location, Material, Movement, Stock
from crm_advertising.permissions import MANAGE_STOCK
from crm_contacts.models import Client, Person

REP_GROUP = "sales_rep"


# --- locations -----------------------------------------------------------------------------------


def location_of(session: Session, user_id: int) -> Location | None:
    return session.scalars(select(Location).where(Location.user_id == user_id)).one_or_none()


def ensure_rep_location(session: Session, user: User) -> Location | None:
    """A representative's own stock (the car), made the first time it is needed."""
    if not any(g.code == REP_GROUP for g in user.groups):
        return None
    found = session.scalars(
        select(Location).where(Location.user_id == user.id).execution_options(crm_all_records=True)
    ).one_or_none()
    if found is None:
        found = Location(name=f"{user.name} (car)", kind="representative", user_id=user.id)
        session.add(found)
        session.flush()
    return found


def ensure_rep_locations(session: Session) -> None:
    """Every representative has a location: at install, in the demo and for users made before."""
    reps = session.scalars(select(User).join(User.groups).where(Group.code == REP_GROUP)).unique()
    for user in reps:
        ensure_rep_location(session, user)


# --- stock ---------------------------------------------------------------------------------------


def available(session: Session, material_id: int, location_id: int) -> int:
    return (
        session.scalar(
            select(Stock.quantity)
            .where(Stock.material_id == material_id, Stock.location_id == location_id)
            .execution_options(crm_all_records=True)
        )
        or 0
    )


def take(session: Session, material: Material, location: Location, wanted: int, field: str) -> None:
    """Remove ``wanted`` from a location's stock, or refuse naming what is left. One conditional
    UPDATE: the database serialises it on the row (a row lock on PostgreSQL, the single writer on
    SQLite), so two concurrent takes of the last items cannot both pass."""
    done = session.execute(
        update(Stock)
        .where(
            Stock.material_id == material.id,
            Stock.location_id == location.id,
            Stock.quantity >= wanted,
        )
        .values(quantity=Stock.quantity - wanted)
        .execution_options(synchronize_session=False, crm_all_records=True)
    )
    if done.rowcount != 1:
        left = available(session, material.id, location.id)
        raise ValidationError(
            {
                field: [
                    f"Only {left} {material.unit} of {material.name} left at {location.name}; "
                    f"{wanted} asked."
                ]
            }
        )


def put(session: Session, material: Material, location: Location, quantity: int) -> None:
    done = session.execute(
        update(Stock)
        .where(Stock.material_id == material.id, Stock.location_id == location.id)
        .values(quantity=Stock.quantity + quantity)
        .execution_options(synchronize_session=False, crm_all_records=True)
    )
    if done.rowcount != 1:
        session.execute(
            insert(Stock).values(
                material_id=material.id, location_id=location.id, quantity=quantity
            )
        )


def total_stock(session: Session, material_id: int) -> int:
    return session.scalar(
        select(func.coalesce(func.sum(Stock.quantity), 0))
        .where(Stock.material_id == material_id)
        .execution_options(crm_all_records=True)
    )


# --- movements -----------------------------------------------------------------------------------


@dataclass
class Actor:
    """Who moves stock, and what they may do: a representative moves only her own stock."""

    user: Any
    permissions: frozenset[str]

    @property
    def user_id(self) -> int | None:
        return getattr(self.user, "id", None)

    @property
    def manages_stock(self) -> bool:
        return MANAGE_STOCK in self.permissions


def _get(session: Session, model: type, id_: int | None, field: str, what: str) -> Any:
    """A record the current user may see, or a refusal naming the field (the same words whether
    it is hidden or missing)."""
    if id_ is None:
        return None
    found = session.scalars(select(model).where(model.id == id_)).one_or_none()
    if found is None:
        raise ValidationError({field: [f"No such {what} among those you may use."]})
    return found


def _usable_source(actor: Actor, location: Location, field: str) -> None:
    if not location.active:
        raise ValidationError({field: [f"{location.name} is closed."]})
    if actor.manages_stock or location.kind == "warehouse" or location.user_id == actor.user_id:
        return
    raise ValidationError({field: ["You may move only your own stock or a warehouse's."]})


def _client_delta(kind: str, quantity: int) -> int:
    return {"handout": quantity, "return": -quantity}.get(kind, 0)


def _priced(movement: Movement) -> Movement:
    movement.client_cost = (movement.unit_cost * movement.client_delta).quantize(Decimal("0.01"))
    return movement


def record_movement(session: Session, actor: Actor, data: dict[str, Any]) -> Movement:
    """A receipt, transfer, return or write-off (validated by ``MovementSchema``)."""
    kind = data["kind"]
    if kind == "handout":
        lines = [{"material_id": data["material_id"], "quantity": data["quantity"]}]
        return hand_out(session, actor, {**data, "lines": lines}, line_field="quantity")[0]
    if kind in ("receipt", "writeoff") and not actor.manages_stock:
        raise ValidationError({"kind": ["Receipts and write-offs are for those who manage stock."]})
    material = _get(session, Material, data["material_id"], "material_id", "material")
    source = _get(session, Location, data.get("from_location_id"), "from_location_id", "location")
    target = _get(session, Location, data.get("to_location_id"), "to_location_id", "location")
    client = _get(session, Client, data.get("client_id"), "client_id", "client")
    if kind == "transfer":
        if source.id == target.id:
            raise ValidationError({"to_location_id": ["Choose another location than the source."]})
        _usable_source(actor, source, "from_location_id")
        if not actor.manages_stock and target.kind != "warehouse":
            raise ValidationError({"to_location_id": ["You may give stock back to a warehouse."]})
    if kind == "return":
        _usable_source(actor, target, "to_location_id")
        if not material.returnable:
            raise ValidationError({"material_id": [f"{material.name} is not returnable."]})
        out = at_client(session, client.id, material.id)
        if data["quantity"] > out:
            raise ValidationError(
                {"quantity": [f"{client.name} holds {out} {material.unit} of {material.name}."]}
            )
    if kind == "writeoff":
        _usable_source(actor, source, "from_location_id")
    if kind != "return" and client is not None:
        client = None  # only hand-outs and returns concern a client
    cost = data.get("unit_cost")
    if kind == "receipt" and cost is not None:
        material.unit_cost = cost  # the latest receipt's cost is what a hand-out now costs
    movement = Movement(
        kind=kind,
        day=data["day"],
        material_id=material.id,
        quantity=data["quantity"],
        unit_cost=cost if cost is not None else material.unit_cost,
        from_location_id=source.id if source else None,
        to_location_id=target.id if target else None,
        client_id=client.id if client else None,
        client_delta=_client_delta(kind, data["quantity"]),
        reason=data.get("reason") if kind == "writeoff" else None,
        note=data.get("note", ""),
        campaign=data.get("campaign", ""),
        created_by_id=actor.user_id,
    )
    if source is not None:
        take(session, material, source, data["quantity"], "quantity")
    if target is not None:
        put(session, material, target, data["quantity"])
    session.add(_priced(movement))
    session.flush()
    return movement


def hand_out(
    session: Session, actor: Actor, data: dict[str, Any], line_field: str | None = None
) -> list[Movement]:
    """Several materials to one client, from one location: all lines or none."""
    client = _get(session, Client, data["client_id"], "client_id", "client")
    source = _get(session, Location, data["from_location_id"], "from_location_id", "location")
    _usable_source(actor, source, "from_location_id")
    person = None
    if data.get("person_id") is not None:
        person = session.scalars(
            select(Person).where(Person.id == data["person_id"], Person.client_id == client.id)
        ).one_or_none()
        if person is None:
            raise ValidationError({"person_id": ["No such contact person at this client."]})
    ids = [line["material_id"] for line in data["lines"]]
    materials = {m.id: m for m in session.scalars(select(Material).where(Material.id.in_(ids)))}
    movements = []
    for index, line in enumerate(data["lines"]):
        field = line_field or f"lines.{index}.quantity"
        material = materials.get(line["material_id"])
        if material is None or not material.active:
            name = line_field and "material_id" or f"lines.{index}.material_id"
            raise ValidationError({name: ["No such active material."]})
        take(session, material, source, line["quantity"], field)
        movement = Movement(
            kind="handout",
            day=data["day"],
            material_id=material.id,
            quantity=line["quantity"],
            unit_cost=material.unit_cost,
            from_location_id=source.id,
            client_id=client.id,
            client_delta=line["quantity"],
            person_id=person.id if person else None,
            occasion=data.get("occasion") or "visit",
            campaign=data.get("campaign", ""),
            note=data.get("note", ""),
            created_by_id=actor.user_id,
        )
        session.add(_priced(movement))
        movements.append(movement)
    session.flush()
    return movements


def reverse(session: Session, actor: Actor, movement: Movement, day: date) -> Movement:
    """Undo a movement by its mirror image; a movement is reversed at most once."""
    if movement.reverses_id is not None:
        raise ValidationError({"movement": ["A reversal cannot itself be reversed."]})
    if movement.reversed_by is not None:
        raise ValidationError({"movement": ["This movement was reversed already."]})
    if not actor.manages_stock and movement.created_by_id != actor.user_id:
        raise ValidationError({"movement": ["Only its author or a stock manager may reverse it."]})
    material = movement.material
    mirror = Movement(
        kind=movement.kind,
        day=day,
        material_id=material.id,
        quantity=movement.quantity,
        unit_cost=movement.unit_cost,
        from_location_id=movement.to_location_id,
        to_location_id=movement.from_location_id,
        client_id=movement.client_id,
        client_delta=-movement.client_delta,
        person_id=movement.person_id,
        occasion=movement.occasion,
        campaign=movement.campaign,
        reason=movement.reason,
        note=f"Reverses movement #{movement.id}",
        reverses_id=movement.id,
        created_by_id=actor.user_id,
    )
    if movement.client_delta > 0:
        held = at_client(session, movement.client_id, material.id)
        if held < movement.client_delta:
            raise ValidationError({"movement": [f"The client holds only {held} of them now."]})
    if movement.to_location is not None:
        take(session, material, movement.to_location, movement.quantity, "movement")
    if movement.from_location is not None:
        put(session, material, movement.from_location, movement.quantity)
    session.add(_priced(mirror))
    session.flush()
    return mirror


# --- what clients hold ---------------------------------------------------------------------------


def at_client(session: Session, client_id: int, material_id: int) -> int:
    return session.scalar(
        select(func.coalesce(func.sum(Movement.client_delta), 0)).where(
            Movement.client_id == client_id, Movement.material_id == material_id
        )
    )


def outstanding(session: Session, *conditions: Any) -> list[Any]:
    """Returnable items still at clients: client, material, quantity, the last hand-out's date."""
    held = func.sum(Movement.client_delta)
    return session.execute(
        select(
            Movement.client_id,
            Client.name.label("client"),
            Movement.material_id,
            Material.name.label("material"),
            held.label("quantity"),
            func.max(case((Movement.client_delta > 0, Movement.day))).label("since"),
        )
        .join(Client, Client.id == Movement.client_id)
        .join(Material, Material.id == Movement.material_id)
        .where(Material.returnable, Movement.client_id.is_not(None), *conditions)
        .group_by(Movement.client_id, Client.name, Movement.material_id, Material.name)
        .having(held > 0)
        .order_by(func.max(case((Movement.client_delta > 0, Movement.day))), Client.name)
    ).all()


def cost_total(rows: Iterable[Movement]) -> Decimal:
    return sum((m.cost for m in rows), Decimal("0.00"))
