"""Tables of misuse reports, their evidence, incidents and the actions taken (issue 9)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, ForeignKey, Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from releasewise.store.models import Base, BigId


class Incident(Base):
    """One case of misuse, grouping the reports about it (many reports ↔ one incident)."""

    __tablename__ = "incidents"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    org_id: Mapped[int] = mapped_column(ForeignKey("organizations.id", ondelete="CASCADE"), index=True)
    project_id: Mapped[int] = mapped_column(ForeignKey("projects.id", ondelete="CASCADE"), index=True)
    title: Mapped[str] = mapped_column(String(200))
    description: Mapped[str] = mapped_column(Text, default="")
    harm_category: Mapped[str] = mapped_column(String(20))
    severity: Mapped[int]
    status: Mapped[str] = mapped_column(String(20))
    created_by_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime]
    updated_at: Mapped[datetime]
    resolved_at: Mapped[datetime | None]


class MisuseReport(Base):
    """A report of suspected misuse. The reporter is a user, or anonymous with a follow-up link."""

    __tablename__ = "misuse_reports"
    __table_args__ = (Index("ix_misuse_reports_ip_digest_created_at", "ip_digest", "created_at"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    org_id: Mapped[int] = mapped_column(ForeignKey("organizations.id", ondelete="CASCADE"), index=True)
    project_id: Mapped[int] = mapped_column(ForeignKey("projects.id", ondelete="CASCADE"), index=True)
    incident_id: Mapped[int | None] = mapped_column(ForeignKey("incidents.id", ondelete="SET NULL"), index=True)
    duplicate_of_id: Mapped[int | None] = mapped_column(ForeignKey("misuse_reports.id", ondelete="SET NULL"))
    status: Mapped[str] = mapped_column(String(20))
    severity: Mapped[int | None]
    harm_category: Mapped[str] = mapped_column(String(20))
    description: Mapped[str] = mapped_column(Text)
    urls: Mapped[list[str]] = mapped_column(JSON)
    observed_at: Mapped[datetime | None]
    reporter_user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    reporter_contact: Mapped[str] = mapped_column(String(254), default="")
    followup_digest: Mapped[str | None] = mapped_column(String(64), unique=True)
    followup_expires_at: Mapped[datetime | None]
    ip_digest: Mapped[str] = mapped_column(String(64))
    pow_digest: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime]
    updated_at: Mapped[datetime]


class ReportEvidence(Base):
    """One evidence file; the bytes live under the data folder (``evidence/``), never served publicly."""

    __tablename__ = "report_evidence"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    report_id: Mapped[int] = mapped_column(ForeignKey("misuse_reports.id", ondelete="CASCADE"), index=True)
    filename: Mapped[str] = mapped_column(String(200))
    content_type: Mapped[str] = mapped_column(String(100))
    size: Mapped[int]
    sha256: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime]


class IncidentAction(Base):
    """Something responders did about an incident (revoked a grant, narrowed a tier, paused the plan, a note)."""

    __tablename__ = "incident_actions"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    incident_id: Mapped[int] = mapped_column(ForeignKey("incidents.id", ondelete="CASCADE"), index=True)
    kind: Mapped[str] = mapped_column(String(30))
    target: Mapped[str] = mapped_column(String(200), default="")
    note: Mapped[str] = mapped_column(Text, default="")
    actor_label: Mapped[str] = mapped_column(String(100))
    created_at: Mapped[datetime]


class ReportMessage(Base):
    """One message in the private thread between the organisation's responders and a report's reporter.

    Reporters write through their follow-up link, so their messages name no one; a responder's
    message keeps who wrote it for the organisation, and the reporter is only ever shown the
    organisation's name. Evidence a reporter adds with a reply is a ``ReportEvidence`` row of the
    report, listed here by id.
    """

    __tablename__ = "report_messages"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    report_id: Mapped[int] = mapped_column(ForeignKey("misuse_reports.id", ondelete="CASCADE"), index=True)
    sender: Mapped[str] = mapped_column(String(20))  # "responder" or "reporter"
    author_user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    author_label: Mapped[str] = mapped_column(String(100))
    body: Mapped[str] = mapped_column(Text)
    evidence_ids: Mapped[list[int]] = mapped_column(JSON)
    emailed: Mapped[int] = mapped_column(default=0)  # emails sent: to the reporter, or telling responders
    created_at: Mapped[datetime]
