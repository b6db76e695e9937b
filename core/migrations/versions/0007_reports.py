"""reports: synthetic marker on events, consented fallback texts, staff sign-in.

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-23
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0007"
down_revision: str | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    with op.batch_alter_table("events") as batch:
        batch.add_column(
            sa.Column("synthetic", sa.Boolean(), server_default=sa.false(), nullable=False)
        )
    op.create_table(
        "fallback_texts",
        sa.Column("id", ID, nullable=False),
        sa.Column("event_id", ID, nullable=False),
        sa.Column("occurred_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("commune_code", sa.String(length=5), nullable=True),
        sa.Column("resident_id", sa.String(length=64), nullable=False),
        sa.Column("text", sa.String(length=500), nullable=False),
        sa.Column("synthetic", sa.Boolean(), server_default=sa.false(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_fallback_texts")),
    )
    op.create_index(
        "ix_fallback_texts_commune_time", "fallback_texts", ["commune_code", "occurred_at"]
    )
    op.create_index(op.f("ix_fallback_texts_event_id"), "fallback_texts", ["event_id"])
    op.create_index(op.f("ix_fallback_texts_resident_id"), "fallback_texts", ["resident_id"])
    op.create_table(
        "staff",
        sa.Column("id", ID, nullable=False),
        sa.Column("username", sa.String(length=64), nullable=False),
        sa.Column("display_name", sa.String(length=80), nullable=False),
        sa.Column("password_hash", sa.String(length=255), nullable=False),
        sa.Column("commune_code", sa.String(length=5), nullable=True),
        sa.Column("province_code", sa.String(length=2), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint(
            "(commune_code IS NULL) <> (province_code IS NULL)", name=op.f("ck_staff_one_scope")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_staff")),
        sa.UniqueConstraint("username", name=op.f("uq_staff_username")),
    )


def downgrade() -> None:
    op.drop_table("staff")
    op.drop_index(op.f("ix_fallback_texts_resident_id"), table_name="fallback_texts")
    op.drop_index(op.f("ix_fallback_texts_event_id"), table_name="fallback_texts")
    op.drop_index("ix_fallback_texts_commune_time", table_name="fallback_texts")
    op.drop_table("fallback_texts")
    with op.batch_alter_table("events") as batch:
        batch.drop_column("synthetic")
