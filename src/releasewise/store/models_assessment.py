"""Tables of assessments, reviews and decisions (issue: risk assessment and review)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, ForeignKey, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from releasewise.store.models import Base, BigId, Project, User


class OrgPolicy(Base):
    """An organisation's tunable scoring settings and review rules."""

    __tablename__ = "org_policies"

    org_id: Mapped[int] = mapped_column(ForeignKey("organizations.id", ondelete="CASCADE"), primary_key=True)
    scoring: Mapped[dict[str, Any]] = mapped_column(JSON)
    allow_author_review: Mapped[bool] = mapped_column(default=False)
    decision_valid_days: Mapped[int] = mapped_column(default=365)
    updated_at: Mapped[datetime]
    updated_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))


class AssessmentRow(Base):
    """One project's assessment: an autosaved draft and its submitted versions."""

    __tablename__ = "assessments"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    org_id: Mapped[int] = mapped_column(ForeignKey("organizations.id", ondelete="CASCADE"), index=True)
    project_id: Mapped[int] = mapped_column(ForeignKey("projects.id", ondelete="CASCADE"), unique=True)
    draft: Mapped[dict[str, Any]] = mapped_column(JSON)
    draft_updated_at: Mapped[datetime]
    draft_updated_by_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    created_by_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime]

    project: Mapped[Project] = relationship()


class AssessmentVersion(Base):
    """A submitted, frozen version with the risk profile computed at submission."""

    __tablename__ = "assessment_versions"
    __table_args__ = (UniqueConstraint("assessment_id", "number"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    assessment_id: Mapped[int] = mapped_column(ForeignKey("assessments.id", ondelete="CASCADE"), index=True)
    number: Mapped[int]
    document: Mapped[dict[str, Any]] = mapped_column(JSON)
    profile: Mapped[dict[str, Any]] = mapped_column(JSON)
    scoring_version: Mapped[str] = mapped_column(String(40))
    content_hash: Mapped[str] = mapped_column(String(64))
    submitted_by_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    submitted_at: Mapped[datetime]

    submitted_by: Mapped[User] = relationship()
    assessment: Mapped[AssessmentRow] = relationship()


class ReviewerPoolEntry(Base):
    """An expert an organisation can ask to review, with expertise tags.

    External experts are invited by email (as members with the ``reviewer``
    role); until they accept, the entry has their email and no user.
    """

    __tablename__ = "reviewer_pool"
    __table_args__ = (UniqueConstraint("org_id", "email"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    org_id: Mapped[int] = mapped_column(ForeignKey("organizations.id", ondelete="CASCADE"), index=True)
    email: Mapped[str] = mapped_column(String(254))
    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    expertise: Mapped[list[str]] = mapped_column(JSON)
    note: Mapped[str] = mapped_column(Text, default="")
    added_at: Mapped[datetime]

    user: Mapped[User | None] = relationship()


class ReviewRequest(Base):
    __tablename__ = "review_requests"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    org_id: Mapped[int] = mapped_column(ForeignKey("organizations.id", ondelete="CASCADE"), index=True)
    version_id: Mapped[int] = mapped_column(ForeignKey("assessment_versions.id", ondelete="CASCADE"), index=True)
    steps: Mapped[list[dict[str, str]]] = mapped_column(JSON)
    requested_by_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    requested_at: Mapped[datetime]
    due_at: Mapped[datetime]
    closed_at: Mapped[datetime | None]
    note: Mapped[str] = mapped_column(Text, default="")

    version: Mapped[AssessmentVersion] = relationship()
    requested_by: Mapped[User] = relationship()


class ReviewAssignment(Base):
    """One reviewer on one review: conflict declaration, then a vote."""

    __tablename__ = "review_assignments"
    __table_args__ = (UniqueConstraint("request_id", "reviewer_id"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    request_id: Mapped[int] = mapped_column(ForeignKey("review_requests.id", ondelete="CASCADE"), index=True)
    reviewer_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    assigned_at: Mapped[datetime]
    conflict: Mapped[str | None] = mapped_column(String(10))  # None = not yet declared; "none" | "declared"
    conflict_note: Mapped[str] = mapped_column(Text, default="")
    declared_at: Mapped[datetime | None]
    vote: Mapped[str | None] = mapped_column(String(30))
    conditions: Mapped[list[str]] = mapped_column(JSON, default=list)
    comments: Mapped[str] = mapped_column(Text, default="")
    stances: Mapped[dict[str, int]] = mapped_column(JSON, default=dict)
    voted_at: Mapped[datetime | None]
    # The reviewer agreed to be named (display name only) as a reviewer of this decision on public pages:
    # the release page and the precedent library. Off unless they say so; they can withdraw it any time.
    public_credit: Mapped[bool] = mapped_column(default=False)

    reviewer: Mapped[User] = relationship()
    request: Mapped[ReviewRequest] = relationship()


class DecisionRow(Base):
    """The record that closes a review: outcome, steps, conditions, rationale, disagreements."""

    __tablename__ = "decisions"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    org_id: Mapped[int] = mapped_column(ForeignKey("organizations.id", ondelete="CASCADE"), index=True)
    project_id: Mapped[int] = mapped_column(ForeignKey("projects.id", ondelete="CASCADE"), index=True)
    request_id: Mapped[int] = mapped_column(ForeignKey("review_requests.id"), unique=True)
    version_id: Mapped[int] = mapped_column(ForeignKey("assessment_versions.id"))
    outcome: Mapped[str] = mapped_column(String(20))
    steps: Mapped[list[dict[str, str]]] = mapped_column(JSON)
    conditions: Mapped[list[dict[str, Any]]] = mapped_column(JSON)
    rationale: Mapped[str] = mapped_column(Text)
    tally: Mapped[dict[str, int]] = mapped_column(JSON)
    disagreement: Mapped[list[dict[str, Any]]] = mapped_column(JSON)
    decided_by_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    decided_at: Mapped[datetime]
    expires_at: Mapped[datetime]

    decided_by: Mapped[User] = relationship()
    version: Mapped[AssessmentVersion] = relationship()
