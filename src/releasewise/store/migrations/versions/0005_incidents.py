"""Misuse reports, evidence, incidents and incident actions.

Revision ID: 0005_incidents
Revises: 0001
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0005_incidents"
down_revision = "0001"
branch_labels = ("incidents",)
depends_on = None


def upgrade() -> None:
    op.create_table('incidents',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('org_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('project_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('title', sa.String(length=200), nullable=False),
    sa.Column('description', sa.Text(), nullable=False),
    sa.Column('harm_category', sa.String(length=20), nullable=False),
    sa.Column('severity', sa.Integer(), nullable=False),
    sa.Column('status', sa.String(length=20), nullable=False),
    sa.Column('created_by_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.Column('updated_at', sa.DateTime(), nullable=False),
    sa.Column('resolved_at', sa.DateTime(), nullable=True),
    sa.ForeignKeyConstraint(['created_by_id'], ['users.id'], name=op.f('fk_incidents_created_by_id_users')),
    sa.ForeignKeyConstraint(['org_id'], ['organizations.id'], name=op.f('fk_incidents_org_id_organizations'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['project_id'], ['projects.id'], name=op.f('fk_incidents_project_id_projects'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_incidents'))
    )
    op.create_index(op.f('ix_incidents_org_id'), 'incidents', ['org_id'], unique=False)
    op.create_index(op.f('ix_incidents_project_id'), 'incidents', ['project_id'], unique=False)
    op.create_table('incident_actions',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('incident_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('kind', sa.String(length=30), nullable=False),
    sa.Column('target', sa.String(length=200), nullable=False),
    sa.Column('note', sa.Text(), nullable=False),
    sa.Column('actor_label', sa.String(length=100), nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.ForeignKeyConstraint(['incident_id'], ['incidents.id'], name=op.f('fk_incident_actions_incident_id_incidents'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_incident_actions'))
    )
    op.create_index(op.f('ix_incident_actions_incident_id'), 'incident_actions', ['incident_id'], unique=False)
    op.create_table('misuse_reports',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('org_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('project_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('incident_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=True),
    sa.Column('duplicate_of_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=True),
    sa.Column('status', sa.String(length=20), nullable=False),
    sa.Column('severity', sa.Integer(), nullable=True),
    sa.Column('harm_category', sa.String(length=20), nullable=False),
    sa.Column('description', sa.Text(), nullable=False),
    sa.Column('urls', sa.JSON(), nullable=False),
    sa.Column('observed_at', sa.DateTime(), nullable=True),
    sa.Column('reporter_user_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=True),
    sa.Column('reporter_contact', sa.String(length=254), nullable=False),
    sa.Column('followup_digest', sa.String(length=64), nullable=True),
    sa.Column('followup_expires_at', sa.DateTime(), nullable=True),
    sa.Column('ip_digest', sa.String(length=64), nullable=False),
    sa.Column('pow_digest', sa.String(length=64), nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.Column('updated_at', sa.DateTime(), nullable=False),
    sa.ForeignKeyConstraint(['duplicate_of_id'], ['misuse_reports.id'], name=op.f('fk_misuse_reports_duplicate_of_id_misuse_reports'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['incident_id'], ['incidents.id'], name=op.f('fk_misuse_reports_incident_id_incidents'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['org_id'], ['organizations.id'], name=op.f('fk_misuse_reports_org_id_organizations'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['project_id'], ['projects.id'], name=op.f('fk_misuse_reports_project_id_projects'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['reporter_user_id'], ['users.id'], name=op.f('fk_misuse_reports_reporter_user_id_users'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_misuse_reports')),
    sa.UniqueConstraint('followup_digest', name=op.f('uq_misuse_reports_followup_digest')),
    sa.UniqueConstraint('pow_digest', name=op.f('uq_misuse_reports_pow_digest'))
    )
    op.create_index(op.f('ix_misuse_reports_incident_id'), 'misuse_reports', ['incident_id'], unique=False)
    op.create_index('ix_misuse_reports_ip_digest_created_at', 'misuse_reports', ['ip_digest', 'created_at'], unique=False)
    op.create_index(op.f('ix_misuse_reports_org_id'), 'misuse_reports', ['org_id'], unique=False)
    op.create_index(op.f('ix_misuse_reports_project_id'), 'misuse_reports', ['project_id'], unique=False)
    op.create_table('report_evidence',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('report_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('filename', sa.String(length=200), nullable=False),
    sa.Column('content_type', sa.String(length=100), nullable=False),
    sa.Column('size', sa.Integer(), nullable=False),
    sa.Column('sha256', sa.String(length=64), nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.ForeignKeyConstraint(['report_id'], ['misuse_reports.id'], name=op.f('fk_report_evidence_report_id_misuse_reports'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_report_evidence'))
    )
    op.create_index(op.f('ix_report_evidence_report_id'), 'report_evidence', ['report_id'], unique=False)


def downgrade() -> None:
    op.drop_index(op.f('ix_report_evidence_report_id'), table_name='report_evidence')
    op.drop_table('report_evidence')
    op.drop_index(op.f('ix_misuse_reports_project_id'), table_name='misuse_reports')
    op.drop_index(op.f('ix_misuse_reports_org_id'), table_name='misuse_reports')
    op.drop_index('ix_misuse_reports_ip_digest_created_at', table_name='misuse_reports')
    op.drop_index(op.f('ix_misuse_reports_incident_id'), table_name='misuse_reports')
    op.drop_table('misuse_reports')
    op.drop_index(op.f('ix_incident_actions_incident_id'), table_name='incident_actions')
    op.drop_table('incident_actions')
    op.drop_index(op.f('ix_incidents_project_id'), table_name='incidents')
    op.drop_index(op.f('ix_incidents_org_id'), table_name='incidents')
    op.drop_table('incidents')
