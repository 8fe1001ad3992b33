"""Publishing decision records to the instance's precedent library, and withdrawing them (FRAMEWORK.md §6–7).

A lead publishes one decision: the service takes a *redacted snapshot* (the rules in
``domain/precedents.py``: the same as the public release page — no reviewer identities or stances, no
drafts, scenarios or assessment prose, no grantees or disclosure details) and stores it with search tags.
The snapshot does not follow later edits; publishing again replaces it explicitly (audited). Reading and
searching the library is in ``precedent_search.py``.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import delete, func, select
from sqlalchemy.orm import Session

from releasewise.domain import decisions as decision_rules
from releasewise.domain import precedents as rules
from releasewise.domain.roles import Action
from releasewise.errors import Conflict, NotFound
from releasewise.services.audit import record
from releasewise.services.authz import authorize
from releasewise.services.runtime import Actor, Runtime
from releasewise.store.models import Asset, Organization, Project
from releasewise.store.models_access import AccessAgreement
from releasewise.store.models_assessment import DecisionRow
from releasewise.store.models_disclosure import DisclosureCase
from releasewise.store.models_plans import PlanStage, ReleasePlan
from releasewise.store.models_precedents import Precedent, PrecedentTag


@dataclass(frozen=True)
class Publication:
    """Where one decision stands in the library, with what publishing it now would show (for leads)."""

    org_slug: str
    decision_id: int
    project_name: str
    state: str  # unpublished | published | withdrawn
    precedent_id: int | None
    published_at: datetime | None
    withdrawn_at: datetime | None
    options: tuple[str, ...]  # as published, or the suggestion when never published
    suggested_options: tuple[str, ...]
    note: str
    preview: dict[str, Any]  # the record publishing now would store


def _load_decision(session: Session, org: Organization, decision_id: int) -> DecisionRow:
    row = session.scalars(select(DecisionRow).where(DecisionRow.id == decision_id,
                                                    DecisionRow.org_id == org.id)).first()
    if row is None:
        raise NotFound(f"No decision #{decision_id} in {org.name}.")
    return row


def _facts(session: Session, project: Project, decision: DecisionRow, assets: Sequence[Asset]) -> rules.ProjectFacts:
    """What the stored project shows about the release options it used (only public or harmless facts)."""
    plan = session.scalars(select(ReleasePlan).where(ReleasePlan.project_id == project.id)).first()
    stages = session.scalars(select(PlanStage).where(PlanStage.plan_id == plan.id)).all() if plan else []
    last = max((s.earliest_at for s in stages), default=decision.decided_at)
    published = session.scalar(select(func.count(DisclosureCase.id)).where(
        DisclosureCase.project_id == project.id, DisclosureCase.status == "published")) or 0
    agreement = session.scalar(select(AccessAgreement.id).where(AccessAgreement.project_id == project.id).limit(1))
    return rules.ProjectFacts(
        tuple(rules.AssetFacts(a.slug, a.name, a.kind, a.current_tier, a.high_water_tier) for a in assets),
        {s.asset: s.tier.value for s in decision_rules.steps_from_json(decision.steps)},
        len(stages), max(0, (last - decision.decided_at).days), int(published), agreement is not None)


def _snapshot(org: Organization, project: Project, decision: DecisionRow, assets: Sequence[Asset],
              options: Sequence[str], note: str) -> dict[str, Any]:
    """The redacted record. Everything in it is shown to anyone; add fields here only if they may be."""
    hazards = rules.hazards_by_asset(decision.version.document)
    decided = {s.asset: s.tier.value for s in decision_rules.steps_from_json(decision.steps)}
    return {
        "schema": rules.RECORD_SCHEMA,
        "org": {"slug": org.slug, "name": org.name},
        "project": {"slug": project.slug, "name": project.name, "description": project.description,
                    "modality": project.modality},
        "decision": {
            "id": decision.id, "outcome": decision.outcome,
            "decided_at": decision.decided_at.isoformat(), "expires_at": decision.expires_at.isoformat(),
            "assessment_version": decision.version.number,
            "steps": [{"asset": s.asset, "tier": s.tier.value, "label": s.label()}
                      for s in decision_rules.steps_from_json(decision.steps)],
            "conditions": [str(c["text"]) for c in decision.conditions],  # not who met them, nor when
            "rationale": decision.rationale,
            "votes": rules.vote_counts(decision.tally),
            "disagreements": rules.redact_disagreements(decision.disagreement),
        },
        "assets": [{"slug": a.slug, "name": a.name, "kind": a.kind, "hazards": hazards.get(a.slug, []),
                    "decided_tier": decided.get(a.slug), "tier_at_publication": a.current_tier,
                    "widest_tier_at_publication": a.high_water_tier} for a in assets],
        "hazards": sorted({h for hs in hazards.values() for h in hs}),
        "options": list(options),
        "note": note,
    }


def _gather(session: Session, org: Organization, decision_id: int) -> tuple[DecisionRow, Project, list[Asset]]:
    decision = _load_decision(session, org, decision_id)
    project = session.get(Project, decision.project_id)
    if project is None:  # pragma: no cover - decisions cascade with their project
        raise NotFound(f"No decision #{decision_id} in {org.name}.")
    assets = list(session.scalars(select(Asset).where(Asset.project_id == project.id).order_by(Asset.id)))
    return decision, project, assets


def _existing(session: Session, decision_id: int) -> Precedent | None:
    return session.scalars(select(Precedent).where(Precedent.decision_id == decision_id)).first()


def publication(rt: Runtime, actor: Actor, org_slug: str, decision_id: int) -> Publication:
    """The decision's place in the library and a preview; members who may view decisions may see it."""
    with rt.read() as session:
        org, _ = authorize(session, actor, org_slug, Action.decision_view)
        decision, project, assets = _gather(session, org, decision_id)
        suggested = rules.suggest_options(_facts(session, project, decision, assets))
        existing = _existing(session, decision_id)
        if existing is None:
            options, note, state = suggested, "", "unpublished"
        else:
            options = tuple(existing.record.get("options", []))
            note = str(existing.record.get("note", ""))
            state = "withdrawn" if existing.withdrawn_at else "published"
        return Publication(org.slug, decision.id, project.name, state, existing.id if existing else None,
                           existing.published_at if existing else None, existing.withdrawn_at if existing else None,
                           options, suggested, note, _snapshot(org, project, decision, assets, options, note))


