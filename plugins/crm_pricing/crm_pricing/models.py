"""Pricing rules configured by managers, and the caps on the total discount.

A rule is of a kind (a bundled one or another module's, by name), with parameters validated by the
kind's schema and stored as JSON text; it concerns one client, one customer group or everyone
(neither set), one product, one product group with its subgroups, or all products (neither set).
"""

from __future__ import annotations

import json
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import Boolean, Date, DateTime, ForeignKey, Index, Integer, Numeric, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from core.db import Base
from core.models import utcnow
from crm_contacts.models import Client, CustomerGroup
from crm_sales.models import Product, ProductGroup


class PricingRule(Base):
    __tablename__ = "crm_pricing_rule"
    __table_args__ = (Index("ix_crm_pricing_rule_active_client", "active", "client_id"),)
    __crm_audit__ = True

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(200), info={"label": "Name"})
    kind: Mapped[str] = mapped_column(String(100), index=True, info={"label": "Kind"})
    params_json: Mapped[str] = mapped_column(Text, default="{}", info={"label": "Parameters"})
    mode: Mapped[str] = mapped_column(String(20), default="stack", info={"label": "Mode"})
    priority: Mapped[int] = mapped_column(Integer, default=100, info={"label": "Priority"})
    active: Mapped[bool] = mapped_column(Boolean, default=True, info={"label": "Active"})
    client_id: Mapped[int | None] = mapped_column(
        ForeignKey("crm_contacts_client.id", ondelete="CASCADE"), info={"label": "Client"}
    )
    customer_group_id: Mapped[int | None] = mapped_column(
        ForeignKey("crm_contacts_customer_group.id", ondelete="CASCADE"),
        index=True,
        info={"label": "Customer group"},
    )
    product_id: Mapped[int | None] = mapped_column(
        ForeignKey("crm_sales_product.id", ondelete="CASCADE"),
        index=True,
        info={"label": "Product"},
    )
    product_group_id: Mapped[int | None] = mapped_column(
        ForeignKey("crm_sales_product_group.id", ondelete="CASCADE"),
        index=True,
        info={"label": "Product group"},
    )
    valid_from: Mapped[date | None] = mapped_column(Date, info={"label": "Valid from"})
    valid_to: Mapped[date | None] = mapped_column(Date, info={"label": "Valid to"})
    notes: Mapped[str] = mapped_column(Text, default="", info={"label": "Notes"})
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    version: Mapped[int] = mapped_column(Integer, default=1)

    client: Mapped[Client | None] = relationship()
    customer_group: Mapped[CustomerGroup | None] = relationship()
    product: Mapped[Product | None] = relationship()
    product_group: Mapped[ProductGroup | None] = relationship()

    __mapper_args__ = {"version_id_col": version}

    @property
    def params(self) -> dict[str, Any]:
        return json.loads(self.params_json or "{}")

    @params.setter
    def params(self, value: dict[str, Any]) -> None:
        self.params_json = json.dumps(value, sort_keys=True, default=str)


class DiscountCap(Base):
    """The most a client's percent discounts may add up to: installation-wide (no customer group)
    or for one customer group, which then replaces the installation-wide cap for its clients."""

    __tablename__ = "crm_pricing_cap"
    __crm_audit__ = True

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    customer_group_id: Mapped[int | None] = mapped_column(
        ForeignKey("crm_contacts_customer_group.id", ondelete="CASCADE"),
        unique=True,
        info={"label": "Customer group"},
    )
    percent: Mapped[Decimal] = mapped_column(Numeric(5, 2), info={"label": "Cap (%)"})

    customer_group: Mapped[CustomerGroup | None] = relationship()


class ClientTier(Base):
    """Where a client stood against an active turnover-tier rule at the last refresh
    (``crm_pricing.tiers``): what reports count ("clients per turnover tier"). The engine never
    reads it: a quote asks for the turnover itself."""

    __tablename__ = "crm_pricing_client_tier"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    rule_id: Mapped[int] = mapped_column(
        ForeignKey("crm_pricing_rule.id", ondelete="CASCADE"), index=True, info={"label": "Rule"}
    )
    client_id: Mapped[int] = mapped_column(
        ForeignKey("crm_contacts_client.id", ondelete="CASCADE"),
        index=True,
        info={"label": "Client"},
    )
    tier: Mapped[str] = mapped_column(String(100), info={"label": "Tier"})
    percent: Mapped[Decimal | None] = mapped_column(Numeric(5, 2), info={"label": "Discount (%)"})
    turnover: Mapped[Decimal] = mapped_column(Numeric(14, 2), info={"label": "Turnover"})
    period: Mapped[str] = mapped_column(String(50), info={"label": "Period"})
    computed_on: Mapped[date] = mapped_column(Date, info={"label": "Computed on"})

    rule: Mapped[PricingRule] = relationship()
    client: Mapped[Client] = relationship()
