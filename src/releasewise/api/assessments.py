"""REST routes for assessments, reviews, decisions and tier changes."""

from __future__ import annotations

from dataclasses import asdict
from datetime import UTC, datetime
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Query, Response, status
from pydantic import BaseModel, Field

from releasewise.api.deps import ActorDep, RuntimeDep
from releasewise.api.schemas import AssetOut, Id, Out, QueryId, StrictModel
from releasewise.domain.tiers import Tier
from releasewise.services import assessments, decisions, reviews, tiers

router = APIRouter(prefix="/api/v1", tags=["assessments"])
P = "/orgs/{org}/projects/{project}"


class DraftOut(Out):
    org_slug: str
    project_slug: str
    document: dict[str, Any]
    updated_at: datetime
    updated_by: str
    problems: list[str]
    latest_version: int | None


class VersionOut(Out):
    org_slug: str
    project_slug: str
    number: Id
    document: dict[str, Any]
    profile: dict[str, Any]
    scoring_version: str
    content_hash: str
    submitted_by: str
    submitted_at: datetime


class ChangeOut(BaseModel):
    path: str
    old: Any
    new: Any


class ImportIn(StrictModel):
    text: str = Field(min_length=1, max_length=assessments.MAX_DOCUMENT_BYTES, description="YAML or JSON")
    filename: str = Field(default="assessment.yaml", max_length=200)
    submit: bool = False


class PolicyOut(Out):
    org_slug: str
    scoring: dict[str, Any]
    allow_author_review: bool
    decision_valid_days: int


class PolicyIn(StrictModel):
    scoring: dict[str, Any] | None = None
    allow_author_review: bool | None = None
    decision_valid_days: int | None = None


class PoolEntryOut(Out):
    email: str
    username: str | None
    display_name: str
    expertise: list[str]
    note: str
    status: str


class PoolEntryIn(StrictModel):
    email: str = Field(min_length=3, max_length=254)
    expertise: list[str] = Field(min_length=1, max_length=20)
    note: str = Field(default="", max_length=1000)


class NewPoolEntryOut(BaseModel):
    entry: PoolEntryOut
    invitation_link: str | None


class SuggestionOut(Out):
    username: str
    display_name: str
    expertise: list[str]
    matches: list[str]
    excluded_reason: str | None


class ReviewIn(StrictModel):
    version: int = Field(ge=1)
    reviewers: list[str] = Field(min_length=1, max_length=20)
    steps: list[str] = Field(min_length=1, max_length=50, description="'asset:tier' items")
    due_at: Annotated[datetime, Field(strict=False, description="ISO 8601; UTC unless an offset is given")]
    note: str = Field(default="", max_length=4000)


class AssignmentOut(Out):
    reviewer: str
    display_name: str
    conflict: str | None
    conflict_note: str
    vote: str | None
    conditions: list[str]
    comments: str
    stances: dict[str, int]
    voted_at: datetime | None
    public_credit: bool


class ReviewOut(Out):
    id: int
    org_slug: str
    project_slug: str
    project_name: str
    version: int
    steps: list[str]
    requested_by: str
    requested_at: datetime
    due_at: datetime
    closed_at: datetime | None
    note: str
    status: str
    assignments: list[AssignmentOut]
    decision_id: Id | None


class ConflictIn(StrictModel):
    has_conflict: bool
    note: str = Field(default="", max_length=2000)


class VoteIn(StrictModel):
    vote: Literal["approve", "approve_with_conditions", "reject"]
    conditions: list[str] = Field(default_factory=list, max_length=20)
    comments: str = Field(default="", max_length=10000)
    stances: dict[str, int]
    public_credit: bool = Field(default=False, description="you agree to be named as a reviewer on public pages")


class CloseIn(StrictModel):
    rationale: str = Field(min_length=1, max_length=20000)
    extra_conditions: list[str] = Field(default_factory=list, max_length=20)


class DecisionOut(Out):
    id: int
    org_slug: str
    project_slug: str
    project_name: str
    review_id: Id
    version: int
    outcome: str
    steps: list[str]
    conditions: list[dict[str, Any]]
    rationale: str
    tally: dict[str, int]
    disagreement: list[dict[str, Any]]
    ballots: list[dict[str, Any]]
    decided_by: str
    decided_at: datetime
    expires_at: datetime
    status: str
    scoring_version: str


class TierIn(StrictModel):
    tier: Annotated[Tier, Field(strict=False)]
    reason: str = Field(min_length=1, max_length=2000)


# Assessments -----------------------------------------------------------------------

@router.get(P + "/assessment", response_model=DraftOut)
def get_draft(org: str, project: str, rt: RuntimeDep, actor: ActorDep) -> DraftOut:
    """The working draft, with what must be fixed before it can be submitted."""
    return DraftOut.model_validate(assessments.get_draft(rt, actor, org, project))


