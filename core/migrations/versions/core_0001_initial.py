"""core: modules, registry signal, users, groups, permissions

Revision ID: core_0001
Revises:
Create Date: 2026-11-26
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "core_0001"
down_revision: str | None = None
branch_labels: Sequence[str] | None = ("core",)
depends_on: Sequence[str] | None = None

DEFAULT_GROUPS = [
    ("admin", "Administrator"),
    ("sales_manager", "Sales manager"),
    ("sales_rep", "Sales representative"),
    ("back_office", "Back office"),
]


def upgrade() -> None:
    op.create_table(
        "core_module",
        sa.Column("name", sa.String(100), nullable=False),
        sa.Column("version", sa.String(50), nullable=False),
        sa.Column("state", sa.String(20), nullable=False),
        sa.Column("installed_at", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("name", name=op.f("pk_core_module")),
    )
    signal = op.create_table(
        "core_registry_signal",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("sequence", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_core_registry_signal")),
    )
    op.bulk_insert(signal, [{"id": 1, "sequence": 1}])
    op.create_table(
        "core_user",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("login", sa.String(100), nullable=False),
        sa.Column("name", sa.String(200), nullable=False),
        sa.Column("email", sa.String(200), nullable=False),
        sa.Column("password_hash", sa.String(255), nullable=False),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("last_login", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_core_user")),
        sa.UniqueConstraint("login", name=op.f("uq_core_user_login")),
    )
    groups = op.create_table(
        "core_group",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("code", sa.String(50), nullable=False),
        sa.Column("name", sa.String(100), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_core_group")),
        sa.UniqueConstraint("code", name=op.f("uq_core_group_code")),
    )
    op.bulk_insert(groups, [{"code": c, "name": n} for c, n in DEFAULT_GROUPS])
    op.create_table(
        "core_permission",
        sa.Column("code", sa.String(100), nullable=False),
        sa.Column("label", sa.String(200), nullable=False),
        sa.Column("module", sa.String(100), nullable=False),
        sa.PrimaryKeyConstraint("code", name=op.f("pk_core_permission")),
    )
    op.create_index(op.f("ix_core_permission_module"), "core_permission", ["module"])
    op.create_table(
        "core_user_group",
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("group_id", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["user_id"],
            ["core_user.id"],
            name=op.f("fk_core_user_group_user_id_core_user"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["group_id"],
            ["core_group.id"],
            name=op.f("fk_core_user_group_group_id_core_group"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("user_id", "group_id", name=op.f("pk_core_user_group")),
    )
    op.create_table(
        "core_group_permission",
        sa.Column("group_id", sa.Integer(), nullable=False),
        sa.Column("permission_code", sa.String(100), nullable=False),
        sa.ForeignKeyConstraint(
            ["group_id"],
            ["core_group.id"],
            name=op.f("fk_core_group_permission_group_id_core_group"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["permission_code"],
            ["core_permission.code"],
            name=op.f("fk_core_group_permission_permission_code_core_permission"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint(
            "group_id", "permission_code", name=op.f("pk_core_group_permission")
        ),
    )


def downgrade() -> None:
    for table in (
        "core_group_permission",
        "core_user_group",
        "core_permission",
        "core_group",
        "core_user",
        "core_registry_signal",
        "core_module",
    ):
        op.drop_table(table)
