"""The question log: one row per answered message, for the dashboard's statistics

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-23
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0005"
down_revision: str | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "question_log",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=True),
        sa.Column("intent", sa.String(length=50), nullable=True),
        sa.Column("confidence", sa.Float(), nullable=True),
        sa.Column("answered", sa.Boolean(), nullable=False),
        sa.Column(
            "reason",
            sa.Enum(
                "low_confidence",
                "fallback",
                "out_of_scope",
                "negative_rating",
                "nlu_down",
                name="question_log_reason",
                native_enum=False,
                create_constraint=True,
                length=30,
            ),
            nullable=True,
        ),
        sa.Column("channel", sa.String(length=10), nullable=True),
        sa.ForeignKeyConstraint(
            ["user_id"],
            ["telegram_user.id"],
            name=op.f("fk_question_log_user_id_telegram_user"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_question_log")),
    )
    with op.batch_alter_table("question_log", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_question_log_created_at"), ["created_at"], unique=False
        )
        batch_op.create_index(batch_op.f("ix_question_log_user_id"), ["user_id"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("question_log", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_question_log_user_id"))
        batch_op.drop_index(batch_op.f("ix_question_log_created_at"))

    op.drop_table("question_log")
