"""The core's own tables: modules and their signal, users, groups and permissions."""

from __future__ import annotations

from datetime import UTC, datetime

from flask_login import UserMixin
from sqlalchemy import (
    Boolean,
    Column,
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


def utcnow() -> datetime:
    return datetime.now(UTC)


class DataVersion(Base):
    """A counter per table, grown in the transaction of every write to the table
    (``core.data_versions``): a result computed from the tables stays valid while their
    counters have not moved, in any process, on any host."""

    __tablename__ = "core_data_version"

    name: Mapped[str] = mapped_column(String(100), primary_key=True)
    version: Mapped[int] = mapped_column(Integer, default=0)


class Module(Base):
    """A module's state in this database. A row exists once the module was ever installed."""

    __tablename__ = "core_module"

    name: Mapped[str] = mapped_column(String(100), primary_key=True)
    version: Mapped[str] = mapped_column(String(50), default="")
    state: Mapped[str] = mapped_column(String(20), default="installed")  # installed | uninstalled
    installed_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))


class RegistrySignal(Base):
    """One row whose ``sequence`` grows at every install and uninstall.

    Every worker compares it with the value its plugin manager was built for, at every request, and
    rebuilds when it moved: that is how a change made by one process reaches all of them.
    """

    __tablename__ = "core_registry_signal"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    sequence: Mapped[int] = mapped_column(Integer, default=0)


user_group = Table(
    "core_user_group",
    Base.metadata,
    Column("user_id", ForeignKey("core_user.id", ondelete="CASCADE"), primary_key=True),
    Column("group_id", ForeignKey("core_group.id", ondelete="CASCADE"), primary_key=True),
)

group_permission = Table(
    "core_group_permission",
    Base.metadata,
    Column("group_id", ForeignKey("core_group.id", ondelete="CASCADE"), primary_key=True),
    Column(
        "permission_code",
        ForeignKey("core_permission.code", ondelete="CASCADE"),
        primary_key=True,
    ),
)


class Group(Versioned, Base):
    __tablename__ = "core_group"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    code: Mapped[str] = mapped_column(String(50), unique=True)
    name: Mapped[str] = mapped_column(String(100))

    permissions: Mapped[list[PermissionRecord]] = relationship(
        secondary=group_permission, back_populates="groups"
    )


class PermissionRecord(Base):
    """A permission a module declared, stored so that administrators can grant it to groups."""

    __tablename__ = "core_permission"

    code: Mapped[str] = mapped_column(String(100), primary_key=True)
    label: Mapped[str] = mapped_column(String(200))
    module: Mapped[str] = mapped_column(String(100), index=True)

    groups: Mapped[list[Group]] = relationship(
        secondary=group_permission, back_populates="permissions"
    )


class User(UserMixin, Base):
    __tablename__ = "core_user"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    login: Mapped[str] = mapped_column(String(100), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    email: Mapped[str] = mapped_column(String(200), default="")
    password_hash: Mapped[str] = mapped_column(String(255), default="")
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    last_login: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    # Part of the id flask-login keeps in the session and the remember cookie: rotating it (new
    # password, deactivation) ends every session of the user at once.
    session_token: Mapped[str] = mapped_column(String(64), default="")
    # Moved on by the administrator's edit form only (``version_id_generator`` off): logging in
    # writes ``last_login`` and must neither conflict with an edit nor with another login.
    version: Mapped[int] = mapped_column(Integer, nullable=False, default=1, server_default="1")

    groups: Mapped[list[Group]] = relationship(secondary=user_group)

    __mapper_args__ = {"version_id_col": version, "version_id_generator": False}

    @property
    def is_active(self) -> bool:  # flask-login refuses inactive users
        return self.active

    def get_id(self) -> str:
        # The token travels with the id so that rotating it invalidates every session and
        # "remember me" cookie issued before (see core.auth.load_user).
        return f"{self.id}:{self.session_token}"


class ApiToken(Base):
    """A personal token for the JSON API. Only its SHA-256 is stored; the token is shown once."""

    __tablename__ = "core_api_token"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("core_user.id", ondelete="CASCADE"), index=True)
    name: Mapped[str] = mapped_column(String(100))
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    prefix: Mapped[str] = mapped_column(String(12))  # the first characters, to recognise it by
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    last_used_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    revoked_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))

    user: Mapped[User] = relationship()


