"""Moving an asset between audience tiers, under the access ratchet (FRAMEWORK.md §2).

This is the one service that changes ``current_tier``; the release-plan engine
will call it for each widening step of a stage that opens.
"""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from releasewise.domain.ratchet import covering_decision, plan_change
from releasewise.domain.roles import Action
from releasewise.domain.tiers import Tier
from releasewise.domain.validation import clean_text
from releasewise.errors import InvalidInput, NotFound
from releasewise.services.audit import record
from releasewise.services.authz import authorize
from releasewise.services.decisions import covers_for_project
from releasewise.services.projects import load_project
from releasewise.services.runtime import Actor, Runtime
from releasewise.services.views import AssetView
from releasewise.store.models import Asset, Project


def parse_tier(value: str) -> Tier:
    try:
        return Tier((value or "").strip())
    except ValueError:
        raise InvalidInput(f"Unknown tier '{value}'. Tiers, narrowest first: "
                           f"{', '.join(t.value for t in Tier)}.", field="tier") from None


def set_asset_tier(rt: Runtime, actor: Actor, org_slug: str, project_slug: str, asset_slug: str, tier: str, *,
                   reason: str) -> AssetView:
    """Widen (needs a covering decision) or narrow (always allowed) an asset's audience.

    ``high_water_tier`` never decreases: narrowing stops future access only.
    """
    target = parse_tier(tier)
    reason = clean_text(reason, "Reason", max_length=2000)
    with rt.write() as session:
        org, _ = authorize(session, actor, org_slug, Action.asset_set_tier)
        project = load_project(session, org, project_slug)
        asset = apply_tier_change(session, rt, actor, org.id, project, asset_slug, target, reason=reason)
        return AssetView.of(asset, org.slug, project.slug)


def apply_tier_change(session: Session, rt: Runtime, actor: Actor | None, org_id: int, project: Project,
                      asset_slug: str, target: Tier, *, reason: str, context: dict[str, object] | None = None) -> Asset:
    """The ratchet, inside the caller's transaction (the plan engine opens whole stages in one).

    ``actor`` None means the system acting on a signed-off plan.
    """
    asset = session.scalars(select(Asset).where(Asset.project_id == project.id,
                                                Asset.slug == asset_slug)).first()
    if asset is None:
        raise NotFound(f"No asset '{asset_slug}' in {project.name}.")
    change = plan_change(Tier(asset.current_tier), Tier(asset.high_water_tier), target)
    summary: dict[str, object] = {"before": change.before.value, "after": change.after.value,
                                  "high_water": change.high_water_after.value, "reason": reason, **(context or {})}
    if change.widens:
        decision = covering_decision(asset.slug, target, covers_for_project(session, project.id), rt.clock.now())
        summary["decision"] = decision.decision_id
    asset.current_tier = change.after.value
    asset.high_water_tier = change.high_water_after.value
    action = "asset.tier_widened" if change.widens else "asset.tier_narrowed"
    record(session, rt, actor, org_id, action, "asset", f"{project.slug}/{asset.slug}", summary)
    return asset
