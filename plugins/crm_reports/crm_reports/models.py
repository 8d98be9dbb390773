"""Saved reports: a name, a spec, an author, and the groups it is shared with."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, Column, DateTime, ForeignKey, Integer, String, Table, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from core.db import Base
from core.models import Group, User, utcnow

report_group = Table(
    "crm_reports_report_group",
    Base.metadata,
    Column("report_id", ForeignKey("crm_reports_report.id", ondelete="CASCADE"), primary_key=True),
    Column("group_id", ForeignKey("core_group.id", ondelete="CASCADE"), primary_key=True),
)


class SavedReport(Base):
    """A spec saved with a name. Whoever opens it runs it with their own permissions and record
    rules: sharing gives the question, never the author's view of the answer."""

    __tablename__ = "crm_reports_report"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(200), info={"label": "Name"})
    description: Mapped[str] = mapped_column(Text, default="", info={"label": "Description"})
    spec: Mapped[dict] = mapped_column(JSON, info={"label": "Spec"})
    owner_id: Mapped[int] = mapped_column(
        ForeignKey("core_user.id", ondelete="CASCADE"), index=True, info={"label": "Author"}
    )
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), default=utcnow, onupdate=utcnow
    )

    owner: Mapped[User] = relationship()
    groups: Mapped[list[Group]] = relationship(secondary=report_group)
