"""Every account's chat is its private chat again: undo group chat ids an older bot stored

A private chat's id is the user's own Telegram id; a group's is negative. Before the bot kept
accounts to their private chat, a linked KPM writing in a group had her chat_id overwritten with
the group's, so notices and reminders went to the group. This puts each such account back.

Revision ID: 0014
Revises: 0013
Create Date: 2026-12-04
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0014"
down_revision: str | None = "0013"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    user = sa.table(
        "telegram_user",
        sa.column("chat_id", sa.BigInteger()),
        sa.column("telegram_user_id", sa.BigInteger()),
    )
    op.execute(user.update().where(user.c.chat_id < 0).values(chat_id=user.c.telegram_user_id))


def downgrade() -> None:
    pass  # the group ids are not worth restoring: they were the bug
