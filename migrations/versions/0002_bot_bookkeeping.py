"""The bot's bookkeeping: processed update ids and account-linking attempts.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-23
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "processed_update",
        sa.Column("update_id", sa.BigInteger(), autoincrement=False, nullable=False),
        sa.Column("processed_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("update_id", name=op.f("pk_processed_update")),
    )
    op.create_index(
        op.f("ix_processed_update_processed_at"), "processed_update", ["processed_at"]
    )
    op.create_table(
        "link_attempt",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("telegram_user_id", sa.BigInteger(), nullable=False),
        sa.Column("succeeded", sa.Boolean(), nullable=False),
        sa.Column("attempted_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_link_attempt")),
    )
    op.create_index(
        "ix_link_attempt_user_at", "link_attempt", ["telegram_user_id", "attempted_at"]
    )


def downgrade() -> None:
    op.drop_index("ix_link_attempt_user_at", table_name="link_attempt")
    op.drop_table("link_attempt")
    op.drop_index(op.f("ix_processed_update_processed_at"), table_name="processed_update")
    op.drop_table("processed_update")
