"""Competitors, where they are present (which competitor supplies which client), and the dated
changes in their strategy.

Regions are crm_contacts' list (``crm_contacts_region``). Product groups are kept as names: the
catalogue's group names when crm_sales is installed (checked and spelled as the catalogue spells
them, see ``crm_competitors.groups``), free text otherwise, so that the module works without it.
An empty list of regions or groups means "everywhere" / "every product group".
"""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal

from sqlalchemy import (
    Column,
    Date,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    Numeric,
    String,
    Table,
    Text,
    select,
)
from sqlalchemy.orm import Mapped, aliased, column_property, mapped_column, relationship, validates

from core.db import Base
from core.models import User, utcnow
from crm_contacts.models import Client, Region

STATUSES = ("active", "left")
STATUS_LABELS = {"active": "Active", "left": "Left the market"}
POSITIONS = ("cheaper", "same", "dearer")
POSITION_LABELS = {"cheaper": "Cheaper than us", "same": "About our prices", "dearer": "Dearer"}
KINDS = (
    "price_change", "promotion", "new_product", "region_entry", "region_exit",
    "new_distributor", "payment_terms", "other",
)  # fmt: skip
KIND_LABELS = {
    "price_change": "Price change",
    "promotion": "Promotion",
    "new_product": "New product or range",
    "region_entry": "Entry into a region",
    "region_exit": "Exit from a region",
    "new_distributor": "New distributor",
    "payment_terms": "Payment terms change",
    "other": "Other",
}
AT_RISK_SHARE = Decimal(30)  # a presence above this share of the client's purchases: at risk


competitor_region = Table(
    "crm_competitors_competitor_region",
    Base.metadata,
    Column(
        "competitor_id",
        ForeignKey("crm_competitors_competitor.id", ondelete="CASCADE"),
        primary_key=True,
    ),
    Column("region_id", ForeignKey("crm_contacts_region.id", ondelete="CASCADE"), primary_key=True),
)
change_region = Table(
    "crm_competitors_change_region",
    Base.metadata,
    Column(
        "change_id", ForeignKey("crm_competitors_change.id", ondelete="CASCADE"), primary_key=True
    ),
    Column(
        "region_id",
        ForeignKey("crm_contacts_region.id", ondelete="CASCADE"),
        primary_key=True,
        index=True,
    ),
)


class CompetitorGroup(Base):
    __tablename__ = "crm_competitors_competitor_group"

    competitor_id: Mapped[int] = mapped_column(
        ForeignKey("crm_competitors_competitor.id", ondelete="CASCADE"), primary_key=True
    )
    name: Mapped[str] = mapped_column(String(200), primary_key=True)


class PresenceGroup(Base):
    __tablename__ = "crm_competitors_presence_group"

    presence_id: Mapped[int] = mapped_column(
        ForeignKey("crm_competitors_presence.id", ondelete="CASCADE"), primary_key=True
    )
    name: Mapped[str] = mapped_column(String(200), primary_key=True)


class ChangeGroup(Base):
    __tablename__ = "crm_competitors_change_group"

    change_id: Mapped[int] = mapped_column(
        ForeignKey("crm_competitors_change.id", ondelete="CASCADE"), primary_key=True
    )
    name: Mapped[str] = mapped_column(String(200), primary_key=True)


class _Grouped:
    """``groups``: the product group names, over the rows of a ``*Group`` table."""

    group_rows: list

    @property
    def groups(self) -> list[str]:
        return sorted(row.name for row in self.group_rows)


class Competitor(_Grouped, Base):
    __tablename__ = "crm_competitors_competitor"
    __crm_audit__ = (
        "name", "website", "country", "price_position", "strengths", "weaknesses", "notes",
        "status",
    )  # fmt: skip

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(200), unique=True, info={"label": "Name"})
    website: Mapped[str] = mapped_column(String(200), default="", info={"label": "Website"})
    country: Mapped[str] = mapped_column(String(2), default="", info={"label": "Country"})
    price_position: Mapped[str] = mapped_column(
        String(10), default="", info={"label": "Price positioning"}
    )
    strengths: Mapped[str] = mapped_column(Text, default="", info={"label": "Strengths"})
    weaknesses: Mapped[str] = mapped_column(Text, default="", info={"label": "Weaknesses"})
    notes: Mapped[str] = mapped_column(Text, default="", info={"label": "Notes"})
    status: Mapped[str] = mapped_column(
        String(10), default="active", index=True, info={"label": "Status"}
    )
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    version: Mapped[int] = mapped_column(Integer, default=1)

    regions: Mapped[list[Region]] = relationship(
        secondary=competitor_region, order_by=(Region.order, Region.name)
    )
    group_rows: Mapped[list[CompetitorGroup]] = relationship(
        cascade="all, delete-orphan", passive_deletes=True
    )

    __mapper_args__ = {"version_id_col": version}

    @property
    def status_label(self) -> str:
        return STATUS_LABELS.get(self.status, self.status)

    @property
    def position_label(self) -> str:
        return POSITION_LABELS.get(self.price_position, "")


