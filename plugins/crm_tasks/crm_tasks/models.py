from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import Boolean, Date, DateTime, ForeignKey, Integer, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from core.db import Base
from core.models import utcnow
from crm_contacts.models import Client


class Task(Base):
    __tablename__ = "crm_tasks_task"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    title: Mapped[str] = mapped_column(String(200), info={"label": "Title"})
    # A task about a client goes with the client; a task about nobody in particular has none.
    client_id: Mapped[int | None] = mapped_column(
        ForeignKey("crm_contacts_client.id", ondelete="CASCADE"),
        index=True,
        info={"label": "Client"},
    )
    due_date: Mapped[date | None] = mapped_column(Date, info={"label": "Due"})
    done: Mapped[bool] = mapped_column(Boolean, default=False, info={"label": "Done"})
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)

    client: Mapped[Client | None] = relationship()
