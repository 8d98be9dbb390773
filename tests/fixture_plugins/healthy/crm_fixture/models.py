from __future__ import annotations

from datetime import datetime

from sqlalchemy import DateTime, ForeignKey, Integer, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from core.db import Base
from core.models import utcnow
from crm_contacts.models import Client


class Note(Base):
    __tablename__ = "crm_fixture_note"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    title: Mapped[str] = mapped_column(String(200), index=True, info={"label": "Title"})
    body: Mapped[str] = mapped_column(String(2000), default="")
    client_id: Mapped[int | None] = mapped_column(
        ForeignKey("crm_contacts_client.id", ondelete="SET NULL"), info={"label": "Client"}
    )
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)

    client: Mapped[Client | None] = relationship()
