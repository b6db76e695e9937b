"""handoff desk: ticket messages, service-level timers, Telegram desk groups and topics,
volunteer invites and web desk sign-in.

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-23
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0005"
down_revision: str | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    with op.batch_alter_table("volunteers") as batch:
        batch.add_column(sa.Column("username", sa.String(length=64), nullable=True))
        batch.add_column(sa.Column("password_hash", sa.String(length=255), nullable=True))
        batch.create_unique_constraint(op.f("uq_volunteers_username"), ["username"])
    with op.batch_alter_table("tickets") as batch:
        # Existing tickets start their service-level clock when they were opened.
        batch.add_column(
            sa.Column(
                "sla_from",
                sa.DateTime(timezone=True),
                nullable=False,
                server_default=sa.func.current_timestamp(),
            )
        )
        batch.add_column(sa.Column("reminded_at", sa.DateTime(timezone=True), nullable=True))
        batch.add_column(sa.Column("escalated_at", sa.DateTime(timezone=True), nullable=True))
    op.execute("UPDATE tickets SET sla_from = created_at")
    with op.batch_alter_table("tickets") as batch:
        batch.alter_column("sla_from", server_default=None)

    op.create_table(
        "ticket_messages",
        sa.Column("id", ID, nullable=False),
        sa.Column("ticket_id", ID, nullable=False),
        sa.Column("author", sa.String(length=16), nullable=False),
        sa.Column("volunteer_id", ID, nullable=True),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("file_ref", sa.String(length=255), nullable=True),
        sa.Column("latitude", sa.Float(), nullable=True),
        sa.Column("longitude", sa.Float(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("relayed_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["ticket_id"],
            ["tickets.id"],
            name=op.f("fk_ticket_messages_ticket_id_tickets"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["volunteer_id"],
            ["volunteers.id"],
            name=op.f("fk_ticket_messages_volunteer_id_volunteers"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_ticket_messages")),
    )
    op.create_index("ix_ticket_messages_ticket", "ticket_messages", ["ticket_id", "id"])
    op.create_table(
        "desk_links",
        sa.Column("commune_code", sa.String(length=5), nullable=False),
        sa.Column("chat_id", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("commune_code", name=op.f("pk_desk_links")),
    )
    op.create_table(
        "desk_topics",
        sa.Column("ticket_id", ID, nullable=False),
        sa.Column("chat_id", sa.BigInteger(), nullable=False),
        sa.Column("thread_id", sa.BigInteger(), nullable=False),
        sa.Column("card_message_id", sa.BigInteger(), nullable=True),
        sa.ForeignKeyConstraint(
            ["ticket_id"],
            ["tickets.id"],
            name=op.f("fk_desk_topics_ticket_id_tickets"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("ticket_id", name=op.f("pk_desk_topics")),
        sa.UniqueConstraint("chat_id", "thread_id", name=op.f("uq_desk_topics_chat_id")),
    )
    op.create_table(
        "volunteer_invites",
        sa.Column("code_hash", sa.String(length=64), nullable=False),
        sa.Column("communes", sa.String(length=255), nullable=False),
        sa.Column("role", sa.String(length=16), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("used_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("used_by", ID, nullable=True),
        sa.ForeignKeyConstraint(
            ["used_by"],
            ["volunteers.id"],
            name=op.f("fk_volunteer_invites_used_by_volunteers"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("code_hash", name=op.f("pk_volunteer_invites")),
    )


def downgrade() -> None:
    op.drop_table("volunteer_invites")
    op.drop_table("desk_topics")
    op.drop_table("desk_links")
    op.drop_index("ix_ticket_messages_ticket", table_name="ticket_messages")
    op.drop_table("ticket_messages")
    with op.batch_alter_table("tickets") as batch:
        batch.drop_column("escalated_at")
        batch.drop_column("reminded_at")
        batch.drop_column("sla_from")
    with op.batch_alter_table("volunteers") as batch:
        batch.drop_constraint(op.f("uq_volunteers_username"), type_="unique")
        batch.drop_column("password_hash")
        batch.drop_column("username")
