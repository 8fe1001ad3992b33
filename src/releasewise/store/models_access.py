"""Tables of the gated artifact registry: versions and files, access policies, agreements,
requests, grants and the download log (docs/access.md).

File bytes live in the content-addressed blob store (``releasewise.blobs``); these
tables hold only names, sizes and SHA-256 digests.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, BigInteger, ForeignKey, Index, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from releasewise.store.models import Base, BigId


class AssetVersion(Base):
    """A set of files of one asset. Invisible to downloads until ``status`` is ``complete``."""

    __tablename__ = "asset_versions"
    __table_args__ = (UniqueConstraint("asset_id", "number"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    asset_id: Mapped[int] = mapped_column(ForeignKey("assets.id", ondelete="CASCADE"), index=True)
    number: Mapped[int]
    upload_key: Mapped[str] = mapped_column(String(40), unique=True)
    status: Mapped[str] = mapped_column(String(20))  # uploading | complete | aborted
    commit_sha: Mapped[str | None] = mapped_column(String(40), unique=True)
    created_by_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime]
    completed_at: Mapped[datetime | None]
    total_bytes: Mapped[int] = mapped_column(BigInteger, default=0)
    file_count: Mapped[int] = mapped_column(default=0)
    note: Mapped[str] = mapped_column(String(200), default="")


class VersionFile(Base):
    """One file of a version; ``received_bytes`` tracks a resumable upload."""

    __tablename__ = "version_files"
    __table_args__ = (UniqueConstraint("version_id", "path"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    version_id: Mapped[int] = mapped_column(ForeignKey("asset_versions.id", ondelete="CASCADE"))
    path: Mapped[str] = mapped_column(String(500))
    size: Mapped[int] = mapped_column(BigInteger)
    declared_sha256: Mapped[str] = mapped_column(String(64), default="")
    sha256: Mapped[str] = mapped_column(String(64), default="")
    received_bytes: Mapped[int] = mapped_column(BigInteger, default=0)
    completed: Mapped[bool] = mapped_column(default=False)


class AccessOrgSettings(Base):
    """Organisation-wide defaults for grants."""

    __tablename__ = "access_org_settings"

    org_id: Mapped[int] = mapped_column(ForeignKey("organizations.id", ondelete="CASCADE"), primary_key=True)
    default_grant_days: Mapped[int]


class AccessPolicy(Base):
    """How requests for a project's assets are decided, and the request form's custom fields."""

    __tablename__ = "access_policies"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    project_id: Mapped[int] = mapped_column(ForeignKey("projects.id", ondelete="CASCADE"), unique=True)
    approval_mode: Mapped[str] = mapped_column(String(20))  # manual | automatic | rules
    email_domains: Mapped[list[str]] = mapped_column(JSON)
    trusted_orgs: Mapped[list[str]] = mapped_column(JSON)
    form_fields: Mapped[list[dict[str, Any]]] = mapped_column(JSON)
    grant_days: Mapped[int | None]
    updated_at: Mapped[datetime]


class AccessAgreement(Base):
    """One version of a project's access agreement (Markdown plus required checkboxes)."""

    __tablename__ = "access_agreements"
    __table_args__ = (UniqueConstraint("project_id", "version"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    project_id: Mapped[int] = mapped_column(ForeignKey("projects.id", ondelete="CASCADE"))
    version: Mapped[int]
    title: Mapped[str] = mapped_column(String(200))
    body_md: Mapped[str] = mapped_column(Text)
    checkboxes: Mapped[list[str]] = mapped_column(JSON)
    created_by_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime]


class AgreementAcceptance(Base):
    """A user accepted one version of a project's agreement (with every required checkbox ticked)."""

    __tablename__ = "agreement_acceptances"
    __table_args__ = (Index("ix_agreement_acceptances_user_project", "user_id", "project_id"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    project_id: Mapped[int] = mapped_column(ForeignKey("projects.id", ondelete="CASCADE"))
    version: Mapped[int]
    checkboxes: Mapped[list[str]] = mapped_column(JSON)
    accepted_at: Mapped[datetime]


class AccessRequest(Base):
    """Someone asked for access to an asset (for themselves or for their organisation)."""

    __tablename__ = "access_requests"
    __table_args__ = (Index("ix_access_requests_org_status", "org_id", "status"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    org_id: Mapped[int] = mapped_column(ForeignKey("organizations.id", ondelete="CASCADE"))
    asset_id: Mapped[int] = mapped_column(ForeignKey("assets.id", ondelete="CASCADE"), index=True)
    requester_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    for_org_id: Mapped[int | None] = mapped_column(ForeignKey("organizations.id", ondelete="CASCADE"))
    kind: Mapped[str] = mapped_column(String(20))  # new | renewal | appeal
    previous_request_id: Mapped[int | None] = mapped_column(ForeignKey("access_requests.id"))
    status: Mapped[str] = mapped_column(String(20))  # pending | approved | rejected | withdrawn
    intended_use: Mapped[str] = mapped_column(Text)
    institution: Mapped[str] = mapped_column(String(200))
    answers: Mapped[dict[str, Any]] = mapped_column(JSON)
    agreement_version: Mapped[int | None]
    reason: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[datetime]
    decided_at: Mapped[datetime | None]
    decided_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    decided_automatically: Mapped[bool] = mapped_column(default=False)
    decision_reason: Mapped[str] = mapped_column(Text, default="")
    grant_id: Mapped[int | None]


class AccessGrant(Base):
    """Permission for one user, or every member of one organisation, to download one asset until expiry."""

    __tablename__ = "access_grants"
    __table_args__ = (Index("ix_access_grants_asset_user", "asset_id", "user_id"),
                      Index("ix_access_grants_asset_org", "asset_id", "grantee_org_id"))

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    org_id: Mapped[int] = mapped_column(ForeignKey("organizations.id", ondelete="CASCADE"))
    asset_id: Mapped[int] = mapped_column(ForeignKey("assets.id", ondelete="CASCADE"))
    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    grantee_org_id: Mapped[int | None] = mapped_column(ForeignKey("organizations.id", ondelete="CASCADE"))
    request_id: Mapped[int | None] = mapped_column(ForeignKey("access_requests.id"))
    granted_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    granted_at: Mapped[datetime]
    expires_at: Mapped[datetime]
    revoked_at: Mapped[datetime | None]
    revoked_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    revoke_reason: Mapped[str] = mapped_column(Text, default="")


class DownloadEvent(Base):
    """One download of one file (who, under which grant, which version, how many bytes, when)."""

    __tablename__ = "download_events"
    __table_args__ = (Index("ix_download_events_org_at", "org_id", "at"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    org_id: Mapped[int] = mapped_column(ForeignKey("organizations.id", ondelete="CASCADE"))
    asset_id: Mapped[int] = mapped_column(ForeignKey("assets.id", ondelete="CASCADE"))
    version_id: Mapped[int] = mapped_column(ForeignKey("asset_versions.id", ondelete="CASCADE"))
    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    username: Mapped[str] = mapped_column(String(32))
    grant_id: Mapped[int | None]
    basis: Mapped[str] = mapped_column(String(40))
    path: Mapped[str] = mapped_column(String(500))
    bytes: Mapped[int] = mapped_column(BigInteger)
    range_start: Mapped[int] = mapped_column(BigInteger, default=0)
    via: Mapped[str] = mapped_column(String(20))
    ip: Mapped[str] = mapped_column(String(64))
    at: Mapped[datetime]
