"""The inbox at scale: a grouping key per question (backfilled), label proposals, a daily cap

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-04

Every unanswered question gets the group key programme.grouping computes at intake, filled in
here for the questions already stored (in the order they were asked, as intake would have done;
the key function is the application's, so a later change to it changes what a fresh backfill
gives, never what is stored). A pendamping's label becomes a `label_proposal` an admin accepts or
rejects; `inbox_overflow` counts what one asker sent beyond the day's cap.
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

from programme.grouping import MAX_KEY, KeyWindow, group_key_of

revision: str = "0007"
down_revision: str | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_BATCH = 5_000


def upgrade() -> None:
    op.create_table(
        "label_proposal",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("intent", sa.String(length=50), nullable=False),
        sa.Column(
            "entities", sa.JSON().with_variant(postgresql.JSONB(), "postgresql"), nullable=False
        ),
        sa.Column("pendamping_id", sa.Integer(), nullable=True),
        sa.Column("proposed_by", sa.String(length=100), nullable=False),
        sa.Column(
            "state",
            sa.Enum(
                "pending",
                "accepted",
                "rejected",
                name="proposal_state",
                native_enum=False,
                create_constraint=True,
                length=30,
            ),
            nullable=False,
        ),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("decided_by", sa.String(length=100), nullable=True),
        sa.Column("decided_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["pendamping_id"],
            ["pendamping.id"],
            name=op.f("fk_label_proposal_pendamping_id_pendamping"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_label_proposal")),
    )
    with op.batch_alter_table("label_proposal", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_label_proposal_pendamping_id"), ["pendamping_id"], unique=False
        )
        batch_op.create_index(batch_op.f("ix_label_proposal_state"), ["state"], unique=False)

    op.create_table(
        "inbox_overflow",
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("questions", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["user_id"],
            ["telegram_user.id"],
            name=op.f("fk_inbox_overflow_user_id_telegram_user"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("user_id", "day", name=op.f("pk_inbox_overflow")),
    )

    with op.batch_alter_table("unanswered_query", schema=None) as batch_op:
        batch_op.add_column(sa.Column("group_key", sa.String(length=MAX_KEY), nullable=True))
        batch_op.add_column(sa.Column("label_proposal_id", sa.Integer(), nullable=True))
        batch_op.create_foreign_key(
            batch_op.f("fk_unanswered_query_label_proposal_id_label_proposal"),
            "label_proposal",
            ["label_proposal_id"],
            ["id"],
            ondelete="SET NULL",
        )
    _backfill_group_keys()
    with op.batch_alter_table("unanswered_query", schema=None) as batch_op:
        batch_op.alter_column("group_key", existing_type=sa.String(length=MAX_KEY), nullable=False)
        batch_op.create_index(
            batch_op.f("ix_unanswered_query_group_key"), ["group_key"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_unanswered_query_label_proposal_id"),
            ["label_proposal_id"],
            unique=False,
        )
        batch_op.create_index(
            "ix_unanswered_query_waiting",
            ["group_key", "created_at"],
            unique=False,
            sqlite_where=sa.text("resolved_at IS NULL"),
            postgresql_where=sa.text("resolved_at IS NULL"),
        )
        # The daily cap counts one asker's questions of the day; this index also serves the FK.
        batch_op.drop_index("ix_unanswered_query_user_id")
        batch_op.create_index(
            "ix_unanswered_query_user_asked", ["user_id", "created_at"], unique=False
        )


def _backfill_group_keys() -> None:
    """Each stored question's key, in the order they were asked, a batch at a time."""
    connection = op.get_bind()
    table = sa.table(
        "unanswered_query",
        sa.column("id", sa.Integer()),
        sa.column("text", sa.Text()),
        sa.column("group_key", sa.String()),
    )
    window = KeyWindow()
    last_id = 0
    update = (
        sa.update(table)
        .where(table.c.id == sa.bindparam("row_id"))
        .values(group_key=sa.bindparam("key"))
    )
    while True:
        rows = connection.execute(
            sa.select(table.c.id, table.c.text)
            .where(table.c.id > last_id)
            .order_by(table.c.id)
            .limit(_BATCH)
        ).all()
        if not rows:
            return
        connection.execute(
            update,
            [{"row_id": row.id, "key": window.assign(group_key_of(row.text))} for row in rows],
        )
        last_id = rows[-1].id


def downgrade() -> None:
    with op.batch_alter_table("unanswered_query", schema=None) as batch_op:
        batch_op.drop_index("ix_unanswered_query_user_asked")
        batch_op.create_index("ix_unanswered_query_user_id", ["user_id"], unique=False)
        batch_op.drop_index(
            "ix_unanswered_query_waiting",
            sqlite_where=sa.text("resolved_at IS NULL"),
            postgresql_where=sa.text("resolved_at IS NULL"),
        )
        batch_op.drop_index(batch_op.f("ix_unanswered_query_label_proposal_id"))
        batch_op.drop_index(batch_op.f("ix_unanswered_query_group_key"))
        batch_op.drop_constraint(
            batch_op.f("fk_unanswered_query_label_proposal_id_label_proposal"),
            type_="foreignkey",
        )
        batch_op.drop_column("label_proposal_id")
        batch_op.drop_column("group_key")

    op.drop_table("inbox_overflow")

    with op.batch_alter_table("label_proposal", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_label_proposal_state"))
        batch_op.drop_index(batch_op.f("ix_label_proposal_pendamping_id"))

    op.drop_table("label_proposal")
