from __future__ import annotations

from datetime import datetime

from sqlalchemy import DateTime, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from core.db import Base
from core.models import utcnow

CLIENT_STATUSES = ("prospect", "active", "inactive")


class Client(Base):
    __tablename__ = "crm_contacts_client"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(200), index=True, info={"label": "Name"})
    email: Mapped[str] = mapped_column(String(200), default="")
    phone: Mapped[str] = mapped_column(String(50), default="")
    city: Mapped[str] = mapped_column(String(100), default="", index=True)
    status: Mapped[str] = mapped_column(String(20), default="prospect")
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
