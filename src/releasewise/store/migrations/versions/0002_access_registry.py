"""Gated artifact registry: asset versions and files, access policies, agreements, requests, grants, downloads.

Revision ID: 0002_access
Revises: 0001
Create Date: 2026-11-27 20:37:42.744640
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = '0002_access'
down_revision = '0001'
branch_labels = ('access',)
depends_on = None


def upgrade() -> None:

    op.create_table('access_org_settings',
    sa.Column('org_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('default_grant_days', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['org_id'], ['organizations.id'], name=op.f('fk_access_org_settings_org_id_organizations'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('org_id', name=op.f('pk_access_org_settings'))
    )
    op.create_table('access_agreements',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('project_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.Column('title', sa.String(length=200), nullable=False),
    sa.Column('body_md', sa.Text(), nullable=False),
    sa.Column('checkboxes', sa.JSON(), nullable=False),
    sa.Column('created_by_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.ForeignKeyConstraint(['created_by_id'], ['users.id'], name=op.f('fk_access_agreements_created_by_id_users')),
    sa.ForeignKeyConstraint(['project_id'], ['projects.id'], name=op.f('fk_access_agreements_project_id_projects'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_access_agreements')),
    sa.UniqueConstraint('project_id', 'version', name=op.f('uq_access_agreements_project_id'))
    )
    op.create_table('access_policies',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('project_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('approval_mode', sa.String(length=20), nullable=False),
    sa.Column('email_domains', sa.JSON(), nullable=False),
    sa.Column('trusted_orgs', sa.JSON(), nullable=False),
    sa.Column('form_fields', sa.JSON(), nullable=False),
    sa.Column('grant_days', sa.Integer(), nullable=True),
    sa.Column('updated_at', sa.DateTime(), nullable=False),
    sa.ForeignKeyConstraint(['project_id'], ['projects.id'], name=op.f('fk_access_policies_project_id_projects'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_access_policies')),
    sa.UniqueConstraint('project_id', name=op.f('uq_access_policies_project_id'))
    )
    op.create_table('agreement_acceptances',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('user_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('project_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.Column('checkboxes', sa.JSON(), nullable=False),
    sa.Column('accepted_at', sa.DateTime(), nullable=False),
    sa.ForeignKeyConstraint(['project_id'], ['projects.id'], name=op.f('fk_agreement_acceptances_project_id_projects'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_agreement_acceptances_user_id_users'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_agreement_acceptances'))
    )
    with op.batch_alter_table('agreement_acceptances', schema=None) as batch_op:
        batch_op.create_index('ix_agreement_acceptances_user_project', ['user_id', 'project_id'], unique=False)

    op.create_table('access_requests',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('org_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('asset_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('requester_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('for_org_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=True),
    sa.Column('kind', sa.String(length=20), nullable=False),
    sa.Column('previous_request_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=True),
    sa.Column('status', sa.String(length=20), nullable=False),
    sa.Column('intended_use', sa.Text(), nullable=False),
    sa.Column('institution', sa.String(length=200), nullable=False),
    sa.Column('answers', sa.JSON(), nullable=False),
    sa.Column('agreement_version', sa.Integer(), nullable=True),
    sa.Column('reason', sa.Text(), nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.Column('decided_at', sa.DateTime(), nullable=True),
    sa.Column('decided_by_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=True),
    sa.Column('decided_automatically', sa.Boolean(), nullable=False),
    sa.Column('decision_reason', sa.Text(), nullable=False),
    sa.Column('grant_id', sa.Integer(), nullable=True),
    sa.ForeignKeyConstraint(['asset_id'], ['assets.id'], name=op.f('fk_access_requests_asset_id_assets'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['decided_by_id'], ['users.id'], name=op.f('fk_access_requests_decided_by_id_users')),
    sa.ForeignKeyConstraint(['for_org_id'], ['organizations.id'], name=op.f('fk_access_requests_for_org_id_organizations'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['org_id'], ['organizations.id'], name=op.f('fk_access_requests_org_id_organizations'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['previous_request_id'], ['access_requests.id'], name=op.f('fk_access_requests_previous_request_id_access_requests')),
    sa.ForeignKeyConstraint(['requester_id'], ['users.id'], name=op.f('fk_access_requests_requester_id_users'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_access_requests'))
    )
    with op.batch_alter_table('access_requests', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_access_requests_asset_id'), ['asset_id'], unique=False)
        batch_op.create_index('ix_access_requests_org_status', ['org_id', 'status'], unique=False)
        batch_op.create_index(batch_op.f('ix_access_requests_requester_id'), ['requester_id'], unique=False)

    op.create_table('asset_versions',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('asset_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('number', sa.Integer(), nullable=False),
    sa.Column('upload_key', sa.String(length=40), nullable=False),
    sa.Column('status', sa.String(length=20), nullable=False),
    sa.Column('commit_sha', sa.String(length=40), nullable=True),
    sa.Column('created_by_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.Column('completed_at', sa.DateTime(), nullable=True),
    sa.Column('total_bytes', sa.BigInteger(), nullable=False),
    sa.Column('file_count', sa.Integer(), nullable=False),
    sa.Column('note', sa.String(length=200), nullable=False),
    sa.ForeignKeyConstraint(['asset_id'], ['assets.id'], name=op.f('fk_asset_versions_asset_id_assets'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['created_by_id'], ['users.id'], name=op.f('fk_asset_versions_created_by_id_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_asset_versions')),
    sa.UniqueConstraint('asset_id', 'number', name=op.f('uq_asset_versions_asset_id')),
    sa.UniqueConstraint('commit_sha', name=op.f('uq_asset_versions_commit_sha')),
    sa.UniqueConstraint('upload_key', name=op.f('uq_asset_versions_upload_key'))
    )
    with op.batch_alter_table('asset_versions', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_asset_versions_asset_id'), ['asset_id'], unique=False)

    op.create_table('access_grants',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('org_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('asset_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('user_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=True),
    sa.Column('grantee_org_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=True),
    sa.Column('request_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=True),
    sa.Column('granted_by_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=True),
    sa.Column('granted_at', sa.DateTime(), nullable=False),
    sa.Column('expires_at', sa.DateTime(), nullable=False),
    sa.Column('revoked_at', sa.DateTime(), nullable=True),
    sa.Column('revoked_by_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=True),
    sa.Column('revoke_reason', sa.Text(), nullable=False),
    sa.ForeignKeyConstraint(['asset_id'], ['assets.id'], name=op.f('fk_access_grants_asset_id_assets'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['granted_by_id'], ['users.id'], name=op.f('fk_access_grants_granted_by_id_users')),
    sa.ForeignKeyConstraint(['grantee_org_id'], ['organizations.id'], name=op.f('fk_access_grants_grantee_org_id_organizations'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['org_id'], ['organizations.id'], name=op.f('fk_access_grants_org_id_organizations'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['request_id'], ['access_requests.id'], name=op.f('fk_access_grants_request_id_access_requests')),
    sa.ForeignKeyConstraint(['revoked_by_id'], ['users.id'], name=op.f('fk_access_grants_revoked_by_id_users')),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_access_grants_user_id_users'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_access_grants'))
    )
    with op.batch_alter_table('access_grants', schema=None) as batch_op:
        batch_op.create_index('ix_access_grants_asset_org', ['asset_id', 'grantee_org_id'], unique=False)
        batch_op.create_index('ix_access_grants_asset_user', ['asset_id', 'user_id'], unique=False)

    op.create_table('download_events',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('org_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('asset_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('version_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('user_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=True),
    sa.Column('username', sa.String(length=32), nullable=False),
    sa.Column('grant_id', sa.Integer(), nullable=True),
    sa.Column('basis', sa.String(length=40), nullable=False),
    sa.Column('path', sa.String(length=500), nullable=False),
    sa.Column('bytes', sa.BigInteger(), nullable=False),
    sa.Column('range_start', sa.BigInteger(), nullable=False),
    sa.Column('via', sa.String(length=20), nullable=False),
    sa.Column('ip', sa.String(length=64), nullable=False),
    sa.Column('at', sa.DateTime(), nullable=False),
    sa.ForeignKeyConstraint(['asset_id'], ['assets.id'], name=op.f('fk_download_events_asset_id_assets'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['org_id'], ['organizations.id'], name=op.f('fk_download_events_org_id_organizations'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_download_events_user_id_users'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['version_id'], ['asset_versions.id'], name=op.f('fk_download_events_version_id_asset_versions'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_download_events'))
    )
    with op.batch_alter_table('download_events', schema=None) as batch_op:
        batch_op.create_index('ix_download_events_org_at', ['org_id', 'at'], unique=False)

    op.create_table('version_files',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('version_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('path', sa.String(length=500), nullable=False),
    sa.Column('size', sa.BigInteger(), nullable=False),
    sa.Column('declared_sha256', sa.String(length=64), nullable=False),
    sa.Column('sha256', sa.String(length=64), nullable=False),
    sa.Column('received_bytes', sa.BigInteger(), nullable=False),
    sa.Column('completed', sa.Boolean(), nullable=False),
    sa.ForeignKeyConstraint(['version_id'], ['asset_versions.id'], name=op.f('fk_version_files_version_id_asset_versions'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_version_files')),
    sa.UniqueConstraint('version_id', 'path', name=op.f('uq_version_files_version_id'))
    )



def downgrade() -> None:

    op.drop_table('version_files')
    with op.batch_alter_table('download_events', schema=None) as batch_op:
        batch_op.drop_index('ix_download_events_org_at')

    op.drop_table('download_events')
    with op.batch_alter_table('access_grants', schema=None) as batch_op:
        batch_op.drop_index('ix_access_grants_asset_user')
        batch_op.drop_index('ix_access_grants_asset_org')

    op.drop_table('access_grants')
    with op.batch_alter_table('asset_versions', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_asset_versions_asset_id'))

    op.drop_table('asset_versions')
    with op.batch_alter_table('access_requests', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_access_requests_requester_id'))
        batch_op.drop_index('ix_access_requests_org_status')
        batch_op.drop_index(batch_op.f('ix_access_requests_asset_id'))

    op.drop_table('access_requests')
    with op.batch_alter_table('agreement_acceptances', schema=None) as batch_op:
        batch_op.drop_index('ix_agreement_acceptances_user_project')

    op.drop_table('agreement_acceptances')
    op.drop_table('access_policies')
    op.drop_table('access_agreements')
    op.drop_table('access_org_settings')

