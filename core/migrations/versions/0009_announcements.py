"""announcements: residents' subscriptions, staff announcements and their deliveries.

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-04
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0009"
down_revision: str | None = "0008"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
WHEN = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "subscriptions",
        sa.Column("resident_id", sa.String(length=64), nullable=False),
        sa.Column("channel", sa.String(length=16), nullable=False),
        sa.Column("channel_user_id", sa.String(length=64), nullable=False),
        sa.Column("created_at", WHEN, nullable=False),
        sa.PrimaryKeyConstraint("resident_id", "channel", name=op.f("pk_subscriptions")),
    )
    op.create_table(
        "announcements",
        sa.Column("id", ID, nullable=False),
        sa.Column("commune_code", sa.String(length=5), nullable=True),
        sa.Column("province_code", sa.String(length=2), nullable=True),
        sa.Column("title", sa.String(length=120), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("link", sa.String(length=500), nullable=True),
        sa.Column("category", sa.String(length=16), nullable=False),
        sa.Column("send_at", WHEN, nullable=False),
        sa.Column("expires_at", WHEN, nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("author_id", ID, nullable=True),
        sa.Column("approver_id", ID, nullable=True),
        sa.Column("created_at", WHEN, nullable=False),
        sa.Column("approved_at", WHEN, nullable=True),
        sa.Column("started_at", WHEN, nullable=True),
        sa.Column("finished_at", WHEN, nullable=True),
        sa.CheckConstraint(
            "(commune_code IS NULL) <> (province_code IS NULL)",
            name=op.f("ck_announcements_one_scope"),
        ),
        sa.CheckConstraint("length(text) <= 1000", name=op.f("ck_announcements_text_length")),
        sa.ForeignKeyConstraint(
            ["author_id"],
            ["staff.id"],
            name=op.f("fk_announcements_author_id_staff"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["approver_id"],
            ["staff.id"],
            name=op.f("fk_announcements_approver_id_staff"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_announcements")),
    )
    op.create_index("ix_announcements_status_send_at", "announcements", ["status", "send_at"])
    op.create_table(
        "announcement_deliveries",
        sa.Column("id", ID, nullable=False),
        sa.Column("announcement_id", ID, nullable=False),
        sa.Column("resident_id", sa.String(length=64), nullable=False),
        sa.Column("channel", sa.String(length=16), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("reason", sa.String(length=64), nullable=True),
        sa.Column("created_at", WHEN, nullable=False),
        sa.Column("updated_at", WHEN, nullable=False),
        sa.ForeignKeyConstraint(
            ["announcement_id"],
            ["announcements.id"],
            name=op.f("fk_announcement_deliveries_announcement_id_announcements"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_announcement_deliveries")),
        sa.UniqueConstraint(
            "announcement_id",
            "resident_id",
            "channel",
            name="uq_delivery_once",
        ),
    )
    op.create_index(
        "ix_announcement_deliveries_status",
        "announcement_deliveries",
        ["announcement_id", "status"],
    )
    op.create_index(
        "ix_announcement_deliveries_resident", "announcement_deliveries", ["resident_id"]
    )


def downgrade() -> None:
    op.drop_table("announcement_deliveries")
    op.drop_index("ix_announcements_status_send_at", table_name="announcements")
    op.drop_table("announcements")
    op.drop_table("subscriptions")