def publish(rt: Runtime, actor: Actor, org_slug: str, decision_id: int, *, options: Sequence[str] | None = None,
            note: str = "") -> int:
    """Publish (or re-publish, replacing the snapshot) one decision; returns the precedent's id.

    ``options`` are the release options the lab used; None takes the suggestion from the stored facts.
    Invalid input raises before anything is written.
    """
    chosen = None if options is None else rules.parse_options(options)
    cleaned_note = rules.clean_note(note)
    now = rt.clock.now()
    with rt.write() as session:
        org, _ = authorize(session, actor, org_slug, Action.precedent_publish)
        decision, project, assets = _gather(session, org, decision_id)
        if chosen is None:
            chosen = rules.suggest_options(_facts(session, project, decision, assets))
        snapshot = _snapshot(org, project, decision, assets, chosen, cleaned_note)
        row = _existing(session, decision_id)
        event = "precedent.published"
        if row is None:
            row = Precedent(org_id=org.id, project_id=project.id, decision_id=decision.id, decided_at=decision.decided_at,
                            published_by_id=actor.user_id)
            session.add(row)
        else:
            event = "precedent.republished"
            session.execute(delete(PrecedentTag).where(PrecedentTag.precedent_id == row.id))
        row.record, row.search_text = snapshot, rules.search_text(snapshot)
        row.published_at, row.published_by_id, row.withdrawn_at = now, actor.user_id, None
        session.flush()
        for kind, value in sorted(rules.tags(snapshot)):
            session.add(PrecedentTag(precedent_id=row.id, kind=kind, value=value))
        record(session, rt, actor, org.id, event, "decision", decision.id,
               {"precedent": row.id, "project": project.slug, "options": list(chosen)})
        return row.id


def withdraw(rt: Runtime, actor: Actor, org_slug: str, decision_id: int) -> int:
    """Take a published record out of the library (it stays in the audit trail); returns the precedent's id."""
    now = rt.clock.now()
    with rt.write() as session:
        org, _ = authorize(session, actor, org_slug, Action.precedent_publish)
        decision = _load_decision(session, org, decision_id)
        row = _existing(session, decision.id)
        if row is None:
            raise NotFound(f"Decision #{decision_id} was never published to the precedent library.")
        if row.withdrawn_at is not None:
            raise Conflict(f"Decision #{decision_id} was already withdrawn from the precedent library "
                           f"on {row.withdrawn_at:%Y-%m-%d}.")
        row.withdrawn_at = now
        record(session, rt, actor, org.id, "precedent.withdrawn", "decision", decision.id, {"precedent": row.id})
        return row.id
