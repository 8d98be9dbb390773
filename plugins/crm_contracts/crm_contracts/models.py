"""Contracts with clients, the conditions they set (negotiated prices, group discounts), the
numbering sequence, the module's settings and the reminders already sent.

A contract's status is not stored: it follows from its dates and acts (signed, terminated,
renewed) and today's date. ``Contract.status`` is a SQL expression (a ``CASE``) evaluated by the
database with today's date as a parameter, so lists filter and paginate by status, reports group
by it, and it never goes stale waiting for a nightly job.
"""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal

from sqlalchemy import (
    Date,
    DateTime,
    ForeignKey,
    Integer,
    Numeric,
    String,
    Text,
    UniqueConstraint,
    and_,
    bindparam,
    case,
    literal,
    or_,
    select,
)
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.orm import Mapped, column_property, mapped_column, relationship
from sqlalchemy.sql.expression import ColumnElement, FunctionElement

from core.db import Base, Versioned
from core.models import User, utcnow
from core.timezone import local_today
from crm_contacts.models import Client

STATUSES = ("draft", "upcoming", "active", "expiring", "expired", "terminated", "renewed")
STATUS_LABELS = {
    "draft": "Draft",
    "upcoming": "Signed, not yet in force",
    "active": "Active",
    "expiring": "Expiring",
    "expired": "Expired",
    "terminated": "Terminated",
    "renewed": "Renewed",
}
# In force today: what the client file shows first, and what a reminder may be about.
IN_FORCE = ("active", "expiring")
CONDITION_KINDS = ("price", "discount")
DEFAULT_TYPES = (
    ("framework", "Framework agreement"),
    ("supply", "Supply"),
    ("service", "Service"),
    ("distribution", "Distribution"),
    ("other", "Other"),
)
DEFAULT_EXPIRING_DAYS = 30


class ContractType(Versioned, Base):
    """A configurable list: framework agreement, supply, service, distribution, other..."""

    __tablename__ = "crm_contracts_type"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    code: Mapped[str] = mapped_column(String(50), unique=True)
    name: Mapped[str] = mapped_column(String(100), info={"label": "Name"})
    order: Mapped[int] = mapped_column(Integer, default=100)


class Settings(Base):
    """One row (id 1): how numbers are made and when a contract counts as expiring."""

    __tablename__ = "crm_contracts_settings"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    number_prefix: Mapped[str] = mapped_column(String(20), default="C-")
    number_digits: Mapped[int] = mapped_column(Integer, default=4)
    expiring_days: Mapped[int] = mapped_column(Integer, default=DEFAULT_EXPIRING_DAYS)
    version: Mapped[int] = mapped_column(Integer, default=1)

    __mapper_args__ = {"version_id_col": version}


class NumberSequence(Base):
    """The last number given per prefix and year; incremented in one atomic statement."""

    __tablename__ = "crm_contracts_sequence"

    prefix: Mapped[str] = mapped_column(String(20), primary_key=True)
    year: Mapped[int] = mapped_column(Integer, primary_key=True)
    last_number: Mapped[int] = mapped_column(Integer, default=0)


class days_until(FunctionElement):  # noqa: N801 - a SQL function, named like one
    """Whole days from the date ``start`` to the date ``end`` (negative when end is earlier)."""

    type = Integer()
    inherit_cache = True


@compiles(days_until)
def _days_until_default(element, compiler, **kw):  # PostgreSQL: date - date is an integer
    start, end = list(element.clauses)
    end_sql, start_sql = compiler.process(end, **kw), compiler.process(start, **kw)
    return f"(CAST({end_sql} AS DATE) - CAST({start_sql} AS DATE))"


@compiles(days_until, "sqlite")
def _days_until_sqlite(element, compiler, **kw):
    start, end = list(element.clauses)
    return (
        f"CAST(julianday({compiler.process(end, **kw)}) - "
        f"julianday({compiler.process(start, **kw)}) AS INTEGER)"
    )


def _today_param() -> ColumnElement[date]:
    # Evaluated at each execution, in the installation's time zone: never the database's clock.
    return bindparam("crm_contracts_today", type_=Date(), callable_=local_today)


