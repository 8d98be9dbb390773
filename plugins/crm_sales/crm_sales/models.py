"""The catalogue (product groups as a tree, products) and the sales documents that come from the ERP
(invoices, credit notes, their lines and payments).

What the turnover service reads is denormalised onto the lines when a document is written: the
client, the document date, the product's group and the **signed amount in the installation currency
in cents** (negative for credit notes; whole cents, so that sums are exact on SQLite as on
PostgreSQL). One covering index, ``(client_id, date, product_id, group_id, signed_cents,
signed_quantity)``, makes every per-client figure an index-only range scan.
"""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal

from sqlalchemy import (
    BigInteger,
    Boolean,
    Date,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    Numeric,
    String,
    event,
    func,
    inspect,
    literal,
    select,
    update,
)
from sqlalchemy.orm import Mapped, attributes, mapped_column, relationship

from core.db import Base, Versioned
from core.models import utcnow
from crm_contacts.models import Client

DOCUMENT_KINDS = ("invoice", "credit_note")


class ProductGroup(Versioned, Base):
    """A node of the product-group tree. ``path`` lists the ids from the root down to the group
    itself (``/1/4/9/``), so that "G and its subgroups" is ``path LIKE '/1/4/%'``: it is kept up to
    date by the model whenever a group is inserted or moved (descendants included)."""

    __tablename__ = "crm_sales_product_group"
    __crm_audit__ = ("code", "name", "parent_id")

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    code: Mapped[str] = mapped_column(String(50), unique=True, info={"label": "Code"})
    name: Mapped[str] = mapped_column(String(200), info={"label": "Name"})
    parent_id: Mapped[int | None] = mapped_column(
        ForeignKey("crm_sales_product_group.id", ondelete="RESTRICT"),
        index=True,
        info={"label": "Parent group"},
    )
    path: Mapped[str] = mapped_column(String(255), default="", index=True)

    parent: Mapped[ProductGroup | None] = relationship(remote_side=[id])

    @property
    def depth(self) -> int:
        return max(self.path.count("/") - 2, 0)

    @property
    def ancestor_ids(self) -> tuple[int, ...]:
        """The ids on the path, root first, the group itself last."""
        return tuple(int(part) for part in self.path.strip("/").split("/") if part)


class Product(Base):
    __tablename__ = "crm_sales_product"
    __crm_audit__ = ("code", "name", "unit", "list_price", "currency", "group_id", "active")

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    code: Mapped[str] = mapped_column(String(50), unique=True, info={"label": "Code"})
    name: Mapped[str] = mapped_column(String(200), index=True, info={"label": "Name"})
    unit: Mapped[str] = mapped_column(String(20), default="pcs", info={"label": "Unit"})
    list_price: Mapped[Decimal] = mapped_column(
        Numeric(14, 4), default=Decimal("0"), info={"label": "List price"}
    )
    currency: Mapped[str] = mapped_column(String(3), default="EUR", info={"label": "Currency"})
    group_id: Mapped[int | None] = mapped_column(
        ForeignKey("crm_sales_product_group.id", ondelete="SET NULL"),
        index=True,
        info={"label": "Product group"},
    )
    active: Mapped[bool] = mapped_column(Boolean, default=True, info={"label": "Active"})
    version: Mapped[int] = mapped_column(Integer, default=1)

    group: Mapped[ProductGroup | None] = relationship()

    __mapper_args__ = {"version_id_col": version}


