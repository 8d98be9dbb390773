"""Advertising materials, where they are, and every movement that put them there.

Stock is kept per material and location (``Stock``) and changed only by ``Movement`` rows, in the
same transaction: a movement is never edited, a mistake is undone by a reversing movement, so the
history always adds up to the stock (``crm advertising check`` proves it on a live database).

A quantity never goes below zero: a ``CHECK`` on ``Stock.quantity`` and a conditional
``UPDATE ... WHERE quantity >= :wanted`` (see ``service.take``), which the database serialises on
the row (PostgreSQL's row lock; SQLite's single writer), so two representatives handing out the
last catalogues at the same moment cannot both succeed.
"""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal

from sqlalchemy import (
    Boolean,
    CheckConstraint,
    Date,
    DateTime,
    ForeignKey,
    Integer,
    Numeric,
    String,
    Text,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from core.db import Base
from core.models import User, utcnow
from crm_contacts.models import Client, Person

DEFAULT_KINDS = (
    ("catalogue", "Catalogue"),
    ("brochure", "Brochure"),
    ("display_stand", "Display stand"),
    ("sample", "Sample"),
    ("gift", "Gift"),
    ("other", "Other"),
)
MOVEMENT_KINDS = {
    "receipt": "Receipt",
    "transfer": "Transfer",
    "handout": "Hand-out",
    "return": "Return from client",
    "writeoff": "Write-off",
}
OCCASIONS = {"visit": "Visit", "fair": "Fair", "campaign": "Campaign", "other": "Other"}
WRITEOFF_REASONS = {"damaged": "Damaged", "lost": "Lost", "expired": "Expired"}
LOCATION_KINDS = {"warehouse": "Warehouse", "representative": "Representative's stock"}


class MaterialKind(Base):
    """A configurable list: catalogue, brochure, display stand, sample, gift, other."""

    __tablename__ = "crm_advertising_kind"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    code: Mapped[str] = mapped_column(String(50), unique=True)
    name: Mapped[str] = mapped_column(String(100), info={"label": "Name"})
    order: Mapped[int] = mapped_column(Integer, default=100)


class Material(Base):
    __tablename__ = "crm_advertising_material"
    __crm_audit__ = True

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    code: Mapped[str] = mapped_column(String(50), unique=True, info={"label": "Code"})
    name: Mapped[str] = mapped_column(String(200), index=True, info={"label": "Name"})
    kind_id: Mapped[int | None] = mapped_column(
        ForeignKey("crm_advertising_kind.id", ondelete="SET NULL"),
        index=True,
        info={"label": "Kind"},
    )
    unit: Mapped[str] = mapped_column(String(20), default="pcs", info={"label": "Unit"})
    unit_cost: Mapped[Decimal] = mapped_column(
        Numeric(12, 2), default=Decimal("0.00"), info={"label": "Unit cost"}
    )
    returnable: Mapped[bool] = mapped_column(Boolean, default=False, info={"label": "Returnable"})
    active: Mapped[bool] = mapped_column(Boolean, default=True, info={"label": "Active"})
    reorder_level: Mapped[int] = mapped_column(Integer, default=0, info={"label": "Reorder level"})
    notes: Mapped[str] = mapped_column(Text, default="", info={"label": "Notes"})
    version: Mapped[int] = mapped_column(Integer, default=1)

    kind: Mapped[MaterialKind | None] = relationship()

    __mapper_args__ = {"version_id_col": version}
    __table_args__ = (
        CheckConstraint("unit_cost >= 0", name="unit_cost_not_negative"),
        CheckConstraint("reorder_level >= 0", name="reorder_level_not_negative"),
    )


class Location(Base):
    """A warehouse, or one representative's own stock (the car): one per representative."""

    __tablename__ = "crm_advertising_location"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(200), info={"label": "Name"})
    kind: Mapped[str] = mapped_column(String(20), default="warehouse", info={"label": "Kind"})
    user_id: Mapped[int | None] = mapped_column(
        ForeignKey("core_user.id", ondelete="CASCADE"),
        unique=True,
        info={"label": "Representative"},
    )
    active: Mapped[bool] = mapped_column(Boolean, default=True)

    user: Mapped[User | None] = relationship()


class Stock(Base):
    __tablename__ = "crm_advertising_stock"

    material_id: Mapped[int] = mapped_column(
        ForeignKey("crm_advertising_material.id", ondelete="CASCADE"), primary_key=True
    )
    location_id: Mapped[int] = mapped_column(
        ForeignKey("crm_advertising_location.id", ondelete="CASCADE"),
        primary_key=True,
        index=True,
    )
    quantity: Mapped[int] = mapped_column(Integer, default=0, info={"label": "Quantity"})

    material: Mapped[Material] = relationship()
    location: Mapped[Location] = relationship()

    __table_args__ = (CheckConstraint("quantity >= 0", name="quantity_not_negative"),)