class Contract(Base):
    __tablename__ = "crm_contracts_contract"
    __crm_audit__ = (
        "number", "client_id", "title", "type_id", "signed_on", "valid_from", "valid_to",
        "notice_days", "value", "currency", "payment_term_days", "responsible_id", "notes",
        "terminated_on", "termination_reason", "predecessor_id", "successor_id",
    )  # fmt: skip

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    number: Mapped[str] = mapped_column(String(40), unique=True, info={"label": "Number"})
    client_id: Mapped[int] = mapped_column(
        ForeignKey("crm_contacts_client.id", ondelete="CASCADE"),
        index=True,
        info={"label": "Client"},
    )
    title: Mapped[str] = mapped_column(String(200), info={"label": "Title"})
    type_id: Mapped[int | None] = mapped_column(
        ForeignKey("crm_contracts_type.id", ondelete="SET NULL"),
        index=True,
        info={"label": "Type"},
    )
    signed_on: Mapped[date | None] = mapped_column(Date, info={"label": "Signed on"})
    valid_from: Mapped[date] = mapped_column(Date, info={"label": "Valid from"})
    valid_to: Mapped[date | None] = mapped_column(
        Date, index=True, info={"label": "Valid to (empty: open-ended)"}
    )
    notice_days: Mapped[int | None] = mapped_column(Integer, info={"label": "Notice period (days)"})
    value: Mapped[Decimal | None] = mapped_column(Numeric(14, 2), info={"label": "Value"})
    currency: Mapped[str] = mapped_column(String(3), default="EUR", info={"label": "Currency"})
    payment_term_days: Mapped[int | None] = mapped_column(
        Integer, info={"label": "Payment term (days)"}
    )
    responsible_id: Mapped[int | None] = mapped_column(
        ForeignKey("core_user.id", ondelete="SET NULL"),
        index=True,
        info={"label": "Responsible representative"},
    )
    notes: Mapped[str] = mapped_column(Text, default="", info={"label": "Notes"})
    terminated_on: Mapped[date | None] = mapped_column(Date, info={"label": "Terminated on"})
    termination_reason: Mapped[str] = mapped_column(
        Text, default="", info={"label": "Reason for termination"}
    )
    predecessor_id: Mapped[int | None] = mapped_column(
        ForeignKey("crm_contracts_contract.id", ondelete="SET NULL"),
        index=True,
        info={"label": "Renews contract"},
    )
    successor_id: Mapped[int | None] = mapped_column(
        ForeignKey("crm_contracts_contract.id", ondelete="SET NULL"),
        index=True,
        info={"label": "Renewed by contract"},
    )
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    version: Mapped[int] = mapped_column(Integer, default=1)

    client: Mapped[Client] = relationship()
    type: Mapped[ContractType | None] = relationship()
    responsible: Mapped[User | None] = relationship()
    predecessor: Mapped[Contract | None] = relationship(
        foreign_keys=[predecessor_id], remote_side=[id]
    )
    successor: Mapped[Contract | None] = relationship(
        foreign_keys=[successor_id], remote_side=[id], post_update=True
    )
    conditions: Mapped[list[Condition]] = relationship(
        back_populates="contract",
        cascade="all, delete-orphan",
        passive_deletes=True,
        order_by="(Condition.kind, Condition.product_code, Condition.group_code, Condition.id)",
    )

    __mapper_args__ = {"version_id_col": version}

    @property
    def status_label(self) -> str:
        return STATUS_LABELS.get(self.status, self.status)


