"""Indexes for a province of a million families: the drain's claim and housekeeping, a 403's chat

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-04

- ix_outbox_message_queued: the queued messages by time zone, urgency and priority (a partial
  index), so that claiming the next message stays flat while a province's messages rest in quiet
  hours (programme.outbox.claim_next probes each zone that may send).
- ix_outbox_message_queued_expiry and ix_outbox_message_sending: the leader's housekeeping
  looks every second for queued messages past their expiry and for messages a dead leader left
  in flight. These partial indexes replace ix_outbox_message_state_priority (0003), which held
  every row ever sent and made each of the million inserts and state changes a month pay for it.
- ix_outbox_message_broadcast_id and _meeting_id become partial (NOT NULL): a province's stage
  notices have neither, and no longer fill them.
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
_SENDING = sa.text("state = 'sending'")


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
        batch_op.create_index(
            "ix_outbox_message_sending",
            ["updated_at"],
            unique=False,
            postgresql_where=_SENDING,
            sqlite_where=_SENDING,
        )
        batch_op.drop_index("ix_outbox_message_state_priority")
        for column in ("broadcast_id", "meeting_id"):
            batch_op.drop_index(f"ix_outbox_message_{column}")
            batch_op.create_index(
                f"ix_outbox_message_{column}",
                [column],
                unique=False,
                postgresql_where=sa.text(f"{column} IS NOT NULL"),
                sqlite_where=sa.text(f"{column} IS NOT NULL"),
            )
    with op.batch_alter_table("telegram_user", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_telegram_user_chat_id"), ["chat_id"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("telegram_user", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_telegram_user_chat_id"))
    with op.batch_alter_table("outbox_message", schema=None) as batch_op:
        for column in ("broadcast_id", "meeting_id"):
            batch_op.drop_index(f"ix_outbox_message_{column}")
            batch_op.create_index(f"ix_outbox_message_{column}", [column], unique=False)
        batch_op.create_index(
            "ix_outbox_message_state_priority", ["state", "priority", "id"], unique=False
        )
        batch_op.drop_index("ix_outbox_message_sending")
        batch_op.drop_index("ix_outbox_message_queued_expiry")
        batch_op.drop_index("ix_outbox_message_queued")
