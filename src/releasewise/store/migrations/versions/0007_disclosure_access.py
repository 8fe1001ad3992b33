"""Disclosure parties can keep access to a case's assets after publication, until a date.

Revision ID: 0007_disclosure_access
Revises: 0003_disclosure
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0007_disclosure_access"
down_revision = "0003_disclosure"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("disclosure_parties", schema=None) as batch_op:
        batch_op.add_column(sa.Column("access_until", sa.DateTime(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("disclosure_parties", schema=None) as batch_op:
        batch_op.drop_column("access_until")