@router.put(P + "/assessment", response_model=DraftOut)
def save_draft(org: str, project: str, document: dict[str, Any], rt: RuntimeDep, actor: ActorDep) -> DraftOut:
    """Autosave the draft (any JSON object; see docs/assessments.md for the schema)."""
    return DraftOut.model_validate(assessments.save_draft(rt, actor, org, project, document))


@router.post(P + "/assessment/import", status_code=status.HTTP_201_CREATED)
def import_file(org: str, project: str, body: ImportIn, rt: RuntimeDep, actor: ActorDep) -> dict[str, Any]:
    """Import YAML/JSON as the draft, optionally submitting it. Invalid files import nothing."""
    result = assessments.import_document(rt, actor, org, project, body.text, filename=body.filename,
                                         submit_version=body.submit)
    kind = "version" if isinstance(result, assessments.VersionView) else "draft"
    return {"imported_as": kind, **asdict(result)}


@router.post(P + "/assessment/submit", response_model=VersionOut, status_code=status.HTTP_201_CREATED)
def submit(org: str, project: str, rt: RuntimeDep, actor: ActorDep) -> VersionOut:
    return VersionOut.model_validate(assessments.submit(rt, actor, org, project))


@router.get(P + "/assessment/versions", response_model=list[VersionOut])
def list_versions(org: str, project: str, rt: RuntimeDep, actor: ActorDep) -> list[VersionOut]:
    return [VersionOut.model_validate(v) for v in assessments.list_versions(rt, actor, org, project)]


@router.get(P + "/assessment/versions/{number}", response_model=VersionOut)
def get_version(org: str, project: str, number: Id, rt: RuntimeDep, actor: ActorDep) -> VersionOut:
    return VersionOut.model_validate(assessments.get_version(rt, actor, org, project, number))


@router.get(P + "/assessment/diff", response_model=list[ChangeOut])
def diff(org: str, project: str, rt: RuntimeDep, actor: ActorDep, old: QueryId,
         new: QueryId) -> list[ChangeOut]:
    return [ChangeOut(path=p, old=a, new=b) for p, a, b in assessments.diff_versions(rt, actor, org, project, old, new)]


@router.get(P + "/assessment/versions/{number}/suggested-reviewers", response_model=list[SuggestionOut])
def suggested(org: str, project: str, number: Id, rt: RuntimeDep, actor: ActorDep) -> list[SuggestionOut]:
    return [SuggestionOut.model_validate(s) for s in reviews.suggest_reviewers(rt, actor, org, project, number)]


# Policy and reviewer pool ---------------------------------------------------------------

@router.get("/orgs/{org}/policy", response_model=PolicyOut)
def get_policy(org: str, rt: RuntimeDep, actor: ActorDep) -> PolicyOut:
    return PolicyOut.model_validate(assessments.get_policy(rt, actor, org))


@router.patch("/orgs/{org}/policy", response_model=PolicyOut)
def update_policy(org: str, body: PolicyIn, rt: RuntimeDep, actor: ActorDep) -> PolicyOut:
    view = assessments.update_policy(rt, actor, org, scoring=body.scoring, allow_author_review=body.allow_author_review,
                                     decision_valid_days=body.decision_valid_days)
    return PolicyOut.model_validate(view)


@router.get("/orgs/{org}/reviewers", response_model=list[PoolEntryOut])
def list_pool(org: str, rt: RuntimeDep, actor: ActorDep) -> list[PoolEntryOut]:
    return [PoolEntryOut.model_validate(e) for e in reviews.list_pool(rt, actor, org)]


@router.post("/orgs/{org}/reviewers", response_model=NewPoolEntryOut, status_code=status.HTTP_201_CREATED)
def add_reviewer(org: str, body: PoolEntryIn, rt: RuntimeDep, actor: ActorDep) -> NewPoolEntryOut:
    entry, link = reviews.add_reviewer(rt, actor, org, email=body.email, expertise=body.expertise, note=body.note)
    return NewPoolEntryOut(entry=PoolEntryOut.model_validate(entry), invitation_link=link)


@router.delete("/orgs/{org}/reviewers/{email}", status_code=status.HTTP_204_NO_CONTENT)
def remove_reviewer(org: str, email: str, rt: RuntimeDep, actor: ActorDep) -> Response:
    reviews.remove_reviewer(rt, actor, org, email)
    return Response(status_code=status.HTTP_204_NO_CONTENT)


# Reviews ----------------------------------------------------------------------------------

@router.post(P + "/reviews", response_model=ReviewOut, status_code=status.HTTP_201_CREATED)
def request_review(org: str, project: str, body: ReviewIn, rt: RuntimeDep, actor: ActorDep) -> ReviewOut:
    # Stored times are naive UTC; a due date given with an offset is converted, one without is UTC.
    due = body.due_at.astimezone(UTC).replace(tzinfo=None) if body.due_at.tzinfo else body.due_at
    view = reviews.request_review(rt, actor, org, project, version=body.version, reviewers=body.reviewers,
                                  steps=body.steps, due_at=due, note=body.note)
    return ReviewOut.model_validate(view)


