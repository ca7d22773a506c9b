"""Payment windows can be closed: payment_window.closed_at overrides the window's dates

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-04
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0011"
down_revision: str | None = "0010"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# What `pkh stage open` wrote as a new window's source before it said it in words.
OLD_ADMIN_SOURCE = "admin"
ADMIN_SOURCE = "Pembukaan tahap oleh petugas PKH"


def upgrade() -> None:
    # Plain ALTER TABLE on both backends: a batch copy of this table on SQLite would drop the
    # expression index uq_payment_window_scope (it cannot be reflected).
    op.add_column(
        "payment_window", sa.Column("closed_at", sa.DateTime(timezone=True), nullable=True)
    )
    window = sa.table("payment_window", sa.column("source", sa.Text()))
    op.execute(
        window.update().where(window.c.source == OLD_ADMIN_SOURCE).values(source=ADMIN_SOURCE)
    )


def downgrade() -> None:
    window = sa.table("payment_window", sa.column("source", sa.Text()))
    op.execute(
        window.update().where(window.c.source == ADMIN_SOURCE).values(source=OLD_ADMIN_SOURCE)
    )
    op.drop_column("payment_window", "closed_at")  # SQLite ≥ 3.35 drops a column in place
