"""volunteers, the communes they serve, and handoff tickets.

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-23
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0004"
down_revision: str | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
ACTIVE = sa.text("state IN ('open', 'claimed')")


def upgrade() -> None:
    op.create_table(
        "volunteers",
        sa.Column("id", ID, nullable=False),
        sa.Column("display_name", sa.String(length=80), nullable=False),
        sa.Column("telegram_user_id", sa.BigInteger(), nullable=True),
        sa.Column("role", sa.String(length=16), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_volunteers")),
        sa.UniqueConstraint("telegram_user_id", name=op.f("uq_volunteers_telegram_user_id")),
    )
    op.create_table(
        "volunteer_communes",
        sa.Column("volunteer_id", ID, nullable=False),
        sa.Column("commune_code", sa.String(length=5), nullable=False),
        sa.ForeignKeyConstraint(
            ["volunteer_id"],
            ["volunteers.id"],
            name=op.f("fk_volunteer_communes_volunteer_id_volunteers"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("volunteer_id", "commune_code", name=op.f("pk_volunteer_communes")),
    )
    op.create_table(
        "tickets",
        sa.Column("id", ID, nullable=False),
        sa.Column("resident_id", sa.String(length=64), nullable=False),
        sa.Column("channel", sa.String(length=16), nullable=False),
        sa.Column("channel_user_id", sa.String(length=64), nullable=False),
        sa.Column("commune_code", sa.String(length=5), nullable=True),
        sa.Column("reason", sa.String(length=16), nullable=False),
        sa.Column("urgent", sa.Boolean(), nullable=False),
        sa.Column("service", sa.String(length=32), nullable=True),
        sa.Column("step", sa.Integer(), nullable=True),
        sa.Column("summary", sa.Text(), nullable=False),
        sa.Column("state", sa.String(length=16), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("claimed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("closed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("claimed_by", ID, nullable=True),
        sa.Column("rating", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(
            ["claimed_by"],
            ["volunteers.id"],
            name=op.f("fk_tickets_claimed_by_volunteers"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_tickets")),
    )
    op.create_index(
        "uq_tickets_active_resident",
        "tickets",
        ["resident_id"],
        unique=True,
        postgresql_where=ACTIVE,
        sqlite_where=ACTIVE,
    )
    op.create_index("ix_tickets_commune_state", "tickets", ["commune_code", "state"])


def downgrade() -> None:
    op.drop_index("ix_tickets_commune_state", table_name="tickets")
    op.drop_index("uq_tickets_active_resident", table_name="tickets")
    op.drop_table("tickets")
    op.drop_table("volunteer_communes")
    op.drop_table("volunteers")
