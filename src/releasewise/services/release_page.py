"""The public release page of a project (opt-in): what was released, to whom, when, and why.

Built for readers outside the lab — platforms, researchers, journalists — so it shows only what the lab
has made public by turning the page on: assets with their audience tiers, the release plan's stages,
decisions with their rationale and where reviewers disagreed (never who the reviewers are, nor their
individual stances), published disclosure summaries, the signing keys, and how to request access or
report misuse. Drafts, unreviewed assessments, open disclosure cases and grantee lists never appear.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import func, select

from releasewise.domain import decisions as decision_rules
from releasewise.domain.roles import Action
from releasewise.domain.tiers import Tier
from releasewise.errors import NotFound
from releasewise.domain.detection import DEFAULT_MODE
from releasewise.services import disclosure, signing
from releasewise.services.audit import record
from releasewise.services.reviews import credited_reviewers
from releasewise.services.authz import authorize
from releasewise.services.projects import load_project
from releasewise.services.runtime import Actor, Runtime
from releasewise.store.models import Asset, Organization, Project
from releasewise.store.models_assessment import DecisionRow
from releasewise.store.models_plans import PlanStage, ReleasePlan
from releasewise.store.models_provenance import ProjectDetection, WatermarkKeyRow

REQUESTABLE = {Tier.vetted_researchers.value, Tier.registered.value, Tier.public.value}


@dataclass(frozen=True)
class PublicDecision:
    id: int
    outcome: str
    decided_at: datetime
    expires_at: datetime
    steps: tuple[str, ...]
    conditions: tuple[str, ...]
    rationale: str
    votes: dict[str, int]
    disagreements: tuple[dict[str, Any], ...]  # label, spread, diverges — no names
    named_reviewers: tuple[str, ...] = ()  # only reviewers who agreed to be named (services.reviews)
    unnamed_reviewers: int = 0


@dataclass(frozen=True)
class PublicStage:
    title: str
    earliest_at: datetime
    opened_at: datetime | None
    steps: tuple[str, ...]


@dataclass(frozen=True)
class PublicPage:
    org_slug: str
    org_name: str
    project_slug: str
    project_name: str
    description: str
    modality: str
    assets: tuple[dict[str, Any], ...]
    stages: tuple[PublicStage, ...]
    plan_status: str | None
    decisions: tuple[PublicDecision, ...]
    disclosures: tuple[disclosure.PublicSummaryView, ...]
    signing_keys: tuple[signing.KeyView, ...]
    detection_mode: str = DEFAULT_MODE.value  # who may trace the project's watermarks (domain/detection.py)
    marked_models: int = 0  # models of the project whose outputs carry watermarks


def set_public_page(rt: Runtime, actor: Actor, org_slug: str, project_slug: str, *, enabled: bool) -> bool:
    with rt.write() as session:
        org, _ = authorize(session, actor, org_slug, Action.project_publish)
        project = load_project(session, org, project_slug)
        if project.public_page != enabled:
            project.public_page = enabled
            record(session, rt, actor, org.id, "project.public_page_" + ("enabled" if enabled else "disabled"),
                   "project", project.slug)
        return project.public_page


def _not_public(org_slug: str, project_slug: str) -> NotFound:
    return NotFound(f"There is no public release page for {org_slug}/{project_slug}.")


def public_page(rt: Runtime, org_slug: str, project_slug: str) -> PublicPage:
    """Anyone may read it, signed in or not; a project without the page does not exist here."""
    with rt.read() as session:
        row = session.execute(
            select(Project, Organization).join(Organization, Organization.id == Project.org_id)
            .where(Organization.slug == org_slug.lower(), Project.slug == project_slug.lower())
        ).first()
        if row is None or not row[0].public_page:
            raise _not_public(org_slug, project_slug)
        project, org = row
        assets = tuple({"slug": a.slug, "name": a.name, "kind": a.kind, "current_tier": a.current_tier,
                        "high_water_tier": a.high_water_tier, "requestable": a.current_tier in REQUESTABLE}
                       for a in session.scalars(select(Asset).where(Asset.project_id == project.id).order_by(Asset.id)))
        plan = session.scalars(select(ReleasePlan).where(ReleasePlan.project_id == project.id)).first()
        stages: tuple[PublicStage, ...] = ()
        if plan is not None:
            stages = tuple(
                PublicStage(s.title, s.earliest_at, s.opened_at,
                            tuple(x.label() for x in decision_rules.steps_from_json(s.steps)))
                for s in session.scalars(select(PlanStage).where(PlanStage.plan_id == plan.id)
                                         .order_by(PlanStage.position)))
        decisions = tuple(
            PublicDecision(d.id, d.outcome, d.decided_at, d.expires_at,
                           tuple(x.label() for x in decision_rules.steps_from_json(d.steps)),
                           tuple(c["text"] for c in d.conditions), d.rationale,
                           {k: v for k, v in d.tally.items() if k != "not_voted"},
                           tuple({"label": x["label"], "spread": x["spread"], "diverges": x["diverges"]}
                                 for x in d.disagreement),
                           *credited_reviewers(session, d.request_id))
            for d in session.scalars(select(DecisionRow).where(DecisionRow.project_id == project.id)
                                     .order_by(DecisionRow.decided_at.desc())))
        page_base = (org.slug, org.name, project.slug, project.name, project.description, project.modality)
        plan_status = plan.status if plan else None
        detection_row = session.get(ProjectDetection, project.id)
        marked = session.scalar(select(func.count(func.distinct(WatermarkKeyRow.asset_id)))
                                .where(WatermarkKeyRow.project_id == project.id)) or 0
    return PublicPage(*page_base, assets, stages, plan_status, decisions,
                      tuple(disclosure.public_summaries(rt, org_slug, project_slug)),
                      tuple(signing.public_keys(rt, org_slug)),
                      detection_row.mode if detection_row else DEFAULT_MODE.value, marked)
