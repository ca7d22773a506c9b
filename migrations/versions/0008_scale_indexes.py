"""Indexes for a province of a million families: the drain's claim and a 403's chat

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-04

- ix_outbox_message_queued: the queued messages by time zone, urgency and priority (a partial
  index), so that claiming the next message stays flat while a province's messages rest in quiet
  hours (programme.outbox.claim_next probes each zone that may send).
- ix_outbox_message_queued_expiry: the leader's housekeeping looks every second for queued
  messages past their expiry; it read every queued row (a province's stage notices).
- ix_telegram_user_chat_id: Telegram's 403 names a chat; marking its account unreachable was a
  sequential scan of every account.
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0008"
down_revision: str | None = "0007"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_QUEUED = sa.text("state = 'queued'")


def upgrade() -> None:
    with op.batch_alter_table("outbox_message", schema=None) as batch_op:
        batch_op.create_index(
            "ix_outbox_message_queued",
            ["time_zone", "urgent", "priority", "id"],
            unique=False,
            postgresql_where=_QUEUED,
            sqlite_where=_QUEUED,
        )
        batch_op.create_index(
            "ix_outbox_message_queued_expiry",
            ["expires_at"],
            unique=False,
            postgresql_where=_QUEUED,
            sqlite_where=_QUEUED,
        )
    with op.batch_alter_table("telegram_user", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_telegram_user_chat_id"), ["chat_id"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("telegram_user", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_telegram_user_chat_id"))
    with op.batch_alter_table("outbox_message", schema=None) as batch_op:
        batch_op.drop_index("ix_outbox_message_queued_expiry")
        batch_op.drop_index("ix_outbox_message_queued")
