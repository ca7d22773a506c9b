"""Pendamping invites: an admin's one-time link that gives a Telegram account the pendamping role

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-04
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0012"
down_revision: str | None = "0011"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "pendamping_invite",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("code_hash", sa.String(length=64), nullable=False),
        sa.Column("pendamping_id", sa.Integer(), nullable=False),
        sa.Column("created_by", sa.String(length=100), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("used_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("used_by_user_id", sa.Integer(), nullable=True),
        sa.Column("revoked_at", sa.DateTime(timezone=True), nullable=True),
        sa.CheckConstraint(
            "expires_at > created_at",
            name=op.f("ck_pendamping_invite_expires_after_created"),
        ),
        sa.ForeignKeyConstraint(
            ["pendamping_id"],
            ["pendamping.id"],
            name=op.f("fk_pendamping_invite_pendamping_id_pendamping"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["used_by_user_id"],
            ["telegram_user.id"],
            name=op.f("fk_pendamping_invite_used_by_user_id_telegram_user"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_pendamping_invite")),
        sa.UniqueConstraint("code_hash", name=op.f("uq_pendamping_invite_code_hash")),
    )
    op.create_index(
        op.f("ix_pendamping_invite_pendamping_id"),
        "pendamping_invite",
        ["pendamping_id"],
        unique=False,
    )


def downgrade() -> None:
    op.drop_index(op.f("ix_pendamping_invite_pendamping_id"), table_name="pendamping_invite")
    op.drop_table("pendamping_invite")
