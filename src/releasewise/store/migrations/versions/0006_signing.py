"""Organisation signing keys and signed manifests of asset versions.

Revision ID: 0006_signing
Revises: 0002_access
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0006_signing"
down_revision = "0002_access"
branch_labels = ("signing",)
depends_on = None


def upgrade() -> None:
    op.create_table('org_signing_keys',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('org_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('key_id', sa.String(length=16), nullable=False),
    sa.Column('public_key', sa.String(length=64), nullable=False),
    sa.Column('private_key_encrypted', sa.Text(), nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.Column('retired_at', sa.DateTime(), nullable=True),
    sa.ForeignKeyConstraint(['org_id'], ['organizations.id'], name=op.f('fk_org_signing_keys_org_id_organizations'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_org_signing_keys')),
    sa.UniqueConstraint('key_id', name=op.f('uq_org_signing_keys_key_id'))
    )
    with op.batch_alter_table('org_signing_keys', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_org_signing_keys_org_id'), ['org_id'], unique=False)

    op.create_table('version_signatures',
    sa.Column('version_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('manifest', sa.JSON(), nullable=False),
    sa.Column('key_id', sa.String(length=16), nullable=False),
    sa.Column('signature', sa.String(length=100), nullable=False),
    sa.Column('signed_at', sa.DateTime(), nullable=False),
    sa.ForeignKeyConstraint(['version_id'], ['asset_versions.id'], name=op.f('fk_version_signatures_version_id_asset_versions'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('version_id', name=op.f('pk_version_signatures'))
    )


def downgrade() -> None:
    op.drop_table('version_signatures')
    with op.batch_alter_table('org_signing_keys', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_org_signing_keys_org_id'))

    op.drop_table('org_signing_keys')
