"""events table: the append-only support metrics every report is built from.

Revision ID: 0001
Revises:
Create Date: 2026-11-23
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0001"
down_revision: str | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "events",
        sa.Column(
            "id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            autoincrement=True,
            nullable=False,
        ),
        sa.Column("occurred_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("commune_code", sa.String(length=5), nullable=True),
        sa.Column("channel", sa.String(length=16), nullable=False),
        sa.Column("resident_id", sa.String(length=64), nullable=False),
        sa.Column("type", sa.String(length=32), nullable=False),
        sa.Column("key", sa.String(length=64), nullable=True),
        sa.Column("value", sa.Float(), nullable=True),
        sa.Column("ticket_id", sa.BigInteger(), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_events")),
    )
    op.create_index("ix_events_commune_time", "events", ["commune_code", "occurred_at"])
    op.create_index("ix_events_resident", "events", ["resident_id"])
    op.create_index("ix_events_type_time", "events", ["type", "occurred_at"])


def downgrade() -> None:
    op.drop_index("ix_events_type_time", table_name="events")
    op.drop_index("ix_events_resident", table_name="events")
    op.drop_index("ix_events_commune_time", table_name="events")
    op.drop_table("events")