class Presence(_Grouped, Base):
    """That a competitor supplies a client (in some product groups, for a share of its purchases),
    from ``since`` until ``until``; one that ended stays, as history."""

    __tablename__ = "crm_competitors_presence"
    __crm_audit__ = (
        "competitor_id", "client_id", "share_percent", "since", "until", "source", "notes",
    )  # fmt: skip
    __table_args__ = (
        Index("ix_crm_competitors_presence_competitor_until", "competitor_id", "until"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    competitor_id: Mapped[int] = mapped_column(
        ForeignKey("crm_competitors_competitor.id", ondelete="CASCADE"),
        info={"label": "Competitor"},
    )
    client_id: Mapped[int] = mapped_column(
        ForeignKey("crm_contacts_client.id", ondelete="CASCADE"),
        index=True,
        info={"label": "Client"},
    )
    share_percent: Mapped[Decimal | None] = mapped_column(
        Numeric(5, 2), info={"label": "Share of the client's purchases (%)"}
    )
    since: Mapped[date | None] = mapped_column(Date, info={"label": "Since"})
    until: Mapped[date | None] = mapped_column(Date, info={"label": "Until"})
    source: Mapped[str] = mapped_column(String(200), default="", info={"label": "Source"})
    notes: Mapped[str] = mapped_column(Text, default="", info={"label": "Notes"})
    recorded_by_id: Mapped[int | None] = mapped_column(
        ForeignKey("core_user.id", ondelete="SET NULL"), info={"label": "Recorded by"}
    )
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    version: Mapped[int] = mapped_column(Integer, default=1)

    competitor: Mapped[Competitor] = relationship()
    client: Mapped[Client] = relationship()
    recorded_by: Mapped[User | None] = relationship()
    group_rows: Mapped[list[PresenceGroup]] = relationship(
        cascade="all, delete-orphan", passive_deletes=True
    )

    __mapper_args__ = {"version_id_col": version}

    def ended(self, today: date) -> bool:
        return self.until is not None and self.until < today


def _computed(expression, name: str, label: str):
    """A read-only column computed by the database at each SELECT, described as the model
    registry reads a column (label, nullability, default), so that generic views and the report
    generator take it for a field like the others."""
    column = expression.label(name)
    column.info = {"label": label}
    column.nullable = True
    column.default = None
    return column


def _region_of_client():
    # The client's region, read by the database with the presence: reports group presences by it,
    # and it follows the client when the client moves to another region.
    # Its own alias of the client table: a query joining the client too must not correlate it.
    client = aliased(Client)
    subquery = (
        select(client.region_id)
        .where(client.id == Presence.client_id)
        .correlate_except(client)
        .scalar_subquery()
    )
    return _computed(subquery, "region_id", "Region")


def _at_risk():
    return _computed(
        Presence.share_percent > AT_RISK_SHARE, "at_risk", f"Share above {AT_RISK_SHARE} %"
    )


# Deferred: read by reports and filters that name them, not with every presence a page loads.
Presence.region_id = column_property(_region_of_client(), deferred=True)
Presence.at_risk = column_property(_at_risk(), deferred=True)


class Change(_Grouped, Base):
    """A dated event in a competitor's strategy, with the regions and product groups it concerns."""

    __tablename__ = "crm_competitors_change"
    __crm_audit__ = ("competitor_id", "kind", "occurred_on", "percent", "description", "source")
    __table_args__ = (
        Index("ix_crm_competitors_change_competitor_occurred", "competitor_id", "occurred_on"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    competitor_id: Mapped[int] = mapped_column(
        ForeignKey("crm_competitors_competitor.id", ondelete="CASCADE"),
        info={"label": "Competitor"},
    )
    kind: Mapped[str] = mapped_column(String(20), index=True, info={"label": "Kind"})
    occurred_on: Mapped[date] = mapped_column(Date, index=True, info={"label": "Date"})
    # "2026-Q3": kept with the date, so that reports group by quarter in any database.
    quarter: Mapped[str] = mapped_column(String(7), info={"label": "Quarter"})
    percent: Mapped[Decimal | None] = mapped_column(
        Numeric(6, 2), info={"label": "Price change (%)"}
    )
    description: Mapped[str] = mapped_column(Text, info={"label": "Description"})
    source: Mapped[str] = mapped_column(String(200), default="", info={"label": "Source"})
    recorded_by_id: Mapped[int | None] = mapped_column(
        ForeignKey("core_user.id", ondelete="SET NULL"), info={"label": "Recorded by"}
    )
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)

    competitor: Mapped[Competitor] = relationship()
    recorded_by: Mapped[User | None] = relationship()
    regions: Mapped[list[Region]] = relationship(
        secondary=change_region, order_by=(Region.order, Region.name)
    )
    group_rows: Mapped[list[ChangeGroup]] = relationship(
        cascade="all, delete-orphan", passive_deletes=True
    )

    @validates("occurred_on")
    def _set_quarter(self, _key: str, value: date) -> date:
        self.quarter = f"{value.year}-Q{(value.month - 1) // 3 + 1}"
        return value

    @property
    def kind_label(self) -> str:
        return KIND_LABELS.get(self.kind, self.kind)

    @property
    def headline(self) -> str:
        """ "Price change −10 %", "Promotion"..."""
        if self.kind == "price_change" and self.percent is not None:
            sign = "+" if self.percent > 0 else "−" if self.percent < 0 else "±"
            return f"{self.kind_label} {sign}{abs(self.percent).normalize():f} %"
        return self.kind_label
