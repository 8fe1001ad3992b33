"""Tables of release plans and their stages (issue: release plans and the ratchet)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, ForeignKey, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from releasewise.store.models import Base, BigId, Project


class ReleasePlan(Base):
    __tablename__ = "release_plans"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    org_id: Mapped[int] = mapped_column(ForeignKey("organizations.id", ondelete="CASCADE"), index=True)
    project_id: Mapped[int] = mapped_column(ForeignKey("projects.id", ondelete="CASCADE"), unique=True)
    status: Mapped[str] = mapped_column(String(20))
    template: Mapped[str] = mapped_column(String(40), default="")
    created_by_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime]
    updated_at: Mapped[datetime]

    project: Mapped[Project] = relationship()


class PlanStage(Base):
    """One stage. Its state is derived from ``earliest_at``, gates and ``opened_at`` when read."""

    __tablename__ = "plan_stages"
    __table_args__ = (UniqueConstraint("plan_id", "key"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    plan_id: Mapped[int] = mapped_column(ForeignKey("release_plans.id", ondelete="CASCADE"), index=True)
    position: Mapped[int]
    key: Mapped[str] = mapped_column(String(40))
    title: Mapped[str] = mapped_column(String(200))
    earliest_at: Mapped[datetime]
    steps: Mapped[list[dict[str, str]]] = mapped_column(JSON)
    gates: Mapped[dict[str, Any]] = mapped_column(JSON)
    detection: Mapped[str | None] = mapped_column(String(16))  # detection mode set when the stage opens
    opened_at: Mapped[datetime | None]
    opened_by: Mapped[str] = mapped_column(String(100), default="")