def status_expression(today: ColumnElement[date] | date) -> ColumnElement[str]:
    """The status of ``Contract`` rows on ``today``, in SQL. Acts first (terminated, renewed),
    then the dates. A termination dated in the future leaves the contract in force until then;
    the expiring window counts from the earlier of its end and its termination."""
    today = literal(today, Date()) if isinstance(today, date) else today
    expiring_days = select(Settings.expiring_days).where(Settings.id == 1).scalar_subquery()
    # The last day that counts: its end, or an announced termination when that comes first.
    end = case(
        (
            and_(
                Contract.terminated_on.is_not(None),
                or_(Contract.valid_to.is_(None), Contract.terminated_on <= Contract.valid_to),
            ),
            Contract.terminated_on,
        ),
        else_=Contract.valid_to,
    )
    return case(
        (and_(Contract.terminated_on.is_not(None), Contract.terminated_on <= today), "terminated"),
        (Contract.successor_id.is_not(None), "renewed"),
        (Contract.signed_on.is_(None), "draft"),
        (Contract.valid_from > today, "upcoming"),
        (and_(Contract.valid_to.is_not(None), Contract.valid_to < today), "expired"),
        (
            and_(
                or_(Contract.valid_to.is_not(None), Contract.terminated_on.is_not(None)),
                days_until(today, end) <= expiring_days,
            ),
            "expiring",
        ),
        else_="active",
    )


def _status_column() -> ColumnElement[str]:
    status = status_expression(_today_param()).label("status")
    # What the model registry reads of a column (label, nullability, default), so that the status
    # is a field like the others for generic views and the report generator.
    status.info = {"label": "Status"}
    status.nullable = False
    status.default = None
    return status


# A read-only column computed by the database at each SELECT (see the module's docstring).
Contract.status = column_property(_status_column())


class Condition(Versioned, Base):
    """A negotiated price for one product, or a discount on one product group, for the client of
    its contract. Products and groups are kept as codes with a name, so that the module works
    without the catalogue; empty dates follow the contract's validity."""

    __tablename__ = "crm_contracts_condition"
    __crm_audit__ = (
        "contract_id", "kind", "product_code", "product_name", "group_code", "group_name",
        "price", "discount_percent", "valid_from", "valid_to", "note",
    )  # fmt: skip

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    contract_id: Mapped[int] = mapped_column(
        ForeignKey("crm_contracts_contract.id", ondelete="CASCADE"),
        index=True,
        info={"label": "Contract"},
    )
    kind: Mapped[str] = mapped_column(String(20), info={"label": "Kind"})
    product_code: Mapped[str] = mapped_column(
        String(50), default="", index=True, info={"label": "Product code"}
    )
    product_name: Mapped[str] = mapped_column(String(200), default="", info={"label": "Product"})
    group_code: Mapped[str] = mapped_column(
        String(50), default="", index=True, info={"label": "Product group code"}
    )
    group_name: Mapped[str] = mapped_column(
        String(200), default="", info={"label": "Product group"}
    )
    price: Mapped[Decimal | None] = mapped_column(
        Numeric(14, 4), info={"label": "Negotiated price"}
    )
    discount_percent: Mapped[Decimal | None] = mapped_column(
        Numeric(5, 2), info={"label": "Discount (%)"}
    )
    valid_from: Mapped[date | None] = mapped_column(Date, info={"label": "Valid from"})
    valid_to: Mapped[date | None] = mapped_column(Date, info={"label": "Valid to"})
    note: Mapped[str] = mapped_column(String(500), default="", info={"label": "Note"})

    contract: Mapped[Contract] = relationship(back_populates="conditions")

    @property
    def subject(self) -> str:
        """What the condition is about, as people read it."""
        if self.kind == "price":
            return " · ".join(v for v in (self.product_code, self.product_name) if v)
        return " · ".join(v for v in (self.group_code, self.group_name) if v)

    @property
    def terms(self) -> str:
        if self.kind == "price":
            return f"{self.price} {self.contract.currency if self.contract else ''}".strip()
        return f"{self.discount_percent} % discount"


class Reminder(Base):
    """That the expiring reminder of a contract went out, for the end date it was about: a
    contract extended later enters a new window and is reminded again."""

    __tablename__ = "crm_contracts_reminder"
    __table_args__ = (UniqueConstraint("contract_id", "ends_on"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    contract_id: Mapped[int] = mapped_column(
        ForeignKey("crm_contracts_contract.id", ondelete="CASCADE"), index=True
    )
    ends_on: Mapped[date] = mapped_column(Date)
    user_id: Mapped[int | None] = mapped_column(ForeignKey("core_user.id", ondelete="SET NULL"))
    sent_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
