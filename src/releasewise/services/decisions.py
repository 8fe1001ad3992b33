"""Decision records: reading, conditions, renewal, and exports (Markdown, JSON, model card)."""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from releasewise.domain import decisions as rules
from releasewise.domain.ratchet import DecisionCover
from releasewise.domain.roles import Action, Role, explain
from releasewise.errors import Conflict, InvalidInput, NotFound
from releasewise.services.audit import record
from releasewise.services.authz import authorize, load_membership
from releasewise.services.projects import load_project
from releasewise.services.runtime import Actor, Runtime
from releasewise.store.models import Organization, Project, User
from releasewise.store.models_assessment import DecisionRow, ReviewAssignment

RENEWAL_WINDOW = timedelta(days=30)


@dataclass(frozen=True)
class DecisionView:
    id: int
    org_slug: str
    org_name: str
    project_slug: str
    project_name: str
    review_id: int
    version: int
    outcome: str
    steps: tuple[str, ...]
    conditions: tuple[dict[str, Any], ...]
    rationale: str
    tally: dict[str, int]
    disagreement: tuple[dict[str, Any], ...]
    ballots: tuple[dict[str, Any], ...]
    decided_by: str
    decided_at: datetime
    expires_at: datetime
    status: str  # in_force | due_for_renewal | expired | rejected
    profile: dict[str, Any]
    scoring_version: str


def _status(row: DecisionRow, now: datetime) -> str:
    if row.outcome != rules.Outcome.approved.value:
        return "rejected"
    if row.expires_at <= now:
        return "expired"
    return "due_for_renewal" if row.expires_at - now <= RENEWAL_WINDOW else "in_force"


def _view(session: Session, row: DecisionRow, org: Organization, now: datetime) -> DecisionView:
    project = session.get(Project, row.project_id)
    decided_by = session.get(User, row.decided_by_id)
    assignments = session.scalars(select(ReviewAssignment).where(ReviewAssignment.request_id == row.request_id)
                                  .order_by(ReviewAssignment.id)).all()
    ballots = tuple({"reviewer": a.reviewer.username, "vote": a.vote, "conditions": list(a.conditions or []),
                     "comments": a.comments, "conflict": a.conflict} for a in assignments)
    return DecisionView(
        row.id, org.slug, org.name, project.slug if project else "", project.name if project else "",
        row.request_id, row.version.number, row.outcome,
        tuple(s.label() for s in rules.steps_from_json(row.steps)), tuple(row.conditions), row.rationale,
        dict(row.tally), tuple(row.disagreement), ballots, decided_by.username if decided_by else "",
        row.decided_at, row.expires_at, _status(row, now), row.version.profile, row.version.scoring_version,
    )


def _load(session: Session, actor: Actor, org_slug: str, decision_id: int) -> tuple[Organization, DecisionRow]:
    """Members who may view decisions, and reviewers of the decided review; NotFound otherwise."""
    org, membership = load_membership(session, actor, org_slug)
    row = session.scalars(select(DecisionRow).where(DecisionRow.id == decision_id,
                                                    DecisionRow.org_id == org.id)).first()
    if row is not None and not explain(Role(membership.role), Action.decision_view, actor.scopes).allowed:
        assigned = session.scalar(select(ReviewAssignment.id).where(ReviewAssignment.request_id == row.request_id,
                                                                    ReviewAssignment.reviewer_id == actor.user_id))
        if assigned is None:
            row = None
    if row is None:
        raise NotFound(f"No decision #{decision_id} in this organisation that you may see.")
    return org, row


def get_decision(rt: Runtime, actor: Actor, org_slug: str, decision_id: int) -> DecisionView:
    with rt.read() as session:
        org, row = _load(session, actor, org_slug, decision_id)
        return _view(session, row, org, rt.clock.now())


def list_decisions(rt: Runtime, actor: Actor, org_slug: str, project_slug: str | None = None) -> list[DecisionView]:
    now = rt.clock.now()
    with rt.read() as session:
        org, _ = authorize(session, actor, org_slug, Action.decision_view)
        query = select(DecisionRow).where(DecisionRow.org_id == org.id)
        if project_slug:
            query = query.where(DecisionRow.project_id == load_project(session, org, project_slug).id)
        rows = session.scalars(query.order_by(DecisionRow.decided_at.desc())).all()
        return [_view(session, r, org, now) for r in rows]


