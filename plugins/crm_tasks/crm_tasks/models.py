"""Tasks and commitments: configurable commitment types, the task with its workflow status, and
the history of its transitions."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import Boolean, Date, DateTime, ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from core.db import Base, Versioned
from core.models import User, utcnow
from crm_contacts.models import Client, Contact, Person

PRIORITIES = ("low", "normal", "high", "urgent")


class CommitmentType(Versioned, Base):
    """A kind of promise to a client: conclude a new contract, provide an offer, develop a
    sample... A configurable list (Settings → Commitment types)."""

    __tablename__ = "crm_tasks_commitment_type"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    code: Mapped[str] = mapped_column(String(50), unique=True, info={"label": "Code"})
    name: Mapped[str] = mapped_column(String(100), info={"label": "Name"})
    # Samples and test products pass through "in development"; others go straight to completion.
    needs_development: Mapped[bool] = mapped_column(
        Boolean, default=False, info={"label": "Has a development stage"}
    )
    active: Mapped[bool] = mapped_column(Boolean, default=True, info={"label": "Active"})
    sort_order: Mapped[int] = mapped_column(Integer, default=100, info={"label": "Order"})


class Task(Base):
    __tablename__ = "crm_tasks_task"
    __crm_audit__ = (
        "title", "description", "client_id", "person_id", "contact_id", "commitment_type_id",
        "assigned_to_id", "due_date", "priority",
    )  # fmt: skip
    __table_args__ = (
        Index("ix_crm_tasks_task_assigned_to_status", "assigned_to_id", "status"),
        Index("ix_crm_tasks_task_assigned_by_status", "assigned_by_id", "status"),
        Index("ix_crm_tasks_task_status_due", "status", "due_date"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    title: Mapped[str] = mapped_column(String(200), info={"label": "Title"})
    description: Mapped[str] = mapped_column(Text, default="", info={"label": "Description"})
    # A task about a client goes with the client; a task about nobody in particular has none.
    client_id: Mapped[int | None] = mapped_column(
        ForeignKey("crm_contacts_client.id", ondelete="CASCADE"),
        index=True,
        info={"label": "Client"},
    )
    person_id: Mapped[int | None] = mapped_column(
        ForeignKey("crm_contacts_person.id", ondelete="SET NULL"),
        info={"label": "Contact person"},
    )
    contact_id: Mapped[int | None] = mapped_column(
        ForeignKey("crm_contacts_contact.id", ondelete="SET NULL"),
        info={"label": "Contact-history entry"},
    )
    commitment_type_id: Mapped[int | None] = mapped_column(
        ForeignKey("crm_tasks_commitment_type.id", ondelete="RESTRICT"),
        index=True,
        info={"label": "Commitment type"},
    )
    assigned_to_id: Mapped[int | None] = mapped_column(
        ForeignKey("core_user.id", ondelete="SET NULL"), info={"label": "Assigned to"}
    )
    assigned_by_id: Mapped[int | None] = mapped_column(
        ForeignKey("core_user.id", ondelete="SET NULL"), info={"label": "Assigned by"}
    )
    due_date: Mapped[date | None] = mapped_column(Date, info={"label": "Due"})
    priority: Mapped[str] = mapped_column(String(10), default="normal", info={"label": "Priority"})
    status: Mapped[str] = mapped_column(String(20), default="assigned", info={"label": "Status"})
    status_changed_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), default=utcnow, info={"label": "Status changed"}
    )
    completed_at: Mapped[datetime | None] = mapped_column(
        DateTime(timezone=True), info={"label": "Completed"}
    )
    rejection_reason: Mapped[str] = mapped_column(
        Text, default="", info={"label": "Reason of the refusal"}
    )
    # The record the completion produced (a contract...), offered by another module through
    # crm_tasks_completion_links: its registry name, id and label as they were at completion.
    link_model: Mapped[str | None] = mapped_column(String(100), info={"label": "Linked record"})
    link_record_id: Mapped[str | None] = mapped_column(String(64))
    link_label: Mapped[str] = mapped_column(String(200), default="")
    link_url: Mapped[str] = mapped_column(String(500), default="")
    # The day `crm tasks remind` last reminded the assignee: at most one reminder a day.
    reminded_on: Mapped[date | None] = mapped_column(Date)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    version: Mapped[int] = mapped_column(Integer, default=1)

    client: Mapped[Client | None] = relationship()
    person: Mapped[Person | None] = relationship()
    contact: Mapped[Contact | None] = relationship()
    commitment_type: Mapped[CommitmentType | None] = relationship()
    assigned_to: Mapped[User | None] = relationship(foreign_keys=[assigned_to_id])
    assigned_by: Mapped[User | None] = relationship(foreign_keys=[assigned_by_id])
    transitions: Mapped[list[Transition]] = relationship(
        back_populates="task",
        cascade="all, delete-orphan",
        passive_deletes=True,
        order_by="Transition.id",
    )

    __mapper_args__ = {"version_id_col": version}


class Transition(Base):
    """One step of a task's workflow: who moved it from which status to which, when, and why."""

    __tablename__ = "crm_tasks_transition"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    task_id: Mapped[int] = mapped_column(
        ForeignKey("crm_tasks_task.id", ondelete="CASCADE"), index=True
    )
    from_status: Mapped[str | None] = mapped_column(String(20), info={"label": "From"})
    to_status: Mapped[str] = mapped_column(String(20), info={"label": "To"})
    user_id: Mapped[int | None] = mapped_column(
        ForeignKey("core_user.id", ondelete="SET NULL"), info={"label": "By"}
    )
    at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow, index=True)
    comment: Mapped[str] = mapped_column(Text, default="", info={"label": "Comment"})

    task: Mapped[Task] = relationship(back_populates="transitions")
    user: Mapped[User | None] = relationship()
