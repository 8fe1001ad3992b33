"""The precedent library: published, redacted decision records and their search tags.

Revision ID: 0009_precedents
Revises: 0008_public_page
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0009_precedents"
down_revision = "0008_public_page"
branch_labels = ("precedents",)
depends_on = None


def upgrade() -> None:
    op.create_table('precedents',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('org_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('project_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('decision_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('record', sa.JSON(), nullable=False),
    sa.Column('search_text', sa.Text(), nullable=False),
    sa.Column('decided_at', sa.DateTime(), nullable=False),
    sa.Column('published_at', sa.DateTime(), nullable=False),
    sa.Column('published_by_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('withdrawn_at', sa.DateTime(), nullable=True),
    sa.ForeignKeyConstraint(['org_id'], ['organizations.id'], name=op.f('fk_precedents_org_id_organizations'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['project_id'], ['projects.id'], name=op.f('fk_precedents_project_id_projects'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['published_by_id'], ['users.id'], name=op.f('fk_precedents_published_by_id_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_precedents')),
    sa.UniqueConstraint('decision_id', name=op.f('uq_precedents_decision_id'))
    )
    op.create_index(op.f('ix_precedents_decided_at'), 'precedents', ['decided_at'], unique=False)
    op.create_index(op.f('ix_precedents_org_id'), 'precedents', ['org_id'], unique=False)
    op.create_index(op.f('ix_precedents_project_id'), 'precedents', ['project_id'], unique=False)
    op.create_table('precedent_tags',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('precedent_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('kind', sa.String(length=20), nullable=False),
    sa.Column('value', sa.String(length=40), nullable=False),
    sa.ForeignKeyConstraint(['precedent_id'], ['precedents.id'], name=op.f('fk_precedent_tags_precedent_id_precedents'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_precedent_tags')),
    sa.UniqueConstraint('precedent_id', 'kind', 'value', name=op.f('uq_precedent_tags_precedent_id'))
    )
    op.create_index('ix_precedent_tags_kind_value', 'precedent_tags', ['kind', 'value'], unique=False)


def downgrade() -> None:
    op.drop_index('ix_precedent_tags_kind_value', table_name='precedent_tags')
    op.drop_table('precedent_tags')
    op.drop_index(op.f('ix_precedents_project_id'), table_name='precedents')
    op.drop_index(op.f('ix_precedents_org_id'), table_name='precedents')
    op.drop_index(op.f('ix_precedents_decided_at'), table_name='precedents')
    op.drop_table('precedents')
