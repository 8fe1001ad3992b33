"""Assessments: autosaved drafts, frozen versions with their risk profile, imports, diffs, policy."""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import yaml
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from releasewise.domain.assessment import diff_documents, parse_assessment, to_document
from releasewise.domain.roles import Action, Role, explain
from releasewise.domain.scoring import RiskProfile, ScoringSettings, profile_to_dict, score_assessment
from releasewise.errors import Conflict, InvalidInput, NotFound
from releasewise.services.audit import record
from releasewise.services.authz import authorize, load_membership
from releasewise.services.projects import asset_slugs, load_project
from releasewise.services.runtime import Actor, Runtime
from releasewise.store.models import Organization, Project, User
from releasewise.store.models_assessment import (
    AssessmentRow,
    AssessmentVersion,
    OrgPolicy,
    ReviewAssignment,
    ReviewRequest,
)

MAX_DOCUMENT_BYTES = 256 * 1024


@dataclass(frozen=True)
class DraftView:
    org_slug: str
    project_slug: str
    document: dict[str, Any]
    updated_at: datetime
    updated_by: str
    problems: tuple[str, ...]  # what must be fixed before it can be submitted
    latest_version: int | None


@dataclass(frozen=True)
class VersionView:
    org_slug: str
    project_slug: str
    number: int
    document: dict[str, Any]
    profile: dict[str, Any]
    scoring_version: str
    content_hash: str
    submitted_by: str
    submitted_at: datetime


@dataclass(frozen=True)
class PolicyView:
    org_slug: str
    scoring: dict[str, Any]
    allow_author_review: bool
    decision_valid_days: int


def _empty_document() -> dict[str, Any]:
    return {"summary": "", "assets": {}, "scenarios": [],
            "counterfactual": {"availability": "not_available", "rationale": ""},
            "defenses": {"score": 3, "rationale": ""},
            "benefits": {k: {"score": 3, "rationale": ""} for k in ("scientific", "defensive", "societal")}}


def _problems(document: dict[str, Any], known: set[str]) -> tuple[str, ...]:
    try:
        parse_assessment(document, known_assets=known)
    except InvalidInput as exc:
        return (exc.message,)
    return ()


def _assessment(session: Session, project: Project) -> AssessmentRow | None:
    return session.scalars(select(AssessmentRow).where(AssessmentRow.project_id == project.id)).first()


def _latest_number(session: Session, assessment: AssessmentRow | None) -> int | None:
    if assessment is None:
        return None
    return session.scalar(select(func.max(AssessmentVersion.number))
                          .where(AssessmentVersion.assessment_id == assessment.id))


def _check_size(document: Any) -> None:
    if not isinstance(document, dict):
        raise InvalidInput("An assessment must be a JSON object.")
    size = len(json.dumps(document))
    if size > MAX_DOCUMENT_BYTES:
        raise InvalidInput(f"The assessment is {size // 1024} KiB; the limit is {MAX_DOCUMENT_BYTES // 1024} KiB.")


def get_draft(rt: Runtime, actor: Actor, org_slug: str, project_slug: str) -> DraftView:
    with rt.read() as session:
        org, _ = authorize(session, actor, org_slug, Action.assessment_view)
        project = load_project(session, org, project_slug)
        row = _assessment(session, project)
        known = asset_slugs(session, project)
        if row is None:
            document = _empty_document()
            return DraftView(org.slug, project.slug, document, project.created_at, "", _problems(document, known), None)
        user = session.get(User, row.draft_updated_by_id)
        return DraftView(org.slug, project.slug, row.draft, row.draft_updated_at, user.username if user else "",
                         _problems(row.draft, known), _latest_number(session, row))


def save_draft(rt: Runtime, actor: Actor, org_slug: str, project_slug: str, document: dict[str, Any]) -> DraftView:
    """Autosave: any JSON object is kept, complete or not; problems are reported, not raised."""
    _check_size(document)
    now = rt.clock.now()
    with rt.write() as session:
        org, _ = authorize(session, actor, org_slug, Action.assessment_edit)
        project = load_project(session, org, project_slug)
        row = _assessment(session, project)
        if row is None:
            row = AssessmentRow(org_id=org.id, project_id=project.id, draft=document, draft_updated_at=now,
                                draft_updated_by_id=actor.user_id, created_by_id=actor.user_id, created_at=now)
            session.add(row)
            session.flush()
            record(session, rt, actor, org.id, "assessment.created", "project", project.slug)
        else:
            row.draft = document
            row.draft_updated_at = now
            row.draft_updated_by_id = actor.user_id
        return DraftView(org.slug, project.slug, document, now, actor.username,
                         _problems(document, asset_slugs(session, project)), _latest_number(session, row))


def load_policy(session: Session, org: Organization) -> tuple[ScoringSettings, OrgPolicy | None]:
    policy = session.get(OrgPolicy, org.id)
    return ScoringSettings.from_dict(policy.scoring if policy else None), policy


