"""REST routes for the precedent library.

Searching (``GET /precedents``) and reading (``GET /precedents/{id}``) are public: no token needed, and
what they return is the redacted record only. Publishing and withdrawing are under the decision they
publish (``/orgs/{org}/decisions/{id}/precedent``) and need ``precedent.publish``.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Query
from pydantic import Field

from releasewise.api.deps import ActorDep, RuntimeDep
from releasewise.api.schemas import Id, Out, StrictModel
from releasewise.domain import precedents as rules
from releasewise.domain.tiers import Hazard
from releasewise.services import precedent_search, precedents

router = APIRouter(prefix="/api/v1", tags=["precedents"])
PUB = "/orgs/{org}/decisions/{decision_id}/precedent"

ModalityIn = Literal["audio", "image", "video", "text", "multimodal"]
OptionIn = Annotated[rules.ReleaseOption, Field(strict=False)]


class StepOut(Out):
    asset: str
    tier: str
    label: str


class DisagreementOut(Out):
    dimension: str
    label: str
    spread: int = Field(description="Distance between the most cautious and the most open stance (0–4)")
    diverges: bool


class DecisionRecordOut(Out):
    id: int
    outcome: str
    decided_at: datetime
    expires_at: datetime
    assessment_version: int
    steps: list[StepOut]
    conditions: list[str]
    rationale: str
    votes: dict[str, int] = Field(description="approve, approve_with_conditions, reject — counts, never names")
    disagreements: list[DisagreementOut]


class AssetRecordOut(Out):
    slug: str
    name: str
    kind: str
    hazards: list[str]
    decided_tier: str | None
    tier_at_publication: str
    widest_tier_at_publication: str


class OrgRefOut(Out):
    slug: str
    name: str


class ProjectRefOut(Out):
    slug: str
    name: str
    description: str
    modality: str


class RecordOut(Out):
    """The redacted snapshot taken when the decision was published."""

    schema_: str = Field(alias="schema")
    org: OrgRefOut
    project: ProjectRefOut
    decision: DecisionRecordOut
    assets: list[AssetRecordOut]
    hazards: list[str]
    options: list[str]
    note: str


class OutcomeOut(Out):
    outcome: Literal["none", "incidents", "severe"]
    incidents: int = Field(description="Incidents the organisation opened after the decision (confirmed misuse)")
    open: int
    severe: int
    by_severity: dict[str, int]
    by_harm: dict[str, int]
    summary: str


class PrecedentOut(Out):
    id: int
    url: str
    published_at: datetime
    public_page: str | None
    record: RecordOut
    outcome: OutcomeOut
    named_reviewers: list[str] = Field(description="reviewers who agreed to be named; the others stay anonymous")
    unnamed_reviewers: int


class FacetValueOut(Out):
    value: str
    label: str
    count: int
    selected: bool


class PrecedentPageOut(Out):
    total: int
    page: int
    per_page: int
    pages: int
    items: list[PrecedentOut]
    facets: dict[str, list[FacetValueOut]]


class PublicationOut(Out):
    org_slug: str
    decision_id: int
    project_name: str
    state: Literal["unpublished", "published", "withdrawn"]
    precedent_id: int | None
    published_at: datetime | None
    withdrawn_at: datetime | None
    options: list[str]
    suggested_options: list[str]
    note: str
    preview: RecordOut


class PublishIn(StrictModel):
    options: list[OptionIn] | None = Field(default=None, max_length=len(rules.ReleaseOption),
                                           description="Release options used; omit to take the suggested ones")
    note: str = Field(default="", max_length=rules.MAX_NOTE, description="What others can learn from this case")


def precedent_out(view: precedent_search.PrecedentView) -> PrecedentOut:
    o = view.outcome
    outcome = {"outcome": o.outcome, "incidents": o.total, "open": o.open, "severe": o.severe,
               "by_severity": {str(k): v for k, v in sorted(o.by_severity.items())}, "by_harm": dict(o.by_harm),
               "summary": o.describe()}
    data: dict[str, Any] = {"id": view.id, "url": f"/precedents/{view.id}", "published_at": view.published_at,
                            "public_page": view.public_page, "record": view.record, "outcome": outcome,
                            "named_reviewers": list(view.named_reviewers), "unnamed_reviewers": view.unnamed_reviewers}
    return PrecedentOut.model_validate(data)


def publication_out(p: precedents.Publication) -> PublicationOut:
    return PublicationOut.model_validate({
        "org_slug": p.org_slug, "decision_id": p.decision_id, "project_name": p.project_name, "state": p.state,
        "precedent_id": p.precedent_id, "published_at": p.published_at, "withdrawn_at": p.withdrawn_at,
        "options": list(p.options), "suggested_options": list(p.suggested_options), "note": p.note,
        "preview": p.preview})


@router.get("/precedents", response_model=PrecedentPageOut)
def search(rt: RuntimeDep,
           q: Annotated[str, Query(max_length=rules.MAX_QUERY, description="Words that must all appear")] = "",
           modality: ModalityIn | None = None, hazard: Hazard | None = None,
           option: rules.ReleaseOption | None = None, outcome: rules.Outcome | None = None,
           decision: Literal["approved", "rejected"] | None = None,
           org: Annotated[str | None, Query(max_length=40, description="Only this organisation's records")] = None,
           page: Annotated[int, Query(ge=1, le=10_000)] = 1,
           per_page: Annotated[int, Query(ge=1, le=rules.MAX_PER_PAGE)] = rules.PER_PAGE) -> PrecedentPageOut:
    """Search published decision records of every organisation on this instance (no token needed)."""
    result = precedent_search.search(
        rt, query=q, modality=modality, hazard=hazard.value if hazard else None,
        option=option.value if option else None, outcome=outcome.value if outcome else None, decision=decision,
        org=org, page=page, per_page=per_page)
    return PrecedentPageOut(
        total=result.total, page=result.filters.page, per_page=result.filters.per_page, pages=result.pages,
        items=[precedent_out(v) for v in result.items],
        facets={k: [FacetValueOut.model_validate(f) for f in values] for k, values in result.facets.items()})


@router.get("/precedents/{precedent_id}", response_model=PrecedentOut)
def get_precedent(precedent_id: Id, rt: RuntimeDep) -> PrecedentOut:
    """One published record with its live outcome (no token needed)."""
    return precedent_out(precedent_search.get_precedent(rt, precedent_id))


@router.get(PUB, response_model=PublicationOut)
def publication(org: str, decision_id: Id, rt: RuntimeDep, actor: ActorDep) -> PublicationOut:
    """Whether the decision is in the library, and exactly what publishing it would show."""
    return publication_out(precedents.publication(rt, actor, org, decision_id))


@router.post(PUB, response_model=PrecedentOut)
def publish(org: str, decision_id: Id, body: PublishIn, rt: RuntimeDep, actor: ActorDep) -> PrecedentOut:
    """Publish the decision's redacted record (again: replaces the snapshot). Owners and release leads."""
    options = None if body.options is None else [o.value for o in body.options]
    pid = precedents.publish(rt, actor, org, decision_id, options=options, note=body.note)
    return precedent_out(precedent_search.get_precedent(rt, pid))


@router.delete(PUB, response_model=PublicationOut)
def withdraw(org: str, decision_id: Id, rt: RuntimeDep, actor: ActorDep) -> PublicationOut:
    """Take the record out of the library; it stays in the audit trail. Owners and release leads."""
    precedents.withdraw(rt, actor, org, decision_id)
    return publication_out(precedents.publication(rt, actor, org, decision_id))
