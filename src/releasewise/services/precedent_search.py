"""Searching and reading the precedent library: public, no sign-in (FRAMEWORK.md §6–7).

Filtering is plain SQL that SQLite and PostgreSQL both run: free text matches every word against the
record's lowercased ``search_text`` (LIKE), facets are rows in ``precedent_tags``, and the outcome is
computed live from incidents opened after the decision, so a precedent's outcome changes as the world
does while its snapshot does not. Facet counts ignore the facet's own filter (each count says how many
results choosing that value would give).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, ScalarSelect, Select, and_, exists, func, select
from sqlalchemy.orm import Session

from releasewise.domain import precedents as rules
from releasewise.domain.tiers import Hazard
from releasewise.errors import NotFound
from releasewise.services.reviews import credited_reviewers
from releasewise.services.runtime import Runtime
from releasewise.store.models import Organization, Project
from releasewise.store.models_assessment import DecisionRow
from releasewise.store.models_incidents import Incident
from releasewise.store.models_precedents import Precedent, PrecedentTag


@dataclass(frozen=True)
class PrecedentView:
    """One published record: the snapshot as published, plus its live outcome."""

    id: int
    record: dict[str, Any]
    published_at: datetime
    outcome: rules.IncidentSummary
    public_page: str | None  # the project's public release page, when it has one
    # Read live, so a reviewer who withdraws consent disappears at once (services.reviews.set_public_credit).
    named_reviewers: tuple[str, ...] = ()
    unnamed_reviewers: int = 0

    @property
    def title(self) -> str:
        return str(self.record["project"]["name"])

    @property
    def org_name(self) -> str:
        return str(self.record["org"]["name"])

    @property
    def decision(self) -> dict[str, Any]:
        value: dict[str, Any] = self.record["decision"]
        return value


@dataclass(frozen=True)
class FacetValue:
    value: str
    label: str
    count: int
    selected: bool


@dataclass(frozen=True)
class SearchResult:
    filters: rules.Filters
    total: int
    pages: int
    items: tuple[PrecedentView, ...]
    facets: dict[str, tuple[FacetValue, ...]]


FACET_VALUES: dict[str, Sequence[tuple[str, str]]] = {
    "modality": [(m, m) for m in rules.MODALITIES],
    "hazard": [(h.value, h.value) for h in Hazard],
    "option": list(rules.OPTION_LABELS.items()),
    "outcome": list(rules.OUTCOME_LABELS.items()),
    "decision": [(d, d) for d in rules.DECISIONS],
}


def _incidents_after(severe: bool = False) -> ScalarSelect[int]:
    """A correlated count of the project's incidents opened after the precedent's decision."""
    query = select(func.count(Incident.id)).where(Incident.project_id == Precedent.project_id,
                                                  Incident.created_at > Precedent.decided_at)
    if severe:
        query = query.where(Incident.severity >= rules.SEVERE_FROM)
    return query.correlate(Precedent).scalar_subquery()


def _outcome_clause(outcome: str) -> ColumnElement[bool]:
    if outcome == rules.Outcome.none.value:
        return _incidents_after() == 0
    if outcome == rules.Outcome.severe.value:
        return _incidents_after(severe=True) > 0
    return _incidents_after() > 0


def _like(term: str) -> str:
    return "%" + term.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"


def _matching(filters: rules.Filters, skip: str | None = None) -> Select[Any]:
    """Ids of visible precedents matching ``filters``, ignoring the facet ``skip``."""
    query = select(Precedent.id).where(Precedent.withdrawn_at.is_(None))
    if filters.org:
        query = query.where(Precedent.org_id == select(Organization.id).where(Organization.slug == filters.org)
                            .scalar_subquery())
    for term in filters.terms:
        query = query.where(Precedent.search_text.like(_like(term), escape="\\"))
    for facet in ("modality", "hazard", "option", "decision"):
        value = filters.facet_value(facet)
        if value and facet != skip:
            query = query.where(exists().where(PrecedentTag.precedent_id == Precedent.id, PrecedentTag.kind == facet,
                                               PrecedentTag.value == value))
    if filters.outcome and skip != "outcome":
        query = query.where(_outcome_clause(filters.outcome))
    return query


def _count(session: Session, query: Select[Any]) -> int:
    return int(session.scalar(select(func.count()).select_from(query.subquery())) or 0)


def _facets(session: Session, filters: rules.Filters) -> dict[str, tuple[FacetValue, ...]]:
    result: dict[str, tuple[FacetValue, ...]] = {}
    for facet, values in FACET_VALUES.items():
        if facet == "outcome":
            base = _matching(filters, skip=facet)
            counts = {v: _count(session, base.where(_outcome_clause(v))) for v, _ in values}
        else:
            rows = session.execute(
                select(PrecedentTag.value, func.count()).where(PrecedentTag.kind == facet,
                                                               PrecedentTag.precedent_id.in_(_matching(filters, facet)))
                .group_by(PrecedentTag.value)).all()
            counts = {str(v): int(n) for v, n in rows}
        chosen = filters.facet_value(facet)
        result[facet] = tuple(FacetValue(v, label, counts.get(v, 0), v == chosen) for v, label in values)
    return result


def _outcomes(session: Session, ids: Sequence[int]) -> dict[int, rules.IncidentSummary]:
    rows = session.execute(
        select(Precedent.id, Incident.severity, Incident.status, Incident.harm_category)
        .join(Incident, and_(Incident.project_id == Precedent.project_id, Incident.created_at > Precedent.decided_at))
        .where(Precedent.id.in_(ids))).all()
    grouped: dict[int, list[tuple[int, str, str]]] = {i: [] for i in ids}
    for pid, severity, status, harm in rows:
        grouped[pid].append((severity, status, harm))
    return {pid: rules.summarise_incidents(items) for pid, items in grouped.items()}


def _public_pages(session: Session, rows: Sequence[Precedent]) -> dict[int, str]:
    projects = {p.id: p for p in session.scalars(select(Project).where(Project.id.in_({r.project_id for r in rows})))}
    pages: dict[int, str] = {}
    for r in rows:
        project = projects.get(r.project_id)
        if project is not None and project.public_page:
            pages[r.id] = f"/p/{r.record['org']['slug']}/{project.slug}"
    return pages


def _views(session: Session, rows: Sequence[Precedent]) -> tuple[PrecedentView, ...]:
    outcomes = _outcomes(session, [r.id for r in rows])
    pages = _public_pages(session, rows)
    return tuple(PrecedentView(r.id, dict(r.record), r.published_at, outcomes[r.id], pages.get(r.id),
                               *_credits(session, r.decision_id)) for r in rows)


def _credits(session: Session, decision_id: int) -> tuple[tuple[str, ...], int]:
    decision = session.get(DecisionRow, decision_id)
    return credited_reviewers(session, decision.request_id) if decision else ((), 0)


def search(rt: Runtime, *, query: str | None = "", modality: str | None = None, hazard: str | None = None,
           option: str | None = None, outcome: str | None = None, decision: str | None = None,
           org: str | None = None, page: int = 1, per_page: int = rules.PER_PAGE) -> SearchResult:
    """Anyone may search. Bad filter values raise InvalidInput naming the allowed values."""
    filters = rules.parse_filters(query=query, modality=modality, hazard=hazard, option=option, outcome=outcome,
                                  decision=decision, org=org, page=page, per_page=per_page)
    with rt.read() as session:
        matching = _matching(filters)
        total = _count(session, matching)
        rows = session.scalars(select(Precedent).where(Precedent.id.in_(matching))
                               .order_by(Precedent.decided_at.desc(), Precedent.id.desc())
                               .offset((filters.page - 1) * filters.per_page).limit(filters.per_page)).all()
        return SearchResult(filters, total, max(1, -(-total // filters.per_page)), _views(session, rows),
                            _facets(session, filters))


def get_precedent(rt: Runtime, precedent_id: int) -> PrecedentView:
    """Anyone may read a published record; a withdrawn one is gone for readers."""
    with rt.read() as session:
        row = session.get(Precedent, precedent_id)
        if row is None or row.withdrawn_at is not None:
            raise NotFound(f"No published precedent #{precedent_id}. It may have been withdrawn by its organisation.")
        return _views(session, [row])[0]