def submit(rt: Runtime, actor: Actor, org_slug: str, project_slug: str) -> VersionView:
    """Freeze the draft as the next numbered version, with its risk profile. Versions never change."""
    now = rt.clock.now()
    with rt.write() as session:
        org, _ = authorize(session, actor, org_slug, Action.assessment_edit)
        project = load_project(session, org, project_slug)
        row = _assessment(session, project)
        if row is None:
            raise Conflict("There is no draft to submit yet. Write the assessment first.")
        parsed = parse_assessment(row.draft, known_assets=asset_slugs(session, project))
        document = to_document(parsed)
        content_hash = hashlib.sha256(json.dumps(document, sort_keys=True).encode()).hexdigest()
        latest = session.scalars(select(AssessmentVersion).where(AssessmentVersion.assessment_id == row.id)
                                 .order_by(AssessmentVersion.number.desc())).first()
        if latest is not None and latest.content_hash == content_hash:
            raise Conflict(f"Nothing changed since version {latest.number}; edit the draft before submitting.")
        settings, _ = load_policy(session, org)
        profile = score_assessment(parsed, settings)
        version = AssessmentVersion(assessment_id=row.id, number=(latest.number + 1) if latest else 1,
                                    document=document, profile=profile_to_dict(profile),
                                    scoring_version=profile.scoring_version, content_hash=content_hash,
                                    submitted_by_id=actor.user_id, submitted_at=now)
        session.add(version)
        session.flush()
        record(session, rt, actor, org.id, "assessment.submitted", "assessment_version",
               f"{project.slug}/v{version.number}",
               {"scoring_version": profile.scoring_version, "scenarios": len(parsed.scenarios),
                "recommended": {a.asset: a.recommended_tier for a in profile.assets}})
        return _version_view(version, org.slug, project.slug, actor.username)


def _version_view(row: AssessmentVersion, org_slug: str, project_slug: str, submitted_by: str) -> VersionView:
    return VersionView(org_slug, project_slug, row.number, row.document, row.profile, row.scoring_version,
                       row.content_hash, submitted_by, row.submitted_at)


def can_see_version(session: Session, actor: Actor, org_slug: str, version: AssessmentVersion) -> bool:
    """Leads and researchers see every version; others only versions they were asked to review."""
    _, membership = load_membership(session, actor, org_slug)
    if explain(Role(membership.role), Action.assessment_view, actor.scopes).allowed:
        return True
    assigned = session.scalar(
        select(ReviewAssignment.id).join(ReviewRequest, ReviewRequest.id == ReviewAssignment.request_id)
        .where(ReviewRequest.version_id == version.id, ReviewAssignment.reviewer_id == actor.user_id)
    )
    return assigned is not None


def load_version(session: Session, actor: Actor, org_slug: str, project_slug: str,
                 number: int) -> tuple[Organization, Project, AssessmentVersion]:
    """A version the actor may see, or NotFound (never a hint that it exists)."""
    org, _ = load_membership(session, actor, org_slug)
    project = load_project(session, org, project_slug)
    version = session.scalars(
        select(AssessmentVersion).join(AssessmentRow, AssessmentRow.id == AssessmentVersion.assessment_id)
        .where(AssessmentRow.project_id == project.id, AssessmentVersion.number == number)
    ).first()
    if version is None or not can_see_version(session, actor, org_slug, version):
        raise NotFound(f"No assessment version {number} of {project.name} that you may see.")
    return org, project, version


def get_version(rt: Runtime, actor: Actor, org_slug: str, project_slug: str, number: int) -> VersionView:
    with rt.read() as session:
        org, project, version = load_version(session, actor, org_slug, project_slug, number)
        return _version_view(version, org.slug, project.slug, version.submitted_by.username)


def list_versions(rt: Runtime, actor: Actor, org_slug: str, project_slug: str) -> list[VersionView]:
    with rt.read() as session:
        org, _ = authorize(session, actor, org_slug, Action.assessment_view)
        project = load_project(session, org, project_slug)
        rows = session.scalars(
            select(AssessmentVersion).join(AssessmentRow, AssessmentRow.id == AssessmentVersion.assessment_id)
            .where(AssessmentRow.project_id == project.id).order_by(AssessmentVersion.number.desc())
        ).all()
        return [_version_view(r, org.slug, project.slug, r.submitted_by.username) for r in rows]


def diff_versions(rt: Runtime, actor: Actor, org_slug: str, project_slug: str, old: int,
                  new: int) -> list[tuple[str, Any, Any]]:
    with rt.read() as session:
        authorize(session, actor, org_slug, Action.assessment_view)
        _, _, a = load_version(session, actor, org_slug, project_slug, old)
        _, _, b = load_version(session, actor, org_slug, project_slug, new)
        return diff_documents(a.document, b.document)


# Imports --------------------------------------------------------------------