class Movement(Base):
    """One change of stock. ``from_location`` loses ``quantity``, ``to_location`` gains it; a
    hand-out goes from a location to ``client``, a return from ``client`` to a location.
    ``client_delta`` is what the client holds more (+) or less (−) afterwards, so that what is
    still at a client is a plain sum. A reversal repeats the movement the other way round and
    names the one it reverses."""

    __tablename__ = "crm_advertising_movement"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    kind: Mapped[str] = mapped_column(String(20), index=True, info={"label": "Kind"})
    day: Mapped[date] = mapped_column(Date, index=True, info={"label": "Date"})
    material_id: Mapped[int] = mapped_column(
        ForeignKey("crm_advertising_material.id", ondelete="CASCADE"),
        index=True,
        info={"label": "Material"},
    )
    quantity: Mapped[int] = mapped_column(Integer, info={"label": "Quantity"})
    unit_cost: Mapped[Decimal] = mapped_column(
        Numeric(12, 2), default=Decimal("0.00"), info={"label": "Unit cost"}
    )
    from_location_id: Mapped[int | None] = mapped_column(
        ForeignKey("crm_advertising_location.id", ondelete="CASCADE"),
        index=True,
        info={"label": "From"},
    )
    to_location_id: Mapped[int | None] = mapped_column(
        ForeignKey("crm_advertising_location.id", ondelete="CASCADE"),
        index=True,
        info={"label": "To"},
    )
    client_id: Mapped[int | None] = mapped_column(
        ForeignKey("crm_contacts_client.id", ondelete="CASCADE"),
        index=True,
        info={"label": "Client"},
    )
    client_delta: Mapped[int] = mapped_column(Integer, default=0, info={"label": "Items to client"})
    # client_delta × unit_cost: what the client received, in money (negative for a return), so
    # that reports sum a column.
    client_cost: Mapped[Decimal] = mapped_column(
        Numeric(14, 2), default=Decimal("0.00"), info={"label": "Cost to client"}
    )
    person_id: Mapped[int | None] = mapped_column(
        ForeignKey("crm_contacts_person.id", ondelete="SET NULL"), info={"label": "Contact person"}
    )
    occasion: Mapped[str | None] = mapped_column(String(20), info={"label": "Occasion"})
    campaign: Mapped[str] = mapped_column(String(200), default="", info={"label": "Campaign"})
    reason: Mapped[str | None] = mapped_column(String(20), info={"label": "Reason"})
    note: Mapped[str] = mapped_column(Text, default="", info={"label": "Note"})
    reverses_id: Mapped[int | None] = mapped_column(
        ForeignKey("crm_advertising_movement.id", ondelete="CASCADE"),
        unique=True,
        info={"label": "Reverses"},
    )
    created_by_id: Mapped[int | None] = mapped_column(
        ForeignKey("core_user.id", ondelete="SET NULL"), info={"label": "Recorded by"}
    )
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)

    material: Mapped[Material] = relationship()
    from_location: Mapped[Location | None] = relationship(foreign_keys=[from_location_id])
    to_location: Mapped[Location | None] = relationship(foreign_keys=[to_location_id])
    client: Mapped[Client | None] = relationship()
    person: Mapped[Person | None] = relationship()
    created_by: Mapped[User | None] = relationship()
    reverses: Mapped[Movement | None] = relationship(
        remote_side=[id], foreign_keys=[reverses_id], back_populates="reversed_by"
    )
    reversed_by: Mapped[Movement | None] = relationship(
        foreign_keys=[reverses_id], back_populates="reverses", uselist=False
    )

    __table_args__ = (CheckConstraint("quantity > 0", name="quantity_positive"),)

    @property
    def kind_label(self) -> str:
        label = MOVEMENT_KINDS.get(self.kind, self.kind)
        return f"Reversal of {label.lower()}" if self.reverses_id else label

    @property
    def cost(self) -> Decimal:
        return (self.unit_cost * self.quantity).quantize(Decimal("0.01"))


class ReorderAlert(Base):
    """The materials whose stock went below the reorder level and were announced: one
    notification per crossing, not one per hand-out while it stays low."""

    __tablename__ = "crm_advertising_reorder_alert"

    material_id: Mapped[int] = mapped_column(
        ForeignKey("crm_advertising_material.id", ondelete="CASCADE"), primary_key=True
    )
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
