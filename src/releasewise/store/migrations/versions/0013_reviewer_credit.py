"""Reviewers may agree to be named on public pages (release page, precedent library).

Revision ID: 0013_reviewer_credit
Revises: 0002_assessment
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0013_reviewer_credit"
down_revision = "0002_assessment"
branch_labels = ("reviewer_credit",)
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("review_assignments", schema=None) as batch_op:
        batch_op.add_column(sa.Column("public_credit", sa.Boolean(), nullable=False, server_default=sa.false()))


def downgrade() -> None:
    with op.batch_alter_table("review_assignments", schema=None) as batch_op:
        batch_op.drop_column("public_credit")
