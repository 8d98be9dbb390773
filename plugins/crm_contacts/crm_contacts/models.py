from __future__ import annotations

from datetime import datetime

from sqlalchemy import DateTime, ForeignKey, Integer, String
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
    responsible_id: Mapped[int | None] = mapped_column(
        ForeignKey("core_user.id", ondelete="SET NULL"),
        index=True,
        info={"label": "Responsible representative"},
    )
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    version: Mapped[int] = mapped_column(Integer, default=1)

    # Optimistic locking: an UPDATE matches only the version that was read.
    __mapper_args__ = {"version_id_col": version}
    # A client file is shared by reps, managers and back office: each change must be traceable.
    __crm_audit__ = True
