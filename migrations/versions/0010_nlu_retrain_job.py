"""NLU retraining jobs: the dashboard's "Latih ulang model" with progress and comparison

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-04
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0010"
down_revision: str | None = "0009"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

STATES = (
    "queued",
    "training",
    "evaluating",
    "ready",
    "worse",
    "unchanged",
    "failed",
    "activated",
    "rolled_back",
)


def upgrade() -> None:
    op.create_table(
        "nlu_retrain_job",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column(
            "state",
            sa.Enum(
                *STATES, name="retrain_state", native_enum=False, create_constraint=True, length=30
            ),
            nullable=False,
        ),
        sa.Column("requested_by", sa.String(length=100), nullable=False),
        sa.Column("progress", sa.Integer(), nullable=False),
        sa.Column("log_tail", sa.Text(), nullable=False),
        sa.Column("model_file", sa.String(length=200), nullable=True),
        sa.Column("compared_with", sa.String(length=200), nullable=True),
        sa.Column(
            "comparison", sa.JSON().with_variant(postgresql.JSONB(), "postgresql"), nullable=True
        ),
        sa.Column("error", sa.String(length=500), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("finished_at", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_nlu_retrain_job")),
    )
    with op.batch_alter_table("nlu_retrain_job", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_nlu_retrain_job_state"), ["state"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("nlu_retrain_job", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_nlu_retrain_job_state"))
    op.drop_table("nlu_retrain_job")
