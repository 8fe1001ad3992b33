"""Coordinated disclosure: stakeholder registry, cases, parties, threads, webhooks.

Revision ID: 0003_disclosure
Revises: 0001
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0003_disclosure"
down_revision = "0001"
branch_labels = ("disclosure",)
depends_on = None


def upgrade() -> None:
    op.create_table('disclosure_stakeholders',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('org_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=True),
    sa.Column('owner_org_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('name', sa.String(length=100), nullable=False),
    sa.Column('type', sa.String(length=30), nullable=False),
    sa.Column('interests', sa.JSON(), nullable=False),
    sa.Column('note', sa.Text(), nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.ForeignKeyConstraint(['org_id'], ['organizations.id'], name=op.f('fk_disclosure_stakeholders_org_id_organizations'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['owner_org_id'], ['organizations.id'], name=op.f('fk_disclosure_stakeholders_owner_org_id_organizations'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_disclosure_stakeholders'))
    )
    op.create_index(op.f('ix_disclosure_stakeholders_org_id'), 'disclosure_stakeholders', ['org_id'], unique=False)
    op.create_table('disclosure_cases',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('org_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('project_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('title', sa.String(length=200), nullable=False),
    sa.Column('briefing_md', sa.Text(), nullable=False),
    sa.Column('embargo_ends_at', sa.DateTime(), nullable=False),
    sa.Column('stage_key', sa.String(length=60), nullable=True),
    sa.Column('asset_ids', sa.JSON(), nullable=False),
    sa.Column('status', sa.String(length=20), nullable=False),
    sa.Column('public_summary', sa.Text(), nullable=False),
    sa.Column('created_by_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.Column('published_at', sa.DateTime(), nullable=True),
    sa.ForeignKeyConstraint(['created_by_id'], ['users.id'], name=op.f('fk_disclosure_cases_created_by_id_users')),
    sa.ForeignKeyConstraint(['org_id'], ['organizations.id'], name=op.f('fk_disclosure_cases_org_id_organizations'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['project_id'], ['projects.id'], name=op.f('fk_disclosure_cases_project_id_projects'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_disclosure_cases'))
    )
    op.create_index(op.f('ix_disclosure_cases_org_id'), 'disclosure_cases', ['org_id'], unique=False)
    op.create_index(op.f('ix_disclosure_cases_project_id'), 'disclosure_cases', ['project_id'], unique=False)
    op.create_table('disclosure_contacts',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('stakeholder_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('name', sa.String(length=100), nullable=False),
    sa.Column('email', sa.String(length=254), nullable=False),
    sa.Column('pgp_key', sa.Text(), nullable=False),
    sa.ForeignKeyConstraint(['stakeholder_id'], ['disclosure_stakeholders.id'], name=op.f('fk_disclosure_contacts_stakeholder_id_disclosure_stakeholders'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_disclosure_contacts')),
    sa.UniqueConstraint('stakeholder_id', 'email', name='uq_disclosure_contacts_stakeholder_email')
    )
    op.create_table('webhook_endpoints',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('org_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('stakeholder_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=True),
    sa.Column('url', sa.String(length=500), nullable=False),
    sa.Column('secret_salt', sa.String(length=64), nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.Column('disabled_at', sa.DateTime(), nullable=True),
    sa.ForeignKeyConstraint(['org_id'], ['organizations.id'], name=op.f('fk_webhook_endpoints_org_id_organizations'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['stakeholder_id'], ['disclosure_stakeholders.id'], name=op.f('fk_webhook_endpoints_stakeholder_id_disclosure_stakeholders'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_webhook_endpoints'))
    )
    op.create_index(op.f('ix_webhook_endpoints_org_id'), 'webhook_endpoints', ['org_id'], unique=False)
    op.create_table('disclosure_attachments',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('case_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('filename', sa.String(length=200), nullable=False),
    sa.Column('content_type', sa.String(length=100), nullable=False),
    sa.Column('size', sa.Integer(), nullable=False),
    sa.Column('sha256', sa.String(length=64), nullable=False),
    sa.Column('data', sa.LargeBinary(), nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.ForeignKeyConstraint(['case_id'], ['disclosure_cases.id'], name=op.f('fk_disclosure_attachments_case_id_disclosure_cases'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_disclosure_attachments'))
    )
    op.create_index(op.f('ix_disclosure_attachments_case_id'), 'disclosure_attachments', ['case_id'], unique=False)
    op.create_table('disclosure_parties',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('case_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('stakeholder_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('state', sa.String(length=20), nullable=False),
    sa.Column('respond_by', sa.DateTime(), nullable=False),
    sa.Column('invited_at', sa.DateTime(), nullable=False),
    sa.Column('state_changed_at', sa.DateTime(), nullable=False),
    sa.ForeignKeyConstraint(['case_id'], ['disclosure_cases.id'], name=op.f('fk_disclosure_parties_case_id_disclosure_cases'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['stakeholder_id'], ['disclosure_stakeholders.id'], name=op.f('fk_disclosure_parties_stakeholder_id_disclosure_stakeholders')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_disclosure_parties')),
    sa.UniqueConstraint('case_id', 'stakeholder_id', name='uq_disclosure_parties_case_stakeholder')
    )
    op.create_index(op.f('ix_disclosure_parties_case_id'), 'disclosure_parties', ['case_id'], unique=False)
    op.create_table('webhook_deliveries',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('endpoint_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('idempotency_key', sa.String(length=200), nullable=False),
    sa.Column('event_type', sa.String(length=60), nullable=False),
    sa.Column('payload', sa.JSON(), nullable=False),
    sa.Column('status', sa.String(length=20), nullable=False),
    sa.Column('attempts', sa.Integer(), nullable=False),
    sa.Column('next_attempt_at', sa.DateTime(), nullable=False),
    sa.Column('last_status_code', sa.Integer(), nullable=True),
    sa.Column('last_error', sa.Text(), nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.Column('delivered_at', sa.DateTime(), nullable=True),
    sa.ForeignKeyConstraint(['endpoint_id'], ['webhook_endpoints.id'], name=op.f('fk_webhook_deliveries_endpoint_id_webhook_endpoints'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_webhook_deliveries')),
    sa.UniqueConstraint('endpoint_id', 'idempotency_key', name='uq_webhook_deliveries_endpoint_key')
    )
    op.create_index('ix_webhook_deliveries_status_next', 'webhook_deliveries', ['status', 'next_attempt_at'], unique=False)
    op.create_table('disclosure_messages',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('case_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('party_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=True),
    sa.Column('author_kind', sa.String(length=10), nullable=False),
    sa.Column('author_label', sa.String(length=200), nullable=False),
    sa.Column('body', sa.Text(), nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.Column('shared_at', sa.DateTime(), nullable=True),
    sa.ForeignKeyConstraint(['case_id'], ['disclosure_cases.id'], name=op.f('fk_disclosure_messages_case_id_disclosure_cases'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['party_id'], ['disclosure_parties.id'], name=op.f('fk_disclosure_messages_party_id_disclosure_parties'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_disclosure_messages'))
    )
    op.create_index(op.f('ix_disclosure_messages_case_id'), 'disclosure_messages', ['case_id'], unique=False)
    op.create_table('disclosure_party_contacts',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('party_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('name', sa.String(length=100), nullable=False),
    sa.Column('email', sa.String(length=254), nullable=False),
    sa.Column('token_digest', sa.String(length=64), nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.ForeignKeyConstraint(['party_id'], ['disclosure_parties.id'], name=op.f('fk_disclosure_party_contacts_party_id_disclosure_parties'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_disclosure_party_contacts')),
    sa.UniqueConstraint('token_digest', name=op.f('uq_disclosure_party_contacts_token_digest'))
    )
    op.create_index(op.f('ix_disclosure_party_contacts_party_id'), 'disclosure_party_contacts', ['party_id'], unique=False)
    op.create_table('disclosure_time_requests',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('case_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('party_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('reason', sa.Text(), nullable=False),
    sa.Column('requested_until', sa.DateTime(), nullable=False),
    sa.Column('status', sa.String(length=20), nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.Column('decided_at', sa.DateTime(), nullable=True),
    sa.Column('decision_note', sa.Text(), nullable=False),
    sa.ForeignKeyConstraint(['case_id'], ['disclosure_cases.id'], name=op.f('fk_disclosure_time_requests_case_id_disclosure_cases'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['party_id'], ['disclosure_parties.id'], name=op.f('fk_disclosure_time_requests_party_id_disclosure_parties'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_disclosure_time_requests'))
    )
    op.create_index(op.f('ix_disclosure_time_requests_case_id'), 'disclosure_time_requests', ['case_id'], unique=False)


def downgrade() -> None:
    op.drop_index(op.f('ix_disclosure_time_requests_case_id'), table_name='disclosure_time_requests')
    op.drop_table('disclosure_time_requests')
    op.drop_index(op.f('ix_disclosure_party_contacts_party_id'), table_name='disclosure_party_contacts')
    op.drop_table('disclosure_party_contacts')
    op.drop_index(op.f('ix_disclosure_messages_case_id'), table_name='disclosure_messages')
    op.drop_table('disclosure_messages')
    op.drop_index('ix_webhook_deliveries_status_next', table_name='webhook_deliveries')
    op.drop_table('webhook_deliveries')
    op.drop_index(op.f('ix_disclosure_parties_case_id'), table_name='disclosure_parties')
    op.drop_table('disclosure_parties')
    op.drop_index(op.f('ix_disclosure_attachments_case_id'), table_name='disclosure_attachments')
    op.drop_table('disclosure_attachments')
    op.drop_index(op.f('ix_webhook_endpoints_org_id'), table_name='webhook_endpoints')
    op.drop_table('webhook_endpoints')
    op.drop_table('disclosure_contacts')
    op.drop_index(op.f('ix_disclosure_cases_project_id'), table_name='disclosure_cases')
    op.drop_index(op.f('ix_disclosure_cases_org_id'), table_name='disclosure_cases')
    op.drop_table('disclosure_cases')
    op.drop_index(op.f('ix_disclosure_stakeholders_org_id'), table_name='disclosure_stakeholders')
    op.drop_table('disclosure_stakeholders')
