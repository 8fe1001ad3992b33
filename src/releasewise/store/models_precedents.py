"""Tables of the precedent library (issue 9): published, redacted decision records and their search tags."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, ForeignKey, Index, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from releasewise.store.models import Base, BigId


class Precedent(Base):
    """One decision published to the instance's library.

    ``record`` is the redacted snapshot taken at publication (so later edits of the project or its
    assessment do not change what readers were shown); the outcome after release is computed live from
    ``incidents``. Withdrawing keeps the row (for the audit trail) and hides it from every reader.
    """

    __tablename__ = "precedents"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    org_id: Mapped[int] = mapped_column(ForeignKey("organizations.id", ondelete="CASCADE"), index=True)
    project_id: Mapped[int] = mapped_column(ForeignKey("projects.id", ondelete="CASCADE"), index=True)
    # No foreign key: ``decisions`` lives on another migration branch (0002_assessment), and a key across
    # branches would make the order of `db upgrade` matter. Decisions are removed only with their project,
    # and ``project_id`` cascades.
    decision_id: Mapped[int] = mapped_column(BigId, unique=True)
    record: Mapped[dict[str, Any]] = mapped_column(JSON)
    search_text: Mapped[str] = mapped_column(Text)
    decided_at: Mapped[datetime] = mapped_column(index=True)
    published_at: Mapped[datetime]
    published_by_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    withdrawn_at: Mapped[datetime | None]


class PrecedentTag(Base):
    """One (facet, value) of a precedent — modality, hazard, option, decision — for portable filtering."""

    __tablename__ = "precedent_tags"
    __table_args__ = (UniqueConstraint("precedent_id", "kind", "value"),
                      Index("ix_precedent_tags_kind_value", "kind", "value"))

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    precedent_id: Mapped[int] = mapped_column(ForeignKey("precedents.id", ondelete="CASCADE"))
    kind: Mapped[str] = mapped_column(String(20))
    value: Mapped[str] = mapped_column(String(40))