class SalesDocument(Base):
    """An invoice or a credit note as the ERP issued it. ``rate`` converts its currency to the
    installation currency (1 for documents in that currency). Totals are kept in both."""

    __tablename__ = "crm_sales_document"
    __table_args__ = (Index("ix_crm_sales_document_client_date", "client_id", "date"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    number: Mapped[str] = mapped_column(String(50), unique=True, info={"label": "Number"})
    kind: Mapped[str] = mapped_column(String(20), default="invoice", info={"label": "Kind"})
    client_id: Mapped[int] = mapped_column(
        ForeignKey("crm_contacts_client.id", ondelete="CASCADE"), info={"label": "Client"}
    )
    date: Mapped[date] = mapped_column(Date, index=True, info={"label": "Date"})
    due_date: Mapped[date | None] = mapped_column(Date, info={"label": "Due date"})
    currency: Mapped[str] = mapped_column(String(3), default="EUR", info={"label": "Currency"})
    rate: Mapped[Decimal] = mapped_column(
        Numeric(18, 8), default=Decimal("1"), info={"label": "Rate to the installation currency"}
    )
    total: Mapped[Decimal] = mapped_column(
        Numeric(16, 2), default=Decimal("0"), info={"label": "Total (document currency)"}
    )
    total_local: Mapped[Decimal] = mapped_column(
        Numeric(16, 2), default=Decimal("0"), info={"label": "Total (installation currency)"}
    )
    paid: Mapped[Decimal] = mapped_column(
        Numeric(16, 2), default=Decimal("0"), info={"label": "Paid (document currency)"}
    )
    # A digest of everything imported: re-sending the same document changes nothing.
    checksum: Mapped[str] = mapped_column(String(64), default="")
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)

    client: Mapped[Client] = relationship()
    lines: Mapped[list[SalesLine]] = relationship(
        back_populates="document",
        cascade="all, delete-orphan",
        passive_deletes=True,
        order_by="SalesLine.position",
    )
    payments: Mapped[list[Payment]] = relationship(
        back_populates="document",
        cascade="all, delete-orphan",
        passive_deletes=True,
        order_by="Payment.date",
    )

    @property
    def sign(self) -> int:
        return -1 if self.kind == "credit_note" else 1


class SalesLine(Base):
    """A line of a document. ``amount`` is in the document's currency as printed (positive);
    ``client_id``, ``date``, ``group_id``, ``signed_cents`` (installation currency, negative on
    credit notes) and ``signed_quantity`` are copies for the turnover service."""

    __tablename__ = "crm_sales_line"
    __table_args__ = (
        # Every per-client figure (range, groups, products) reads only this index.
        Index(
            "ix_crm_sales_line_client_date",
            "client_id",
            "date",
            "product_id",
            "group_id",
            "signed_cents",
            "signed_quantity",
        ),
        # Installation-wide figures by period (reports).
        Index("ix_crm_sales_line_date", "date", "client_id", "signed_cents"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    document_id: Mapped[int] = mapped_column(
        ForeignKey("crm_sales_document.id", ondelete="CASCADE"), index=True
    )
    position: Mapped[int] = mapped_column(Integer, default=1)
    product_id: Mapped[int] = mapped_column(
        ForeignKey("crm_sales_product.id", ondelete="RESTRICT"),
        index=True,
        info={"label": "Product"},
    )
    quantity: Mapped[Decimal] = mapped_column(Numeric(14, 4), info={"label": "Quantity"})
    unit_price: Mapped[Decimal] = mapped_column(Numeric(14, 4), info={"label": "Unit price"})
    discount_percent: Mapped[Decimal] = mapped_column(
        Numeric(5, 2), default=Decimal("0"), info={"label": "Discount %"}
    )
    amount: Mapped[Decimal] = mapped_column(Numeric(16, 2), info={"label": "Amount"})
    # Denormalised for the turnover service.
    client_id: Mapped[int] = mapped_column(
        ForeignKey("crm_contacts_client.id", ondelete="CASCADE"), info={"label": "Client"}
    )
    date: Mapped[date] = mapped_column(Date, info={"label": "Date"})
    group_id: Mapped[int | None] = mapped_column(
        ForeignKey("crm_sales_product_group.id", ondelete="SET NULL"),
        index=True,
        info={"label": "Product group"},
    )
    signed_cents: Mapped[int] = mapped_column(
        BigInteger, info={"label": "Net amount (installation currency, cents)"}
    )
    signed_quantity: Mapped[Decimal] = mapped_column(Numeric(14, 4), info={"label": "Net quantity"})
    # For the report generator, whose reports read one table (migration 0002): the same net
    # amount in currency units, the month ("2026-03") and the client's representative when the
    # document was written (who made the sale).
    net_amount: Mapped[Decimal] = mapped_column(
        Numeric(16, 2), default=Decimal("0"), info={"label": "Net amount"}
    )
    month: Mapped[str] = mapped_column(String(7), default="", info={"label": "Month"})
    responsible_id: Mapped[int | None] = mapped_column(
        ForeignKey("core_user.id", ondelete="SET NULL"),
        index=True,
        info={"label": "Representative"},
    )

    document: Mapped[SalesDocument] = relationship(back_populates="lines")
    product: Mapped[Product] = relationship()


class Payment(Base):
    """A payment received against a document; ``days`` (from the document date) is kept for the
    average days to payment."""

    __tablename__ = "crm_sales_payment"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    document_id: Mapped[int] = mapped_column(
        ForeignKey("crm_sales_document.id", ondelete="CASCADE"), index=True
    )
    date: Mapped[date] = mapped_column(Date, info={"label": "Date"})
    amount: Mapped[Decimal] = mapped_column(Numeric(16, 2), info={"label": "Amount"})
    days: Mapped[int] = mapped_column(Integer, default=0, info={"label": "Days after the document"})

    document: Mapped[SalesDocument] = relationship(back_populates="payments")


# --- keeping the group paths -------------------------------------------------------------------

_groups = ProductGroup.__table__


def _parent_path(connection, parent_id: int | None) -> str:
    if parent_id is None:
        return "/"
    path = connection.scalar(select(_groups.c.path).where(_groups.c.id == parent_id))
    if not path:
        raise ValueError(f"product group {parent_id} has no path yet")
    return path


def _store_path(connection, target: ProductGroup, path: str) -> None:
    connection.execute(update(_groups).where(_groups.c.id == target.id).values(path=path))
    attributes.set_committed_value(target, "path", path)


@event.listens_for(ProductGroup, "after_insert")
def _path_on_insert(_mapper, connection, target: ProductGroup) -> None:
    _store_path(connection, target, f"{_parent_path(connection, target.parent_id)}{target.id}/")


@event.listens_for(ProductGroup, "after_update")
def _path_on_move(_mapper, connection, target: ProductGroup) -> None:
    history = inspect(target).attrs.parent_id.history
    if not history.has_changes():
        return
    old = connection.scalar(select(_groups.c.path).where(_groups.c.id == target.id))
    new = f"{_parent_path(connection, target.parent_id)}{target.id}/"
    if new.startswith(old):
        raise ValueError("a product group cannot be moved under one of its own subgroups")
    connection.execute(
        update(_groups)
        .where(_groups.c.path.startswith(old))
        .values(path=literal(new).op("||")(func.substr(_groups.c.path, len(old) + 1)))
    )
    attributes.set_committed_value(target, "path", new)


@event.listens_for(Product, "after_update")
def _group_onto_lines(_mapper, connection, target: Product) -> None:
    """A product moved to another group moves its sales with it, so that group turnover follows
    the catalogue as it is."""
    if inspect(target).attrs.group_id.history.has_changes():
        lines = SalesLine.__table__
        connection.execute(
            update(lines).where(lines.c.product_id == target.id).values(group_id=target.group_id)
        )
