"""The admin dashboard: users, sessions, login attempts; admin replies in the outbox

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-23
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0004"
down_revision: str | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


OLD_KINDS = ("reminder", "rollup", "broadcast", "stage_open", "meeting_change")
NEW_KINDS = (*OLD_KINDS, "admin_reply")


def _outbox_kinds(kinds: tuple[str, ...]) -> None:
    """Replace the CHECK constraint that lists the outbox kinds (non-native enum)."""
    if op.get_bind().dialect.name == "sqlite":
        # SQLite cannot alter a constraint: batch mode rebuilds the table with the new type.
        with op.batch_alter_table("outbox_message") as batch_op:
            batch_op.alter_column(
                "kind",
                existing_type=sa.Enum(
                    *OLD_KINDS if kinds == NEW_KINDS else NEW_KINDS,
                    name="outbox_kind",
                    native_enum=False,
                    create_constraint=True,
                    length=30,
                ),
                type_=sa.Enum(
                    *kinds, name="outbox_kind", native_enum=False, create_constraint=True, length=30
                ),
                existing_nullable=False,
            )
        return
    op.drop_constraint(op.f("ck_outbox_message_outbox_kind"), "outbox_message", type_="check")
    listed = ", ".join(f"'{kind}'" for kind in kinds)
    op.create_check_constraint("outbox_kind", "outbox_message", f"kind IN ({listed})")


def upgrade() -> None:
    _outbox_kinds(NEW_KINDS)
    op.create_table(
        "login_attempt",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("username", sa.String(length=64), nullable=False),
        sa.Column("client", sa.String(length=64), nullable=True),
        sa.Column("succeeded", sa.Boolean(), nullable=False),
        sa.Column("attempted_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_login_attempt")),
    )
    with op.batch_alter_table("login_attempt", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_login_attempt_attempted_at"), ["attempted_at"], unique=False
        )
        batch_op.create_index(
            "ix_login_attempt_username_at", ["username", "attempted_at"], unique=False
        )

    op.create_table(
        "admin_user",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("username", sa.String(length=64), nullable=False),
        sa.Column("password_hash", sa.String(length=200), nullable=False),
        sa.Column(
            "role",
            sa.Enum(
                "kpm",
                "pendamping",
                "admin",
                name="admin_role",
                native_enum=False,
                create_constraint=True,
                length=30,
            ),
            nullable=False,
        ),
        sa.Column("pendamping_id", sa.Integer(), nullable=True),
        sa.Column("language", sa.String(length=5), nullable=False),
        sa.Column("is_active", sa.Boolean(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("last_login_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["pendamping_id"],
            ["pendamping.id"],
            name=op.f("fk_admin_user_pendamping_id_pendamping"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_admin_user")),
        sa.UniqueConstraint("username", name=op.f("uq_admin_user_username")),
    )
    op.create_table(
        "admin_session",
        sa.Column("token_hash", sa.String(length=64), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("csrf_token", sa.String(length=64), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["user_id"],
            ["admin_user.id"],
            name=op.f("fk_admin_session_user_id_admin_user"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("token_hash", name=op.f("pk_admin_session")),
    )
    with op.batch_alter_table("admin_session", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_admin_session_user_id"), ["user_id"], unique=False)


def downgrade() -> None:
    op.execute("DELETE FROM outbox_message WHERE kind = 'admin_reply'")
    _outbox_kinds(OLD_KINDS)
    with op.batch_alter_table("admin_session", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_admin_session_user_id"))

    op.drop_table("admin_session")
    op.drop_table("admin_user")
    with op.batch_alter_table("login_attempt", schema=None) as batch_op:
        batch_op.drop_index("ix_login_attempt_username_at")
        batch_op.drop_index(batch_op.f("ix_login_attempt_attempted_at"))

    op.drop_table("login_attempt")
