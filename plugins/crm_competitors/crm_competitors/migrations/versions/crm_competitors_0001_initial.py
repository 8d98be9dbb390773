"""crm_competitors: competitors, their regions and product groups, presences at clients, strategy
changes

No ``depends_on`` on crm_contacts' branch: installing this module upgrades crm_contacts to its head
(regions included) first; see docs/plugins.md, Migrations.

Revision ID: crm_competitors_0001
Revises:
Create Date: 2026-12-04
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "crm_competitors_0001"
down_revision: str | None = None
branch_labels: Sequence[str] | None = ("crm_competitors",)
depends_on: Sequence[str] | None = None


def _fk(table: str, column: str, target: str, ondelete: str = "CASCADE"):
    return sa.ForeignKeyConstraint(
        [column],
        [f"{target}.id"],
        name=op.f(f"fk_{table}_{column}_{target}"),
        ondelete=ondelete,
    )


def upgrade() -> None:
    op.create_table(
        "crm_competitors_competitor",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("website", sa.String(length=200), nullable=False),
        sa.Column("country", sa.String(length=2), nullable=False),
        sa.Column("price_position", sa.String(length=10), nullable=False),
        sa.Column("strengths", sa.Text(), nullable=False),
        sa.Column("weaknesses", sa.Text(), nullable=False),
        sa.Column("notes", sa.Text(), nullable=False),
        sa.Column("status", sa.String(length=10), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_crm_competitors_competitor")),
        sa.UniqueConstraint("name", name=op.f("uq_crm_competitors_competitor_name")),
    )
    op.create_index(
        op.f("ix_crm_competitors_competitor_status"), "crm_competitors_competitor", ["status"]
    )
    t = "crm_competitors_competitor_region"
    op.create_table(
        t,
        sa.Column("competitor_id", sa.Integer(), nullable=False),
        sa.Column("region_id", sa.Integer(), nullable=False),
        _fk(t, "competitor_id", "crm_competitors_competitor"),
        _fk(t, "region_id", "crm_contacts_region"),
        sa.PrimaryKeyConstraint("competitor_id", "region_id", name=op.f(f"pk_{t}")),
    )
    t = "crm_competitors_competitor_group"
    op.create_table(
        t,
        sa.Column("competitor_id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        _fk(t, "competitor_id", "crm_competitors_competitor"),
        sa.PrimaryKeyConstraint("competitor_id", "name", name=op.f(f"pk_{t}")),
    )
    t = "crm_competitors_presence"
    op.create_table(
        t,
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("competitor_id", sa.Integer(), nullable=False),
        sa.Column("client_id", sa.Integer(), nullable=False),
        sa.Column("share_percent", sa.Numeric(precision=5, scale=2), nullable=True),
        sa.Column("since", sa.Date(), nullable=True),
        sa.Column("until", sa.Date(), nullable=True),
        sa.Column("source", sa.String(length=200), nullable=False),
        sa.Column("notes", sa.Text(), nullable=False),
        sa.Column("recorded_by_id", sa.Integer(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        _fk(t, "competitor_id", "crm_competitors_competitor"),
        _fk(t, "client_id", "crm_contacts_client"),
        _fk(t, "recorded_by_id", "core_user", "SET NULL"),
        sa.PrimaryKeyConstraint("id", name=op.f(f"pk_{t}")),
    )
    op.create_index(op.f(f"ix_{t}_client_id"), t, ["client_id"])
    op.create_index("ix_crm_competitors_presence_competitor_until", t, ["competitor_id", "until"])
    t = "crm_competitors_presence_group"
    op.create_table(
        t,
        sa.Column("presence_id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        _fk(t, "presence_id", "crm_competitors_presence"),
        sa.PrimaryKeyConstraint("presence_id", "name", name=op.f(f"pk_{t}")),
    )
    t = "crm_competitors_change"
    op.create_table(
        t,
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("competitor_id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=20), nullable=False),
        sa.Column("occurred_on", sa.Date(), nullable=False),
        sa.Column("quarter", sa.String(length=7), nullable=False),
        sa.Column("percent", sa.Numeric(precision=6, scale=2), nullable=True),
        sa.Column("description", sa.Text(), nullable=False),
        sa.Column("source", sa.String(length=200), nullable=False),
        sa.Column("recorded_by_id", sa.Integer(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        _fk(t, "competitor_id", "crm_competitors_competitor"),
        _fk(t, "recorded_by_id", "core_user", "SET NULL"),
        sa.PrimaryKeyConstraint("id", name=op.f(f"pk_{t}")),
    )
    op.create_index(op.f(f"ix_{t}_kind"), t, ["kind"])
    op.create_index(op.f(f"ix_{t}_occurred_on"), t, ["occurred_on"])
    op.create_index(
        "ix_crm_competitors_change_competitor_occurred", t, ["competitor_id", "occurred_on"]
    )
    t = "crm_competitors_change_region"
    op.create_table(
        t,
        sa.Column("change_id", sa.Integer(), nullable=False),
        sa.Column("region_id", sa.Integer(), nullable=False),
        _fk(t, "change_id", "crm_competitors_change"),
        _fk(t, "region_id", "crm_contacts_region"),
        sa.PrimaryKeyConstraint("change_id", "region_id", name=op.f(f"pk_{t}")),
    )
    op.create_index(op.f(f"ix_{t}_region_id"), t, ["region_id"])
    t = "crm_competitors_change_group"
    op.create_table(
        t,
        sa.Column("change_id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        _fk(t, "change_id", "crm_competitors_change"),
        sa.PrimaryKeyConstraint("change_id", "name", name=op.f(f"pk_{t}")),
    )


def downgrade() -> None:
    for table in (
        "crm_competitors_change_group", "crm_competitors_change_region", "crm_competitors_change",
        "crm_competitors_presence_group", "crm_competitors_presence",
        "crm_competitors_competitor_group", "crm_competitors_competitor_region",
        "crm_competitors_competitor",
    ):  # fmt: skip
        op.drop_table(table)
