"""Statistics roll-ups (questions and bulk messages per hour, active users per month) and the
indexes the statistics page filters its period on

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-04
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0009"
down_revision: str | None = "0008"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

OUTBOX_KINDS = ("reminder", "rollup", "broadcast", "stage_open", "meeting_change", "admin_reply")
OUTBOX_STATES = ("queued", "sending", "sent", "failed", "blocked", "cancelled", "expired")


def upgrade() -> None:
    op.create_table(
        "statistics_rollup",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("rolled_up_until", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_statistics_rollup")),
    )
    op.create_table(
        "question_hour",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("hour", sa.DateTime(timezone=True), nullable=False),
        sa.Column("intent", sa.String(length=50), nullable=True),
        sa.Column("answered", sa.Boolean(), nullable=False),
        sa.Column("questions", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_question_hour")),
    )
    op.create_index(op.f("ix_question_hour_hour"), "question_hour", ["hour"], unique=False)
    op.create_table(
        "outbox_hour",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("hour", sa.DateTime(timezone=True), nullable=False),
        sa.Column(
            "kind",
            sa.Enum(
                *OUTBOX_KINDS,
                name="outbox_hour_kind",
                native_enum=False,
                create_constraint=True,
                length=30,
            ),
            nullable=False,
        ),
        sa.Column(
            "state",
            sa.Enum(
                *OUTBOX_STATES,
                name="outbox_hour_state",
                native_enum=False,
                create_constraint=True,
                length=30,
            ),
            nullable=False,
        ),
        sa.Column("messages", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_outbox_hour")),
    )
    op.create_index(op.f("ix_outbox_hour_hour"), "outbox_hour", ["hour"], unique=False)
    op.create_table(
        "active_user_month",
        sa.Column("month", sa.Date(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("kabupaten_id", sa.Integer(), nullable=True),
        sa.Column("days", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["kabupaten_id"],
            ["region.id"],
            name=op.f("fk_active_user_month_kabupaten_id_region"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["user_id"],
            ["telegram_user.id"],
            name=op.f("fk_active_user_month_user_id_telegram_user"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("month", "user_id", name=op.f("pk_active_user_month")),
    )
    op.create_index("ix_outbox_message_sent_at", "outbox_message", ["sent_at"], unique=False)
    finished_unsent = sa.text("sent_at IS NULL AND state IN ('sent', 'blocked', 'failed')")
    op.create_index(
        "ix_outbox_message_finished_unsent",
        "outbox_message",
        ["updated_at", "kind", "state"],
        unique=False,
        sqlite_where=finished_unsent,
        postgresql_where=finished_unsent,
    )


def downgrade() -> None:
    op.drop_index("ix_outbox_message_finished_unsent", table_name="outbox_message")
    op.drop_index("ix_outbox_message_sent_at", table_name="outbox_message")
    op.drop_table("active_user_month")
    op.drop_index(op.f("ix_outbox_hour_hour"), table_name="outbox_hour")
    op.drop_table("outbox_hour")
    op.drop_index(op.f("ix_question_hour_hour"), table_name="question_hour")
    op.drop_table("question_hour")
    op.drop_table("statistics_rollup")
