"""Assessments, reviewer pool, reviews and decisions.

Revision ID: 0002_assessment
Revises: 0001
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0002_assessment"
down_revision = "0001"
branch_labels = ("assessment",)
depends_on = None


def upgrade() -> None:
    op.create_table('org_policies',
    sa.Column('org_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('scoring', sa.JSON(), nullable=False),
    sa.Column('allow_author_review', sa.Boolean(), nullable=False),
    sa.Column('decision_valid_days', sa.Integer(), nullable=False),
    sa.Column('updated_at', sa.DateTime(), nullable=False),
    sa.Column('updated_by_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=True),
    sa.ForeignKeyConstraint(['org_id'], ['organizations.id'], name=op.f('fk_org_policies_org_id_organizations'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['updated_by_id'], ['users.id'], name=op.f('fk_org_policies_updated_by_id_users')),
    sa.PrimaryKeyConstraint('org_id', name=op.f('pk_org_policies'))
    )
    op.create_table('reviewer_pool',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('org_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('email', sa.String(length=254), nullable=False),
    sa.Column('user_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=True),
    sa.Column('expertise', sa.JSON(), nullable=False),
    sa.Column('note', sa.Text(), nullable=False),
    sa.Column('added_at', sa.DateTime(), nullable=False),
    sa.ForeignKeyConstraint(['org_id'], ['organizations.id'], name=op.f('fk_reviewer_pool_org_id_organizations'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_reviewer_pool_user_id_users'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_reviewer_pool')),
    sa.UniqueConstraint('org_id', 'email', name=op.f('uq_reviewer_pool_org_id'))
    )
    with op.batch_alter_table('reviewer_pool', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_reviewer_pool_org_id'), ['org_id'], unique=False)

    op.create_table('assessments',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('org_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('project_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('draft', sa.JSON(), nullable=False),
    sa.Column('draft_updated_at', sa.DateTime(), nullable=False),
    sa.Column('draft_updated_by_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('created_by_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.ForeignKeyConstraint(['created_by_id'], ['users.id'], name=op.f('fk_assessments_created_by_id_users')),
    sa.ForeignKeyConstraint(['draft_updated_by_id'], ['users.id'], name=op.f('fk_assessments_draft_updated_by_id_users')),
    sa.ForeignKeyConstraint(['org_id'], ['organizations.id'], name=op.f('fk_assessments_org_id_organizations'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['project_id'], ['projects.id'], name=op.f('fk_assessments_project_id_projects'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_assessments')),
    sa.UniqueConstraint('project_id', name=op.f('uq_assessments_project_id'))
    )
    with op.batch_alter_table('assessments', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_assessments_org_id'), ['org_id'], unique=False)

    op.create_table('assessment_versions',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('assessment_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('number', sa.Integer(), nullable=False),
    sa.Column('document', sa.JSON(), nullable=False),
    sa.Column('profile', sa.JSON(), nullable=False),
    sa.Column('scoring_version', sa.String(length=40), nullable=False),
    sa.Column('content_hash', sa.String(length=64), nullable=False),
    sa.Column('submitted_by_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('submitted_at', sa.DateTime(), nullable=False),
    sa.ForeignKeyConstraint(['assessment_id'], ['assessments.id'], name=op.f('fk_assessment_versions_assessment_id_assessments'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['submitted_by_id'], ['users.id'], name=op.f('fk_assessment_versions_submitted_by_id_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_assessment_versions')),
    sa.UniqueConstraint('assessment_id', 'number', name=op.f('uq_assessment_versions_assessment_id'))
    )
    with op.batch_alter_table('assessment_versions', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_assessment_versions_assessment_id'), ['assessment_id'], unique=False)

    op.create_table('review_requests',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('org_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('version_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('steps', sa.JSON(), nullable=False),
    sa.Column('requested_by_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('requested_at', sa.DateTime(), nullable=False),
    sa.Column('due_at', sa.DateTime(), nullable=False),
    sa.Column('closed_at', sa.DateTime(), nullable=True),
    sa.Column('note', sa.Text(), nullable=False),
    sa.ForeignKeyConstraint(['org_id'], ['organizations.id'], name=op.f('fk_review_requests_org_id_organizations'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['requested_by_id'], ['users.id'], name=op.f('fk_review_requests_requested_by_id_users')),
    sa.ForeignKeyConstraint(['version_id'], ['assessment_versions.id'], name=op.f('fk_review_requests_version_id_assessment_versions'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_review_requests'))
    )
    with op.batch_alter_table('review_requests', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_review_requests_org_id'), ['org_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_review_requests_version_id'), ['version_id'], unique=False)

    op.create_table('decisions',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('org_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('project_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('request_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('version_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('outcome', sa.String(length=20), nullable=False),
    sa.Column('steps', sa.JSON(), nullable=False),
    sa.Column('conditions', sa.JSON(), nullable=False),
    sa.Column('rationale', sa.Text(), nullable=False),
    sa.Column('tally', sa.JSON(), nullable=False),
    sa.Column('disagreement', sa.JSON(), nullable=False),
    sa.Column('decided_by_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('decided_at', sa.DateTime(), nullable=False),
    sa.Column('expires_at', sa.DateTime(), nullable=False),
    sa.ForeignKeyConstraint(['decided_by_id'], ['users.id'], name=op.f('fk_decisions_decided_by_id_users')),
    sa.ForeignKeyConstraint(['org_id'], ['organizations.id'], name=op.f('fk_decisions_org_id_organizations'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['project_id'], ['projects.id'], name=op.f('fk_decisions_project_id_projects'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['request_id'], ['review_requests.id'], name=op.f('fk_decisions_request_id_review_requests')),
    sa.ForeignKeyConstraint(['version_id'], ['assessment_versions.id'], name=op.f('fk_decisions_version_id_assessment_versions')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_decisions')),
    sa.UniqueConstraint('request_id', name=op.f('uq_decisions_request_id'))
    )
    with op.batch_alter_table('decisions', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_decisions_org_id'), ['org_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_decisions_project_id'), ['project_id'], unique=False)

    op.create_table('review_assignments',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('request_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('reviewer_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('assigned_at', sa.DateTime(), nullable=False),
    sa.Column('conflict', sa.String(length=10), nullable=True),
    sa.Column('conflict_note', sa.Text(), nullable=False),
    sa.Column('declared_at', sa.DateTime(), nullable=True),
    sa.Column('vote', sa.String(length=30), nullable=True),
    sa.Column('conditions', sa.JSON(), nullable=False),
    sa.Column('comments', sa.Text(), nullable=False),
    sa.Column('stances', sa.JSON(), nullable=False),
    sa.Column('voted_at', sa.DateTime(), nullable=True),
    sa.ForeignKeyConstraint(['request_id'], ['review_requests.id'], name=op.f('fk_review_assignments_request_id_review_requests'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['reviewer_id'], ['users.id'], name=op.f('fk_review_assignments_reviewer_id_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_review_assignments')),
    sa.UniqueConstraint('request_id', 'reviewer_id', name=op.f('uq_review_assignments_request_id'))
    )
    with op.batch_alter_table('review_assignments', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_review_assignments_request_id'), ['request_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_review_assignments_reviewer_id'), ['reviewer_id'], unique=False)



def downgrade() -> None:
    with op.batch_alter_table('review_assignments', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_review_assignments_reviewer_id'))
        batch_op.drop_index(batch_op.f('ix_review_assignments_request_id'))

    op.drop_table('review_assignments')
    with op.batch_alter_table('decisions', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_decisions_project_id'))
        batch_op.drop_index(batch_op.f('ix_decisions_org_id'))

    op.drop_table('decisions')
    with op.batch_alter_table('review_requests', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_review_requests_version_id'))
        batch_op.drop_index(batch_op.f('ix_review_requests_org_id'))

    op.drop_table('review_requests')
    with op.batch_alter_table('assessment_versions', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_assessment_versions_assessment_id'))

    op.drop_table('assessment_versions')
    with op.batch_alter_table('assessments', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_assessments_org_id'))

    op.drop_table('assessments')
    with op.batch_alter_table('reviewer_pool', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_reviewer_pool_org_id'))

    op.drop_table('reviewer_pool')
    op.drop_table('org_policies')
