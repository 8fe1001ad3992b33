"""Tables of server-side provenance: watermark keys, content-credential certificates, stored manifests, and
the detection service's settings and check log (issue 8)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, BigInteger, ForeignKey, Index, LargeBinary, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from releasewise.store.models import Base, BigId


class WatermarkKeyRow(Base):
    """A watermark key of one model (an asset of a project). The secret is stored encrypted under the server
    key; retired keys stay so that media they marked is still traced."""

    __tablename__ = "watermark_keys"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    org_id: Mapped[int] = mapped_column(ForeignKey("organizations.id", ondelete="CASCADE"), index=True)
    project_id: Mapped[int] = mapped_column(ForeignKey("projects.id", ondelete="CASCADE"))
    asset_id: Mapped[int] = mapped_column(ForeignKey("assets.id", ondelete="CASCADE"), index=True)
    key_ref: Mapped[str] = mapped_column(String(24), unique=True)
    secret_encrypted: Mapped[str] = mapped_column(Text)
    generation: Mapped[int]
    created_at: Mapped[datetime]
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    retired_at: Mapped[datetime | None]


class MarkedRelease(Base):
    """A named release of a model whose outputs carry marks; its id is the watermark payload's release id
    (24 bits), unique on the instance."""

    __tablename__ = "marked_releases"
    __table_args__ = (UniqueConstraint("asset_id", "label"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    org_id: Mapped[int] = mapped_column(ForeignKey("organizations.id", ondelete="CASCADE"))
    asset_id: Mapped[int] = mapped_column(ForeignKey("assets.id", ondelete="CASCADE"))
    label: Mapped[str] = mapped_column(String(100))
    created_at: Mapped[datetime]


class CredentialAuthority(Base):
    """The instance's local certificate authority (one row): the trust anchor for the organisation
    certificates it issues. Labs with a commercial C2PA certificate import theirs instead."""

    __tablename__ = "credential_authorities"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    cert_pem: Mapped[str] = mapped_column(Text)
    key_encrypted: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime]


class OrgCredential(Base):
    """An organisation's C2PA signing certificate chain; the private key is encrypted under the server key."""

    __tablename__ = "org_credentials"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    org_id: Mapped[int] = mapped_column(ForeignKey("organizations.id", ondelete="CASCADE"), index=True)
    chain_pem: Mapped[str] = mapped_column(Text)
    key_encrypted: Mapped[str] = mapped_column(Text)
    subject: Mapped[str] = mapped_column(String(300))
    not_after: Mapped[datetime]
    created_at: Mapped[datetime]
    retired_at: Mapped[datetime | None]


class StoredCredential(Base):
    """The manifest of a file we marked and signed, kept so a stripped copy can be traced back through its
    watermark (the C2PA soft binding)."""

    __tablename__ = "content_credentials"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    org_id: Mapped[int] = mapped_column(ForeignKey("organizations.id", ondelete="CASCADE"), index=True)
    asset_id: Mapped[int] = mapped_column(ForeignKey("assets.id", ondelete="CASCADE"))
    release_id: Mapped[int] = mapped_column(ForeignKey("marked_releases.id", ondelete="CASCADE"))
    grant_id: Mapped[int]
    soft_binding: Mapped[str | None] = mapped_column(String(80), index=True)
    media_type: Mapped[str] = mapped_column(String(40))
    content_sha256: Mapped[str] = mapped_column(String(64))
    manifest_store: Mapped[bytes] = mapped_column(LargeBinary)
    summary: Mapped[dict[str, Any]] = mapped_column(JSON)
    created_at: Mapped[datetime]
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))


class ProjectDetection(Base):
    """Who may trace this project's marks: ``public`` (any signed-in user), ``partners``, or ``off``."""

    __tablename__ = "project_detection"

    project_id: Mapped[int] = mapped_column(ForeignKey("projects.id", ondelete="CASCADE"), primary_key=True)
    mode: Mapped[str] = mapped_column(String(16))
    updated_at: Mapped[datetime]


class OrgDetection(Base):
    """How long files that matched this organisation's marks are kept (0: never stored)."""

    __tablename__ = "org_detection"

    org_id: Mapped[int] = mapped_column(ForeignKey("organizations.id", ondelete="CASCADE"), primary_key=True)
    retention_days: Mapped[int]


class DetectionPartner(Base):
    """An account outside the organisation (a platform's trust-and-safety staff, a detection researcher)
    that may trace the organisation's partners-only marks."""

    __tablename__ = "detection_partners"
    __table_args__ = (UniqueConstraint("org_id", "user_id"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    org_id: Mapped[int] = mapped_column(ForeignKey("organizations.id", ondelete="CASCADE"))
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    note: Mapped[str] = mapped_column(String(200))
    added_at: Mapped[datetime]
    added_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))


class DetectionCheck(Base):
    """One check by the detection service. The file itself is kept only when it matched an organisation whose
    retention setting asks for it, and only until ``retain_until``."""

    __tablename__ = "detection_checks"
    __table_args__ = (Index("ix_detection_checks_caller", "caller", "created_at"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    created_at: Mapped[datetime]
    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    caller: Mapped[str] = mapped_column(String(40))  # the rate-limit bucket: "token:<id>" or "user:<id>"
    sha256: Mapped[str] = mapped_column(String(64))
    size: Mapped[int]
    media_type: Mapped[str] = mapped_column(String(40))
    verdict: Mapped[dict[str, Any]] = mapped_column(JSON)
    matched_org_id: Mapped[int | None] = mapped_column(ForeignKey("organizations.id", ondelete="SET NULL"),
                                                       index=True)
    retained_key: Mapped[str | None] = mapped_column(String(80))
    retain_until: Mapped[datetime | None]


class EvidenceCheck(Base):
    """The detection result for one misuse-report evidence file, checked in the background against the
    reported organisation's own keys (so responders see which release and grant a file traces to)."""

    __tablename__ = "evidence_checks"

    evidence_id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=False)
    report_id: Mapped[int] = mapped_column(BigInteger, index=True)
    org_id: Mapped[int] = mapped_column(ForeignKey("organizations.id", ondelete="CASCADE"))
    checked_at: Mapped[datetime]
    detected: Mapped[bool]
    credential_status: Mapped[str] = mapped_column(String(16))
    grant_id: Mapped[int | None] = mapped_column(BigInteger)
    summary: Mapped[str] = mapped_column(Text)
    verdict: Mapped[dict[str, Any]] = mapped_column(JSON)
