"""A plan stage can set the project's detection mode when it opens (detector-first plans).

Revision ID: 0012_stage_detection
Revises: 0004_plans
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0012_stage_detection"
down_revision = "0004_plans"
branch_labels = ("stage_detection",)
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("plan_stages", schema=None) as batch_op:
        batch_op.add_column(sa.Column("detection", sa.String(length=16), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("plan_stages", schema=None) as batch_op:
        batch_op.drop_column("detection")