def _yaml_lines(text: str) -> dict[str, int]:
    """Map field paths ('scenarios[0].scores.severity') to 1-based source lines."""
    lines: dict[str, int] = {}
    try:
        root = yaml.compose(text, Loader=yaml.SafeLoader)
    except yaml.YAMLError:
        return lines

    def walk(node: Any, path: str) -> None:
        if isinstance(node, yaml.MappingNode):
            for key, value in node.value:
                child = f"{path}.{key.value}" if path else str(key.value)
                lines[child] = key.start_mark.line + 1
                walk(value, child)
        elif isinstance(node, yaml.SequenceNode):
            for index, item in enumerate(node.value):
                child = f"{path}[{index}]"
                lines[child] = item.start_mark.line + 1
                walk(item, child)

    if root is not None:
        walk(root, "")
    return lines


def parse_file(text: str, filename: str = "assessment.yaml") -> tuple[dict[str, Any], dict[str, int]]:
    """Parse YAML or JSON text (JSON is YAML); syntax errors name the line and column."""
    if len(text.encode()) > MAX_DOCUMENT_BYTES:
        raise InvalidInput(f"{filename} is larger than {MAX_DOCUMENT_BYTES // 1024} KiB.")
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" at line {mark.line + 1}, column {mark.column + 1}" if mark else ""
        problem = getattr(exc, "problem", None) or str(exc)
        raise InvalidInput(f"{filename} is not valid YAML/JSON{where}: {problem}. Nothing was imported.") from None
    if not isinstance(data, dict):
        raise InvalidInput(f"{filename} must contain a mapping at the top level. Nothing was imported.")
    return data, _yaml_lines(text)


def import_document(rt: Runtime, actor: Actor, org_slug: str, project_slug: str, text: str, *,
                    filename: str = "assessment.yaml", submit_version: bool = False) -> DraftView | VersionView:
    """Import a file as the draft (and optionally submit it). Invalid files import nothing."""
    data, lines = parse_file(text, filename)
    with rt.read() as session:
        org, _ = authorize(session, actor, org_slug, Action.assessment_edit)
        project = load_project(session, org, project_slug)
        known = asset_slugs(session, project)
    try:
        parse_assessment(data, known_assets=known, lines=lines)
    except InvalidInput as exc:
        raise InvalidInput(f"{filename}: {exc.message} Nothing was imported.") from None
    draft = save_draft(rt, actor, org_slug, project_slug, data)
    return submit(rt, actor, org_slug, project_slug) if submit_version else draft


# Policy -----------------------------------------------------------------------

def get_policy(rt: Runtime, actor: Actor, org_slug: str) -> PolicyView:
    with rt.read() as session:
        org, _ = authorize(session, actor, org_slug, Action.org_view)
        settings, row = load_policy(session, org)
        return PolicyView(org.slug, settings.to_dict(), row.allow_author_review if row else False,
                          row.decision_valid_days if row else 365)


def update_policy(rt: Runtime, actor: Actor, org_slug: str, *, scoring: dict[str, Any] | None = None,
                  allow_author_review: bool | None = None, decision_valid_days: int | None = None) -> PolicyView:
    """Owners tune the scoring thresholds/weights and review rules; invalid values change nothing."""
    parsed = ScoringSettings.from_dict(scoring) if scoring is not None else None
    if decision_valid_days is not None and not 7 <= decision_valid_days <= 1825:
        raise InvalidInput("Decisions must stay valid between 7 and 1825 days.", field="decision_valid_days")
    now = rt.clock.now()
    with rt.write() as session:
        org, _ = authorize(session, actor, org_slug, Action.policy_update)
        current, row = load_policy(session, org)
        before = {"scoring": current.to_dict(), "allow_author_review": row.allow_author_review if row else False,
                  "decision_valid_days": row.decision_valid_days if row else 365}
        if row is None:
            row = OrgPolicy(org_id=org.id, scoring=current.to_dict(), allow_author_review=False,
                            decision_valid_days=365, updated_at=now, updated_by_id=actor.user_id)
            session.add(row)
        if parsed is not None:
            row.scoring = parsed.to_dict()
        if allow_author_review is not None:
            row.allow_author_review = allow_author_review
        if decision_valid_days is not None:
            row.decision_valid_days = decision_valid_days
        row.updated_at, row.updated_by_id = now, actor.user_id
        after = {"scoring": row.scoring, "allow_author_review": row.allow_author_review,
                 "decision_valid_days": row.decision_valid_days}
        record(session, rt, actor, org.id, "policy.updated", "organization", org.slug,
               {"before": before, "after": after})
        return PolicyView(org.slug, row.scoring, row.allow_author_review, row.decision_valid_days)


def preview_profile(document: dict[str, Any], known_assets: set[str], settings: ScoringSettings) -> RiskProfile:
    """Score a draft without saving (for the editor's live preview)."""
    return score_assessment(parse_assessment(document, known_assets=known_assets), settings)
