"""Server-side provenance: watermark keys, content-credential certificates and manifests, detection service.

Revision ID: 0010_provenance
Revises: 0001
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0010_provenance"
down_revision = "0001"
branch_labels = ("provenance",)
depends_on = None


def upgrade() -> None:
    op.create_table('credential_authorities',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('cert_pem', sa.Text(), nullable=False),
    sa.Column('key_encrypted', sa.Text(), nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_credential_authorities'))
    )
    op.create_table('detection_checks',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.Column('user_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=True),
    sa.Column('caller', sa.String(length=40), nullable=False),
    sa.Column('sha256', sa.String(length=64), nullable=False),
    sa.Column('size', sa.Integer(), nullable=False),
    sa.Column('media_type', sa.String(length=40), nullable=False),
    sa.Column('verdict', sa.JSON(), nullable=False),
    sa.Column('matched_org_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=True),
    sa.Column('retained_key', sa.String(length=80), nullable=True),
    sa.Column('retain_until', sa.DateTime(), nullable=True),
    sa.ForeignKeyConstraint(['matched_org_id'], ['organizations.id'], name=op.f('fk_detection_checks_matched_org_id_organizations'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_detection_checks_user_id_users'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_detection_checks'))
    )
    op.create_index('ix_detection_checks_caller', 'detection_checks', ['caller', 'created_at'], unique=False)
    op.create_index(op.f('ix_detection_checks_matched_org_id'), 'detection_checks', ['matched_org_id'], unique=False)
    op.create_table('detection_partners',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('org_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('user_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('note', sa.String(length=200), nullable=False),
    sa.Column('added_at', sa.DateTime(), nullable=False),
    sa.Column('added_by_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=True),
    sa.ForeignKeyConstraint(['added_by_id'], ['users.id'], name=op.f('fk_detection_partners_added_by_id_users'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['org_id'], ['organizations.id'], name=op.f('fk_detection_partners_org_id_organizations'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_detection_partners_user_id_users'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_detection_partners')),
    sa.UniqueConstraint('org_id', 'user_id', name=op.f('uq_detection_partners_org_id'))
    )
    op.create_index(op.f('ix_detection_partners_user_id'), 'detection_partners', ['user_id'], unique=False)
    op.create_table('org_credentials',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('org_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('chain_pem', sa.Text(), nullable=False),
    sa.Column('key_encrypted', sa.Text(), nullable=False),
    sa.Column('subject', sa.String(length=300), nullable=False),
    sa.Column('not_after', sa.DateTime(), nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.Column('retired_at', sa.DateTime(), nullable=True),
    sa.ForeignKeyConstraint(['org_id'], ['organizations.id'], name=op.f('fk_org_credentials_org_id_organizations'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_org_credentials'))
    )
    op.create_index(op.f('ix_org_credentials_org_id'), 'org_credentials', ['org_id'], unique=False)
    op.create_table('org_detection',
    sa.Column('org_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('retention_days', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['org_id'], ['organizations.id'], name=op.f('fk_org_detection_org_id_organizations'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('org_id', name=op.f('pk_org_detection'))
    )
    op.create_table('project_detection',
    sa.Column('project_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('mode', sa.String(length=16), nullable=False),
    sa.Column('updated_at', sa.DateTime(), nullable=False),
    sa.ForeignKeyConstraint(['project_id'], ['projects.id'], name=op.f('fk_project_detection_project_id_projects'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('project_id', name=op.f('pk_project_detection'))
    )
    op.create_table('marked_releases',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('org_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('asset_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('label', sa.String(length=100), nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.ForeignKeyConstraint(['asset_id'], ['assets.id'], name=op.f('fk_marked_releases_asset_id_assets'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['org_id'], ['organizations.id'], name=op.f('fk_marked_releases_org_id_organizations'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_marked_releases')),
    sa.UniqueConstraint('asset_id', 'label', name=op.f('uq_marked_releases_asset_id'))
    )
    op.create_table('watermark_keys',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('org_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('project_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('asset_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('key_ref', sa.String(length=24), nullable=False),
    sa.Column('secret_encrypted', sa.Text(), nullable=False),
    sa.Column('generation', sa.Integer(), nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.Column('created_by_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=True),
    sa.Column('retired_at', sa.DateTime(), nullable=True),
    sa.ForeignKeyConstraint(['asset_id'], ['assets.id'], name=op.f('fk_watermark_keys_asset_id_assets'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['created_by_id'], ['users.id'], name=op.f('fk_watermark_keys_created_by_id_users'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['org_id'], ['organizations.id'], name=op.f('fk_watermark_keys_org_id_organizations'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['project_id'], ['projects.id'], name=op.f('fk_watermark_keys_project_id_projects'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_watermark_keys')),
    sa.UniqueConstraint('key_ref', name=op.f('uq_watermark_keys_key_ref'))
    )
    op.create_index(op.f('ix_watermark_keys_asset_id'), 'watermark_keys', ['asset_id'], unique=False)
    op.create_index(op.f('ix_watermark_keys_org_id'), 'watermark_keys', ['org_id'], unique=False)
    op.create_table('content_credentials',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('org_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('asset_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('release_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('grant_id', sa.Integer(), nullable=False),
    sa.Column('soft_binding', sa.String(length=80), nullable=True),
    sa.Column('media_type', sa.String(length=40), nullable=False),
    sa.Column('content_sha256', sa.String(length=64), nullable=False),
    sa.Column('manifest_store', sa.LargeBinary(), nullable=False),
    sa.Column('summary', sa.JSON(), nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.Column('created_by_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=True),
    sa.ForeignKeyConstraint(['asset_id'], ['assets.id'], name=op.f('fk_content_credentials_asset_id_assets'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['created_by_id'], ['users.id'], name=op.f('fk_content_credentials_created_by_id_users'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['org_id'], ['organizations.id'], name=op.f('fk_content_credentials_org_id_organizations'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['release_id'], ['marked_releases.id'], name=op.f('fk_content_credentials_release_id_marked_releases'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_content_credentials'))
    )
    op.create_index(op.f('ix_content_credentials_org_id'), 'content_credentials', ['org_id'], unique=False)
    op.create_index(op.f('ix_content_credentials_soft_binding'), 'content_credentials', ['soft_binding'], unique=False)

    op.create_table('evidence_checks',
    sa.Column('evidence_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), autoincrement=False, nullable=False),
    sa.Column('report_id', sa.BigInteger(), nullable=False),
    sa.Column('org_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('checked_at', sa.DateTime(), nullable=False),
    sa.Column('detected', sa.Boolean(), nullable=False),
    sa.Column('credential_status', sa.String(length=16), nullable=False),
    sa.Column('grant_id', sa.BigInteger(), nullable=True),
    sa.Column('summary', sa.Text(), nullable=False),
    sa.Column('verdict', sa.JSON(), nullable=False),
    sa.ForeignKeyConstraint(['org_id'], ['organizations.id'], name=op.f('fk_evidence_checks_org_id_organizations'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('evidence_id', name=op.f('pk_evidence_checks'))
    )
    op.create_index(op.f('ix_evidence_checks_report_id'), 'evidence_checks', ['report_id'], unique=False)

def downgrade() -> None:
    op.drop_index(op.f('ix_evidence_checks_report_id'), table_name='evidence_checks')
    op.drop_table('evidence_checks')
    op.drop_index(op.f('ix_content_credentials_soft_binding'), table_name='content_credentials')
    op.drop_index(op.f('ix_content_credentials_org_id'), table_name='content_credentials')
    op.drop_table('content_credentials')
    op.drop_index(op.f('ix_watermark_keys_org_id'), table_name='watermark_keys')
    op.drop_index(op.f('ix_watermark_keys_asset_id'), table_name='watermark_keys')
    op.drop_table('watermark_keys')
    op.drop_table('marked_releases')
    op.drop_table('project_detection')
    op.drop_table('org_detection')
    op.drop_index(op.f('ix_org_credentials_org_id'), table_name='org_credentials')
    op.drop_table('org_credentials')
    op.drop_index(op.f('ix_detection_partners_user_id'), table_name='detection_partners')
    op.drop_table('detection_partners')
    op.drop_index(op.f('ix_detection_checks_matched_org_id'), table_name='detection_checks')
    op.drop_index('ix_detection_checks_caller', table_name='detection_checks')
    op.drop_table('detection_checks')
    op.drop_table('credential_authorities')
