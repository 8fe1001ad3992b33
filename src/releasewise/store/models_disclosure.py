"""Tables of coordinated disclosure: stakeholders, cases, parties, threads, webhooks."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, ForeignKey, Index, LargeBinary, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from releasewise.store.models import Base, BigId


class Stakeholder(Base):
    """A partner organisation in the registry. ``org_id`` NULL: shared across the instance."""

    __tablename__ = "disclosure_stakeholders"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    org_id: Mapped[int | None] = mapped_column(ForeignKey("organizations.id", ondelete="CASCADE"), index=True)
    owner_org_id: Mapped[int] = mapped_column(ForeignKey("organizations.id", ondelete="CASCADE"))
    name: Mapped[str] = mapped_column(String(100))
    type: Mapped[str] = mapped_column(String(30))
    interests: Mapped[list[str]] = mapped_column(JSON)
    note: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[datetime]

    contacts: Mapped[list[StakeholderContact]] = relationship(order_by="StakeholderContact.id",
                                                              cascade="all, delete-orphan")


class StakeholderContact(Base):
    __tablename__ = "disclosure_contacts"
    __table_args__ = (UniqueConstraint("stakeholder_id", "email", name="uq_disclosure_contacts_stakeholder_email"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    stakeholder_id: Mapped[int] = mapped_column(ForeignKey("disclosure_stakeholders.id", ondelete="CASCADE"))
    name: Mapped[str] = mapped_column(String(100))
    email: Mapped[str] = mapped_column(String(254))
    pgp_key: Mapped[str] = mapped_column(Text, default="")


class DisclosureCase(Base):
    __tablename__ = "disclosure_cases"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    org_id: Mapped[int] = mapped_column(ForeignKey("organizations.id", ondelete="CASCADE"), index=True)
    project_id: Mapped[int] = mapped_column(ForeignKey("projects.id", ondelete="CASCADE"), index=True)
    title: Mapped[str] = mapped_column(String(200))
    briefing_md: Mapped[str] = mapped_column(Text)
    embargo_ends_at: Mapped[datetime]
    stage_key: Mapped[str | None] = mapped_column(String(60))
    asset_ids: Mapped[list[int]] = mapped_column(JSON)
    status: Mapped[str] = mapped_column(String(20))  # open | published
    public_summary: Mapped[str] = mapped_column(Text, default="")
    created_by_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime]
    published_at: Mapped[datetime | None]


class CaseAttachment(Base):
    __tablename__ = "disclosure_attachments"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("disclosure_cases.id", ondelete="CASCADE"), index=True)
    filename: Mapped[str] = mapped_column(String(200))
    content_type: Mapped[str] = mapped_column(String(100))
    size: Mapped[int]
    sha256: Mapped[str] = mapped_column(String(64))
    data: Mapped[bytes] = mapped_column(LargeBinary)
    created_at: Mapped[datetime]


class Party(Base):
    """One stakeholder invited to one case, with its place in the RSVP state machine."""

    __tablename__ = "disclosure_parties"
    __table_args__ = (UniqueConstraint("case_id", "stakeholder_id", name="uq_disclosure_parties_case_stakeholder"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("disclosure_cases.id", ondelete="CASCADE"), index=True)
    stakeholder_id: Mapped[int] = mapped_column(ForeignKey("disclosure_stakeholders.id"))
    state: Mapped[str] = mapped_column(String(20))
    respond_by: Mapped[datetime]
    invited_at: Mapped[datetime]
    state_changed_at: Mapped[datetime]
    # Temporary access to the case's assets, converted into a grant that outlives publication until then.
    access_until: Mapped[datetime | None]

    stakeholder: Mapped[Stakeholder] = relationship()
    contacts: Mapped[list[PartyContact]] = relationship(order_by="PartyContact.id")


class PartyContact(Base):
    """A person acting for a party through a secret link; only the link's SHA-256 is stored."""

    __tablename__ = "disclosure_party_contacts"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    party_id: Mapped[int] = mapped_column(ForeignKey("disclosure_parties.id", ondelete="CASCADE"), index=True)
    name: Mapped[str] = mapped_column(String(100))
    email: Mapped[str] = mapped_column(String(254))
    token_digest: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime]


class CaseMessage(Base):
    """A message in one party's private thread; ``shared_at`` set when the lab shares it with all parties."""

    __tablename__ = "disclosure_messages"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("disclosure_cases.id", ondelete="CASCADE"), index=True)
    party_id: Mapped[int | None] = mapped_column(ForeignKey("disclosure_parties.id", ondelete="CASCADE"))
    author_kind: Mapped[str] = mapped_column(String(10))  # lab | party
    author_label: Mapped[str] = mapped_column(String(200))
    body: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime]
    shared_at: Mapped[datetime | None]


class TimeRequest(Base):
    __tablename__ = "disclosure_time_requests"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("disclosure_cases.id", ondelete="CASCADE"), index=True)
    party_id: Mapped[int] = mapped_column(ForeignKey("disclosure_parties.id", ondelete="CASCADE"))
    reason: Mapped[str] = mapped_column(Text)
    requested_until: Mapped[datetime]
    status: Mapped[str] = mapped_column(String(20))  # pending | extended | kept
    created_at: Mapped[datetime]
    decided_at: Mapped[datetime | None]
    decision_note: Mapped[str] = mapped_column(Text, default="")


class WebhookEndpoint(Base):
    """Where an organisation (the lab itself, or a partner in the registry) receives signed events.

    The signing secret is never stored: it is derived as HMAC(server key, salt), so a copy of the
    database alone cannot forge or read signatures; the salt changes when the secret is rotated.
    """

    __tablename__ = "webhook_endpoints"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    org_id: Mapped[int] = mapped_column(ForeignKey("organizations.id", ondelete="CASCADE"), index=True)
    stakeholder_id: Mapped[int | None] = mapped_column(ForeignKey("disclosure_stakeholders.id", ondelete="CASCADE"))
    url: Mapped[str] = mapped_column(String(500))
    secret_salt: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime]
    disabled_at: Mapped[datetime | None]


class WebhookDelivery(Base):
    __tablename__ = "webhook_deliveries"
    __table_args__ = (UniqueConstraint("endpoint_id", "idempotency_key", name="uq_webhook_deliveries_endpoint_key"),
                      Index("ix_webhook_deliveries_status_next", "status", "next_attempt_at"))

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    endpoint_id: Mapped[int] = mapped_column(ForeignKey("webhook_endpoints.id", ondelete="CASCADE"))
    idempotency_key: Mapped[str] = mapped_column(String(200))
    event_type: Mapped[str] = mapped_column(String(60))
    payload: Mapped[dict[str, Any]] = mapped_column(JSON)
    status: Mapped[str] = mapped_column(String(20))  # pending | delivered | failed
    attempts: Mapped[int] = mapped_column(default=0)
    next_attempt_at: Mapped[datetime]
    last_status_code: Mapped[int | None]
    last_error: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[datetime]
    delivered_at: Mapped[datetime | None]