@router.get("/orgs/{org}/reviews", response_model=list[ReviewOut])
def list_reviews(org: str, rt: RuntimeDep, actor: ActorDep,
                 project: Annotated[str | None, Query(max_length=40)] = None) -> list[ReviewOut]:
    return [ReviewOut.model_validate(r) for r in reviews.list_reviews(rt, actor, org, project)]


@router.get("/me/reviews", response_model=list[ReviewOut])
def my_reviews(rt: RuntimeDep, actor: ActorDep) -> list[ReviewOut]:
    """Open reviews you were asked to do, across organisations."""
    return [ReviewOut.model_validate(r) for r in reviews.my_assignments(rt, actor)]


@router.get("/orgs/{org}/reviews/{review_id}", response_model=ReviewOut)
def get_review(org: str, review_id: Id, rt: RuntimeDep, actor: ActorDep) -> ReviewOut:
    return ReviewOut.model_validate(reviews.get_review(rt, actor, org, review_id))


@router.post("/orgs/{org}/reviews/{review_id}/conflict", response_model=ReviewOut)
def declare_conflict(org: str, review_id: Id, body: ConflictIn, rt: RuntimeDep, actor: ActorDep) -> ReviewOut:
    view = reviews.declare_conflict(rt, actor, org, review_id, has_conflict=body.has_conflict, note=body.note)
    return ReviewOut.model_validate(view)


@router.post("/orgs/{org}/reviews/{review_id}/vote", response_model=ReviewOut)
def vote(org: str, review_id: Id, body: VoteIn, rt: RuntimeDep, actor: ActorDep) -> ReviewOut:
    view = reviews.vote(rt, actor, org, review_id, vote=body.vote, conditions=body.conditions,
                        comments=body.comments, stances=body.stances, public_credit=body.public_credit)
    return ReviewOut.model_validate(view)


class PublicCreditIn(StrictModel):
    named: bool


@router.put("/orgs/{org}/reviews/{review_id}/public-credit", response_model=ReviewOut)
def public_credit(org: str, review_id: Id, body: PublicCreditIn, rt: RuntimeDep, actor: ActorDep) -> ReviewOut:
    """Reviewers: agree (or stop agreeing) to be named for this review's decision on public pages."""
    return ReviewOut.model_validate(reviews.set_public_credit(rt, actor, org, review_id, named=body.named))


@router.post("/orgs/{org}/reviews/{review_id}/close", response_model=DecisionOut, status_code=status.HTTP_201_CREATED)
def close(org: str, review_id: Id, body: CloseIn, rt: RuntimeDep, actor: ActorDep) -> DecisionOut:
    decision_id = reviews.close_review(rt, actor, org, review_id, rationale=body.rationale,
                                       extra_conditions=body.extra_conditions)
    return DecisionOut.model_validate(decisions.get_decision(rt, actor, org, decision_id))


# Decisions and tiers --------------------------------------------------------------------------

@router.get("/orgs/{org}/decisions", response_model=list[DecisionOut])
def list_decisions(org: str, rt: RuntimeDep, actor: ActorDep,
                   project: Annotated[str | None, Query(max_length=40)] = None) -> list[DecisionOut]:
    return [DecisionOut.model_validate(d) for d in decisions.list_decisions(rt, actor, org, project)]


@router.get("/orgs/{org}/decisions/{decision_id}", response_model=DecisionOut)
def get_decision(org: str, decision_id: Id, rt: RuntimeDep, actor: ActorDep) -> DecisionOut:
    return DecisionOut.model_validate(decisions.get_decision(rt, actor, org, decision_id))


@router.get("/orgs/{org}/decisions/{decision_id}/export")
def export_decision(org: str, decision_id: Id, rt: RuntimeDep, actor: ActorDep,
                    format: Literal["markdown", "json", "model-card"] = "markdown") -> Response:
    media, render, ext = decisions.EXPORTS[format]
    view = decisions.get_decision(rt, actor, org, decision_id)
    filename = f"decision-{view.id}-{format}.{ext}"
    return Response(render(view), media_type=media,
                    headers={"Content-Disposition": f'attachment; filename="{filename}"'})


@router.post("/orgs/{org}/decisions/{decision_id}/conditions/{index}/met", response_model=DecisionOut)
def condition_met(org: str, decision_id: Id, index: Id, rt: RuntimeDep, actor: ActorDep) -> DecisionOut:
    """Mark condition number ``index`` (0-based) as met."""
    return DecisionOut.model_validate(decisions.mark_condition_met(rt, actor, org, decision_id, index))


@router.post(P + "/assets/{asset}/tier", response_model=AssetOut, tags=["projects"])
def set_tier(org: str, project: str, asset: str, body: TierIn, rt: RuntimeDep, actor: ActorDep) -> AssetOut:
    """Widen (needs a covering decision) or narrow (always allowed) an asset's audience."""
    view = tiers.set_asset_tier(rt, actor, org, project, asset, body.tier.value, reason=body.reason)
    return AssetOut.model_validate(view)
