"""P2K2 RSVPs, broadcasts, the outbox of bulk messages and APScheduler's job table

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-23
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0003"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "apscheduler_jobs",
        sa.Column("id", sa.Unicode(length=191), nullable=False),
        sa.Column("next_run_time", sa.Float(precision=25), nullable=True),
        sa.Column("job_state", sa.LargeBinary(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_apscheduler_jobs")),
    )
    op.create_index(
        op.f("ix_apscheduler_jobs_next_run_time"),
        "apscheduler_jobs",
        ["next_run_time"],
        unique=False,
    )

    op.create_table(
        "broadcast",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("pendamping_id", sa.Integer(), nullable=False),
        sa.Column("author_user_id", sa.Integer(), nullable=True),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("urgent", sa.Boolean(), nullable=False),
        sa.Column("send_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column(
            "status",
            sa.Enum(
                "scheduled",
                "queued",
                "cancelled",
                name="broadcast_status",
                native_enum=False,
                create_constraint=True,
                length=30,
            ),
            nullable=False,
        ),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("cancelled_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["author_user_id"],
            ["telegram_user.id"],
            name=op.f("fk_broadcast_author_user_id_telegram_user"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["pendamping_id"], ["pendamping.id"], name=op.f("fk_broadcast_pendamping_id_pendamping")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_broadcast")),
    )
    op.create_index(
        op.f("ix_broadcast_pendamping_id"), "broadcast", ["pendamping_id"], unique=False
    )

    op.create_table(
        "meeting_rsvp",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("meeting_id", sa.Integer(), nullable=False),
        sa.Column("family_id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=True),
        sa.Column(
            "answer",
            sa.Enum(
                "hadir",
                "tidak_bisa",
                name="rsvp_answer",
                native_enum=False,
                create_constraint=True,
                length=30,
            ),
            nullable=False,
        ),
        sa.Column("answered_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["family_id"],
            ["family.id"],
            name=op.f("fk_meeting_rsvp_family_id_family"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["meeting_id"],
            ["p2k2_meeting.id"],
            name=op.f("fk_meeting_rsvp_meeting_id_p2k2_meeting"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["user_id"],
            ["telegram_user.id"],
            name=op.f("fk_meeting_rsvp_user_id_telegram_user"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_meeting_rsvp")),
        sa.UniqueConstraint(
            "meeting_id", "family_id", name=op.f("uq_meeting_rsvp_meeting_id_family_id")
        ),
    )
    op.create_table(
        "broadcast_kelompok",
        sa.Column("broadcast_id", sa.Integer(), nullable=False),
        sa.Column("kelompok_id", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["broadcast_id"],
            ["broadcast.id"],
            name=op.f("fk_broadcast_kelompok_broadcast_id_broadcast"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["kelompok_id"],
            ["kelompok.id"],
            name=op.f("fk_broadcast_kelompok_kelompok_id_kelompok"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("broadcast_id", "kelompok_id", name=op.f("pk_broadcast_kelompok")),
    )
    op.create_table(
        "outbox_message",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("dedupe_key", sa.String(length=120), nullable=False),
        sa.Column(
            "kind",
            sa.Enum(
                "reminder",
                "rollup",
                "broadcast",
                "stage_open",
                "meeting_change",
                name="outbox_kind",
                native_enum=False,
                create_constraint=True,
                length=30,
            ),
            nullable=False,
        ),
        sa.Column("chat_id", sa.BigInteger(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=True),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column(
            "buttons", sa.JSON().with_variant(postgresql.JSONB(), "postgresql"), nullable=True
        ),
        sa.Column("broadcast_id", sa.Integer(), nullable=True),
        sa.Column("meeting_id", sa.Integer(), nullable=True),
        sa.Column("priority", sa.Integer(), nullable=False),
        sa.Column("urgent", sa.Boolean(), nullable=False),
        sa.Column(
            "time_zone",
            sa.Enum(
                "Asia/Jakarta",
                "Asia/Makassar",
                "Asia/Jayapura",
                name="outbox_time_zone",
                native_enum=False,
                create_constraint=True,
                length=30,
            ),
            nullable=False,
        ),
        sa.Column(
            "state",
            sa.Enum(
                "queued",
                "sending",
                "sent",
                "failed",
                "blocked",
                "cancelled",
                "expired",
                name="outbox_state",
                native_enum=False,
                create_constraint=True,
                length=30,
            ),
            nullable=False,
        ),
        sa.Column("not_before", sa.DateTime(timezone=True), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("telegram_message_id", sa.BigInteger(), nullable=True),
        sa.Column("error", sa.String(length=300), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("sent_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["broadcast_id"],
            ["broadcast.id"],
            name=op.f("fk_outbox_message_broadcast_id_broadcast"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["meeting_id"],
            ["p2k2_meeting.id"],
            name=op.f("fk_outbox_message_meeting_id_p2k2_meeting"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["user_id"],
            ["telegram_user.id"],
            name=op.f("fk_outbox_message_user_id_telegram_user"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_outbox_message")),
        sa.UniqueConstraint("dedupe_key", name=op.f("uq_outbox_message_dedupe_key")),
    )
    op.create_index(
        op.f("ix_outbox_message_broadcast_id"), "outbox_message", ["broadcast_id"], unique=False
    )
    op.create_index(
        op.f("ix_outbox_message_meeting_id"), "outbox_message", ["meeting_id"], unique=False
    )
    op.create_index(
        "ix_outbox_message_state_priority",
        "outbox_message",
        ["state", "priority", "id"],
        unique=False,
    )
    op.create_index(op.f("ix_outbox_message_user_id"), "outbox_message", ["user_id"], unique=False)


def downgrade() -> None:
    op.drop_index(op.f("ix_outbox_message_user_id"), table_name="outbox_message")
    op.drop_index("ix_outbox_message_state_priority", table_name="outbox_message")
    op.drop_index(op.f("ix_outbox_message_meeting_id"), table_name="outbox_message")
    op.drop_index(op.f("ix_outbox_message_broadcast_id"), table_name="outbox_message")

    op.drop_table("outbox_message")
    op.drop_table("broadcast_kelompok")
    op.drop_table("meeting_rsvp")
    op.drop_index(op.f("ix_broadcast_pendamping_id"), table_name="broadcast")

    op.drop_table("broadcast")
    op.drop_index(op.f("ix_apscheduler_jobs_next_run_time"), table_name="apscheduler_jobs")

    op.drop_table("apscheduler_jobs")
