"""security stamps: web sessions bound to a random per-account value, not to a reusable id.

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-01
"""

import secrets
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0008"
down_revision: str | None = "0007"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

TABLES = ("volunteers", "staff")


def upgrade() -> None:
    connection = op.get_bind()
    for name in TABLES:
        with op.batch_alter_table(name) as batch:
            batch.add_column(sa.Column("security_stamp", sa.String(length=32), nullable=True))
        table = sa.table(name, sa.column("id"), sa.column("security_stamp"))
        for (row_id,) in connection.execute(sa.select(table.c.id)).all():
            connection.execute(
                table.update()
                .where(table.c.id == row_id)
                .values(security_stamp=secrets.token_hex(16))
            )
        with op.batch_alter_table(name) as batch:
            batch.alter_column("security_stamp", existing_type=sa.String(length=32), nullable=False)


def downgrade() -> None:
    for name in TABLES:
        with op.batch_alter_table(name) as batch:
            batch.drop_column("security_stamp")
