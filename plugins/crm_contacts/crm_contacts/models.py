"""The client file: clients, their addresses, phones, emails, contact persons, bank accounts, and
the history of contacts with them."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import (
    Boolean,
    Column,
    Date,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    String,
    Table,
    Text,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from core.db import Base, Versioned
from core.models import User, utcnow

CLIENT_KINDS = ("company", "individual")
CLIENT_STATUSES = ("prospect", "active", "inactive")
ADDRESS_KINDS = ("head_office", "billing", "delivery", "other")
PHONE_KINDS = ("work", "mobile", "fax", "other")
EMAIL_KINDS = ("work", "personal", "invoices", "other")
CONTACT_STATES = ("scheduled", "done", "cancelled")


class CustomerGroup(Versioned, Base):
    """A configurable list (wholesale, retail, distributors...), used by pricing."""

    __tablename__ = "crm_contacts_customer_group"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(100), unique=True)


class ContactType(Versioned, Base):
    """A configurable list of ways of contacting: visit, meeting, phone call, email, video..."""

    __tablename__ = "crm_contacts_contact_type"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    code: Mapped[str] = mapped_column(String(50), unique=True)
    name: Mapped[str] = mapped_column(String(100))
    order: Mapped[int] = mapped_column(Integer, default=100)


class Tag(Base):
    __tablename__ = "crm_contacts_tag"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(50), unique=True)


client_tag = Table(
    "crm_contacts_client_tag",
    Base.metadata,
    Column("client_id", ForeignKey("crm_contacts_client.id", ondelete="CASCADE"), primary_key=True),
    Column("tag_id", ForeignKey("crm_contacts_tag.id", ondelete="CASCADE"), primary_key=True),
)


class Client(Base):
    __tablename__ = "crm_contacts_client"
    # Every field people edit; not search_text, which follows from the others.
    __crm_audit__ = (
        "kind", "name", "legal_name", "registration_number", "vat_number", "country",
        "customer_group_id", "responsible_id", "status", "website", "notes",
        "payment_term_days", "invoice_remarks", "goods_description", "document_language",
    )  # fmt: skip

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    kind: Mapped[str] = mapped_column(String(20), default="company")
    name: Mapped[str] = mapped_column(String(200), index=True, info={"label": "Name"})
    legal_name: Mapped[str] = mapped_column(String(200), default="")
    registration_number: Mapped[str] = mapped_column(String(50), default="")
    vat_number: Mapped[str] = mapped_column(String(50), default="", index=True)
    country: Mapped[str] = mapped_column(String(2), default="BG", info={"label": "Country"})
    customer_group_id: Mapped[int | None] = mapped_column(
        ForeignKey("crm_contacts_customer_group.id", ondelete="SET NULL"),
        index=True,
        info={"label": "Customer group"},
    )
    responsible_id: Mapped[int | None] = mapped_column(
        ForeignKey("core_user.id", ondelete="SET NULL"),
        index=True,
        info={"label": "Responsible representative"},
    )
    status: Mapped[str] = mapped_column(String(20), default="prospect", index=True)
    website: Mapped[str] = mapped_column(String(200), default="")
    notes: Mapped[str] = mapped_column(Text, default="")
    payment_term_days: Mapped[int | None] = mapped_column(
        Integer, info={"label": "Preferred payment term (days)"}
    )
    invoice_remarks: Mapped[str] = mapped_column(Text, default="")
    goods_description: Mapped[str] = mapped_column(Text, default="")
    document_language: Mapped[str] = mapped_column(String(5), default="")
    # Lower-case name, legal name, VAT number, cities, phone digits and contact persons' names,
    # kept up to date on every flush (crm_contacts.search): one LIKE over one column is what keeps
    # the client search fast at 100,000 clients; joins over five tables are not.
    search_text: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    version: Mapped[int] = mapped_column(Integer, default=1)

    customer_group: Mapped[CustomerGroup | None] = relationship()
    responsible: Mapped[User | None] = relationship()
    tags: Mapped[list[Tag]] = relationship(secondary=client_tag)
    addresses: Mapped[list[Address]] = relationship(
        back_populates="client", cascade="all, delete-orphan", passive_deletes=True
    )
    phones: Mapped[list[Phone]] = relationship(
        back_populates="client", cascade="all, delete-orphan", passive_deletes=True
    )
    emails: Mapped[list[Email]] = relationship(
        back_populates="client", cascade="all, delete-orphan", passive_deletes=True
    )
    persons: Mapped[list[Person]] = relationship(
        back_populates="client", cascade="all, delete-orphan", passive_deletes=True
    )
    bank_accounts: Mapped[list[BankAccount]] = relationship(
        back_populates="client", cascade="all, delete-orphan", passive_deletes=True
    )

    # Optimistic locking: an UPDATE matches only the version that was read.
    __mapper_args__ = {"version_id_col": version}


class Address(Base):
    __tablename__ = "crm_contacts_address"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    client_id: Mapped[int] = mapped_column(
        ForeignKey("crm_contacts_client.id", ondelete="CASCADE"), index=True
    )
    kind: Mapped[str] = mapped_column(String(20), default="head_office")
    street: Mapped[str] = mapped_column(String(200), default="")
    city: Mapped[str] = mapped_column(String(100), default="")
    postal_code: Mapped[str] = mapped_column(String(20), default="")
    country: Mapped[str] = mapped_column(String(2), default="BG")

    client: Mapped[Client] = relationship(back_populates="addresses")


class Person(Versioned, Base):
    """A contact person at a client."""

    __tablename__ = "crm_contacts_person"
    __crm_audit__ = True

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    client_id: Mapped[int] = mapped_column(
        ForeignKey("crm_contacts_client.id", ondelete="CASCADE"), index=True
    )
    name: Mapped[str] = mapped_column(String(200))
    position: Mapped[str] = mapped_column(String(100), default="")
    department: Mapped[str] = mapped_column(String(100), default="")
    is_primary: Mapped[bool] = mapped_column(Boolean, default=False)
    notes: Mapped[str] = mapped_column(Text, default="")

    client: Mapped[Client] = relationship(back_populates="persons")
    phones: Mapped[list[Phone]] = relationship(
        back_populates="person", cascade="all, delete-orphan", passive_deletes=True
    )
    emails: Mapped[list[Email]] = relationship(
        back_populates="person", cascade="all, delete-orphan", passive_deletes=True
    )


class Phone(Base):
    """A phone number of a client, or of one of its contact persons (then ``person_id`` is set
    too). Stored in E.164, so that searching and dialling do not depend on how it was typed."""

    __tablename__ = "crm_contacts_phone"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    client_id: Mapped[int] = mapped_column(
        ForeignKey("crm_contacts_client.id", ondelete="CASCADE"), index=True
    )
    person_id: Mapped[int | None] = mapped_column(
        ForeignKey("crm_contacts_person.id", ondelete="CASCADE"), index=True
    )
    kind: Mapped[str] = mapped_column(String(20), default="work")
    number: Mapped[str] = mapped_column(String(30))

    client: Mapped[Client] = relationship(back_populates="phones")
    person: Mapped[Person | None] = relationship(back_populates="phones")


class Email(Base):
    """An email address of a client, or of one of its contact persons."""

    __tablename__ = "crm_contacts_email"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    client_id: Mapped[int] = mapped_column(
        ForeignKey("crm_contacts_client.id", ondelete="CASCADE"), index=True
    )
    person_id: Mapped[int | None] = mapped_column(
        ForeignKey("crm_contacts_person.id", ondelete="CASCADE"), index=True
    )
    kind: Mapped[str] = mapped_column(String(20), default="work")
    address: Mapped[str] = mapped_column(String(200))

    client: Mapped[Client] = relationship(back_populates="emails")
    person: Mapped[Person | None] = relationship(back_populates="emails")


class BankAccount(Base):
    __tablename__ = "crm_contacts_bank_account"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    client_id: Mapped[int] = mapped_column(
        ForeignKey("crm_contacts_client.id", ondelete="CASCADE"), index=True
    )
    iban: Mapped[str] = mapped_column(String(34))
    bic: Mapped[str] = mapped_column(String(11), default="")
    bank_name: Mapped[str] = mapped_column(String(100), default="")
    is_default: Mapped[bool] = mapped_column(Boolean, default=False)

    client: Mapped[Client] = relationship(back_populates="bank_accounts")


contact_person = Table(
    "crm_contacts_contact_person",
    Base.metadata,
    Column(
        "contact_id", ForeignKey("crm_contacts_contact.id", ondelete="CASCADE"), primary_key=True
    ),
    Column("person_id", ForeignKey("crm_contacts_person.id", ondelete="CASCADE"), primary_key=True),
)


class Contact(Base):
    """One entry of the contact history: a visit, call, meeting... done, or scheduled ahead."""

    __tablename__ = "crm_contacts_contact"
    __crm_audit__ = True
    __table_args__ = (
        # My agenda: a user's contacts in a time range; the client file: a client's latest ones.
        Index("ix_crm_contacts_contact_user_starts", "user_id", "starts_at"),
        Index("ix_crm_contacts_contact_client_starts", "client_id", "starts_at"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    client_id: Mapped[int] = mapped_column(ForeignKey("crm_contacts_client.id", ondelete="CASCADE"))
    user_id: Mapped[int | None] = mapped_column(
        ForeignKey("core_user.id", ondelete="SET NULL"), info={"label": "Representative"}
    )
    contact_type_id: Mapped[int] = mapped_column(
        ForeignKey("crm_contacts_contact_type.id", ondelete="RESTRICT"), info={"label": "Type"}
    )
    state: Mapped[str] = mapped_column(String(20), default="done")
    starts_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    duration_minutes: Mapped[int] = mapped_column(Integer, default=30)
    subject: Mapped[str] = mapped_column(String(200), default="")
    notes: Mapped[str] = mapped_column(Text, default="")
    outcome: Mapped[str] = mapped_column(Text, default="")
    follow_up_date: Mapped[date | None] = mapped_column(Date)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    version: Mapped[int] = mapped_column(Integer, default=1)

    client: Mapped[Client] = relationship()
    user: Mapped[User | None] = relationship()
    contact_type: Mapped[ContactType] = relationship()
    persons: Mapped[list[Person]] = relationship(secondary=contact_person)

    __mapper_args__ = {"version_id_col": version}


class CalendarFeed(Base):
    """The secret that makes a user's iCalendar feed URL unguessable; regenerating it revokes the
    old URL. Kept as is (not hashed): the user must be able to see their URL again."""

    __tablename__ = "crm_contacts_calendar_feed"

    user_id: Mapped[int] = mapped_column(
        ForeignKey("core_user.id", ondelete="CASCADE"), primary_key=True
    )
    secret: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