def mark_condition_met(rt: Runtime, actor: Actor, org_slug: str, decision_id: int, index: int) -> DecisionView:
    """Record who confirmed a condition holds; stage gates and the ratchet require all of them."""
    now = rt.clock.now()
    with rt.write() as session:
        org, _ = authorize(session, actor, org_slug, Action.decision_update)
        _, row = _load(session, actor, org_slug, decision_id)
        if not 0 <= index < len(row.conditions):
            raise InvalidInput(f"Decision #{decision_id} has {len(row.conditions)} condition(s); "
                               f"there is no condition {index + 1}.", field="condition")
        conditions = [dict(c) for c in row.conditions]
        if conditions[index]["met_at"]:
            raise Conflict(f"Condition {index + 1} was already marked met by {conditions[index]['met_by']}.")
        conditions[index].update(met_by=actor.username, met_at=now.isoformat())
        row.conditions = conditions
        record(session, rt, actor, org.id, "decision.condition_met", "decision", decision_id,
               {"condition": conditions[index]["text"]})
        return _view(session, row, org, now)


def covers_for_project(session: Session, project_id: int) -> list[DecisionCover]:
    """What the project's decisions authorise, for the ratchet."""
    rows = session.scalars(select(DecisionRow).where(DecisionRow.project_id == project_id)
                           .order_by(DecisionRow.decided_at.desc())).all()
    return [DecisionCover(r.id, rules.Outcome(r.outcome), rules.steps_from_json(r.steps), r.expires_at,
                          sum(1 for c in r.conditions if not c.get("met_at"))) for r in rows]


# Exports -------------------------------------------------------------------------

def to_json(view: DecisionView) -> str:
    data = asdict(view)
    data["decided_at"] = view.decided_at.isoformat()
    data["expires_at"] = view.expires_at.isoformat()
    data["schema"] = "releasewise.decision/1"
    return json.dumps(data, indent=2, sort_keys=True, default=str)


def to_markdown(view: DecisionView) -> str:
    lines = [
        f"# Release decision #{view.id}: {view.project_name}",
        "",
        f"- **Organisation:** {view.org_name}",
        f"- **Outcome:** {view.outcome}",
        f"- **Assessment version:** {view.version} (scoring {view.scoring_version})",
        f"- **Decided:** {view.decided_at:%Y-%m-%d} by {view.decided_by}; valid until {view.expires_at:%Y-%m-%d}",
        f"- **Votes:** {view.tally.get('approve', 0)} approve, {view.tally.get('approve_with_conditions', 0)} "
        f"approve with conditions, {view.tally.get('reject', 0)} reject",
        "",
        "## Widening steps",
        *[f"- {s}" for s in view.steps],
        "",
        "## Conditions",
        *([f"- [{'x' if c.get('met_at') else ' '}] {c['text']}" for c in view.conditions] or ["- none"]),
        "",
        "## Rationale",
        view.rationale,
        "",
        "## Where reviewers disagree",
        "",
        "| dimension | stances (1 cautious – 5 open) | spread |",
        "|---|---|---|",
        *[f"| {d['label']} | {', '.join(f'{k}: {v}' for k, v in d['stances'].items()) or '—'} | "
          f"{d['spread']}{' ⚠ diverges' if d['diverges'] else ''} |" for d in view.disagreement],
        "",
    ]
    return "\n".join(lines)


def to_model_card(view: DecisionView) -> str:
    """A "Release considerations" section for the project's model card."""
    recs = view.profile.get("assets", [])
    lines = [
        "## Release considerations",
        "",
        f"This release followed a documented risk assessment (version {view.version}) and an expert review "
        f"recorded as decision #{view.id} ({view.outcome}, {view.decided_at:%B %Y}).",
        "",
        "**What was decided:** " + "; ".join(view.steps) + ".",
        "",
    ]
    if view.conditions:
        lines += ["**Conditions of release:**", *[f"- {c['text']}" for c in view.conditions], ""]
    lines += ["**Assessed misuse risk by audience** (widest tier within the lab's risk threshold):", ""]
    lines += [f"- {a['asset']}: up to `{a['recommended_tier']}`" for a in recs]
    diverging = [d["label"] for d in view.disagreement if d["diverges"]]
    if diverging:
        lines += ["", "Reviewers disagreed on: " + "; ".join(diverging) + "."]
    lines += ["", f"Rationale: {view.rationale}", ""]
    return "\n".join(lines)


# format → (media type, renderer, file extension), shared by the API and the web UI.
EXPORTS = {"markdown": ("text/markdown; charset=utf-8", to_markdown, "md"),
           "json": ("application/json", to_json, "json"),
           "model-card": ("text/markdown; charset=utf-8", to_model_card, "md")}
