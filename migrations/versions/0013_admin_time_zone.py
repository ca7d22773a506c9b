"""Admin time zone: each dashboard account reads times in its own region's zone (WIB/WITA/WIT)

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-04
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0013"
down_revision: str | None = "0012"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # Existing accounts keep reading WIB, what the dashboard showed everyone until now.
    with op.batch_alter_table("admin_user") as batch_op:
        batch_op.add_column(
            sa.Column(
                "time_zone",
                sa.Enum(
                    "Asia/Jakarta",
                    "Asia/Makassar",
                    "Asia/Jayapura",
                    name="admin_time_zone",
                    native_enum=False,
                    create_constraint=True,
                    length=30,
                ),
                server_default="Asia/Jakarta",
                nullable=False,
            )
        )


def downgrade() -> None:
    with op.batch_alter_table("admin_user") as batch_op:
        batch_op.drop_constraint(op.f("ck_admin_user_admin_time_zone"), type_="check")
        batch_op.drop_column("time_zone")
