"""announcement reach: a province announcement's chosen communes, and the announcement a ticket
was opened about.

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-04
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0010"
down_revision: str | None = "0009"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    op.create_table(
        "announcement_communes",
        sa.Column("announcement_id", ID, nullable=False),
        sa.Column("commune_code", sa.String(length=5), nullable=False),
        sa.ForeignKeyConstraint(
            ["announcement_id"],
            ["announcements.id"],
            name=op.f("fk_announcement_communes_announcement_id_announcements"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint(
            "announcement_id", "commune_code", name=op.f("pk_announcement_communes")
        ),
    )
    with op.batch_alter_table("tickets") as batch:
        batch.add_column(sa.Column("announcement_id", ID, nullable=True))
        batch.create_foreign_key(
            batch.f("fk_tickets_announcement_id_announcements"),
            "announcements",
            ["announcement_id"],
            ["id"],
            ondelete="SET NULL",
        )


def downgrade() -> None:
    with op.batch_alter_table("tickets") as batch:
        batch.drop_constraint(
            batch.f("fk_tickets_announcement_id_announcements"), type_="foreignkey"
        )
        batch.drop_column("announcement_id")
    op.drop_table("announcement_communes")
