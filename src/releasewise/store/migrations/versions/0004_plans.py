"""Release plans and their stages.

Revision ID: 0004_plans
Revises: 0001
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0004_plans"
down_revision = "0001"
branch_labels = ("plans",)
depends_on = None


def upgrade() -> None:
    op.create_table('release_plans',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('org_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('project_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('status', sa.String(length=20), nullable=False),
    sa.Column('template', sa.String(length=40), nullable=False),
    sa.Column('created_by_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.Column('updated_at', sa.DateTime(), nullable=False),
    sa.ForeignKeyConstraint(['created_by_id'], ['users.id'], name=op.f('fk_release_plans_created_by_id_users')),
    sa.ForeignKeyConstraint(['org_id'], ['organizations.id'], name=op.f('fk_release_plans_org_id_organizations'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['project_id'], ['projects.id'], name=op.f('fk_release_plans_project_id_projects'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_release_plans')),
    sa.UniqueConstraint('project_id', name=op.f('uq_release_plans_project_id'))
    )
    with op.batch_alter_table('release_plans', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_release_plans_org_id'), ['org_id'], unique=False)

    op.create_table('plan_stages',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('plan_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('position', sa.Integer(), nullable=False),
    sa.Column('key', sa.String(length=40), nullable=False),
    sa.Column('title', sa.String(length=200), nullable=False),
    sa.Column('earliest_at', sa.DateTime(), nullable=False),
    sa.Column('steps', sa.JSON(), nullable=False),
    sa.Column('gates', sa.JSON(), nullable=False),
    sa.Column('opened_at', sa.DateTime(), nullable=True),
    sa.Column('opened_by', sa.String(length=100), nullable=False),
    sa.ForeignKeyConstraint(['plan_id'], ['release_plans.id'], name=op.f('fk_plan_stages_plan_id_release_plans'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_plan_stages')),
    sa.UniqueConstraint('plan_id', 'key', name=op.f('uq_plan_stages_plan_id'))
    )
    with op.batch_alter_table('plan_stages', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_plan_stages_plan_id'), ['plan_id'], unique=False)



def downgrade() -> None:
    with op.batch_alter_table('plan_stages', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_plan_stages_plan_id'))

    op.drop_table('plan_stages')
    with op.batch_alter_table('release_plans', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_release_plans_org_id'))

    op.drop_table('release_plans')