class AuditEntry(Base):
    """One changed field of one record (or a whole create/delete). Model and field names are kept
    as text, so history outlives the module that owned them."""

    __tablename__ = "core_audit_log"
    __table_args__ = (Index("ix_core_audit_log_model_record", "model", "record_id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    user_id: Mapped[int | None] = mapped_column(Integer)
    user_login: Mapped[str] = mapped_column(String(100), default="")
    model: Mapped[str] = mapped_column(String(100))
    record_id: Mapped[str] = mapped_column(String(64))
    action: Mapped[str] = mapped_column(String(10))  # create | update | delete
    field: Mapped[str | None] = mapped_column(String(100))
    old_value: Mapped[str | None] = mapped_column(Text)
    new_value: Mapped[str | None] = mapped_column(Text)


class RecordRuleState(Base):
    """Whether a record rule declared by a module is switched on in this installation."""

    __tablename__ = "core_record_rule"

    code: Mapped[str] = mapped_column(String(100), primary_key=True)
    enabled: Mapped[bool] = mapped_column(Boolean, default=True)


class Attachment(Base):
    """A file attached to a record of any registered model (``core.attachments``).

    The record is named by its model's registry name and its primary key as text, like the audit
    trail: no foreign key, so any module's records can have files. The file itself lives in the
    attachment storage under its SHA-256; ``name`` is what the user uploaded it as, for display
    and for the download's file name only, never a path.
    """

    __tablename__ = "core_attachment"
    __table_args__ = (Index("ix_core_attachment_model_record", "model", "record_id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    model: Mapped[str] = mapped_column(String(100))
    record_id: Mapped[str] = mapped_column(String(64))
    name: Mapped[str] = mapped_column(String(255))
    content_type: Mapped[str] = mapped_column(String(150))
    size: Mapped[int] = mapped_column(Integer)
    sha256: Mapped[str] = mapped_column(String(64), index=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    created_by_id: Mapped[int | None] = mapped_column(
        ForeignKey("core_user.id", ondelete="SET NULL")
    )

    created_by: Mapped[User | None] = relationship()


class AttachmentOrphan(Base):
    """A stored file that the clean-up found referenced by no attachment, and when it first did.

    The file is deleted by a later clean-up only if it is still unreferenced after the grace
    period: a file written for an attachment whose transaction has not committed yet is never
    collected."""

    __tablename__ = "core_attachment_orphan"

    sha256: Mapped[str] = mapped_column(String(64), primary_key=True)
    first_seen_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class Notification(Base):
    """An in-app message to one user (``core.notifications``): the bell in the navigation bar."""

    __tablename__ = "core_notification"
    __table_args__ = (Index("ix_core_notification_user_read", "user_id", "read_at"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("core_user.id", ondelete="CASCADE"))
    text: Mapped[str] = mapped_column(String(500))
    url: Mapped[str | None] = mapped_column(String(500))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    read_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))


class UserPreference(Base):
    """A choice a user made that a page remembers (``core.preferences``): the columns of a list,
    for instance. ``key`` is prefixed with the module that reads it; ``value`` is JSON."""

    __tablename__ = "core_user_preference"

    user_id: Mapped[int] = mapped_column(
        ForeignKey("core_user.id", ondelete="CASCADE"), primary_key=True
    )
    key: Mapped[str] = mapped_column(String(100), primary_key=True)
    value: Mapped[str] = mapped_column(Text, default="null")
