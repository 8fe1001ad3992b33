"""The private thread between an organisation's responders and a misuse report's reporter.

Revision ID: 0011_report_messages
Revises: 0005_incidents
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0011_report_messages"
down_revision = "0005_incidents"
branch_labels = ("report_messages",)
depends_on = None


def upgrade() -> None:
    op.create_table('report_messages',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('report_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('sender', sa.String(length=20), nullable=False),
    sa.Column('author_user_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=True),
    sa.Column('author_label', sa.String(length=100), nullable=False),
    sa.Column('body', sa.Text(), nullable=False),
    sa.Column('evidence_ids', sa.JSON(), nullable=False),
    sa.Column('emailed', sa.Integer(), nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.ForeignKeyConstraint(['author_user_id'], ['users.id'], name=op.f('fk_report_messages_author_user_id_users'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['report_id'], ['misuse_reports.id'], name=op.f('fk_report_messages_report_id_misuse_reports'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_report_messages'))
    )
    op.create_index(op.f('ix_report_messages_report_id'), 'report_messages', ['report_id'], unique=False)


def downgrade() -> None:
    op.drop_index(op.f('ix_report_messages_report_id'), table_name='report_messages')
    op.drop_table('report_messages')
