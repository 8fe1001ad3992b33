"""The access ratchet (FRAMEWORK.md §2).

Widening is irreversible: once an asset reached an audience, copies exist. So
``high_water_tier`` never decreases, every widening step needs a decision that
covers it, and narrowing is always allowed but only stops future access.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

from releasewise.domain.decisions import Outcome, WideningStep
from releasewise.domain.tiers import Tier
from releasewise.errors import Conflict, PermissionDenied


@dataclass(frozen=True)
class TierChange:
    before: Tier
    after: Tier
    high_water_before: Tier
    high_water_after: Tier

    @property
    def widens(self) -> bool:
        return self.after.wider_than(self.before)

    @property
    def narrows(self) -> bool:
        return self.before.wider_than(self.after)

    @property
    def raises_exposure(self) -> bool:
        return self.high_water_after != self.high_water_before


@dataclass(frozen=True)
class DecisionCover:
    """What a stored decision authorises, as the ratchet needs to see it."""

    decision_id: int
    outcome: Outcome
    steps: tuple[WideningStep, ...]
    expires_at: datetime
    open_conditions: int


def plan_change(current: Tier, high_water: Tier, target: Tier) -> TierChange:
    if current == target:
        raise Conflict(f"The asset is already at tier '{target.value}'.")
    new_high = target if target.wider_than(high_water) else high_water
    return TierChange(current, target, high_water, new_high)


def covering_decision(asset: str, target: Tier, decisions: Iterable[DecisionCover], now: datetime) -> DecisionCover:
    """The decision that allows widening ``asset`` to ``target`` now, or PermissionDenied saying why not.

    A decision covers a step when it was approved, has not expired, names the
    asset at that tier (or wider), and every condition it set is marked met.
    """
    reasons: list[str] = []
    for decision in decisions:
        step = next((s for s in decision.steps if s.asset == asset and not target.wider_than(s.tier)), None)
        if step is None:
            continue
        if decision.outcome is not Outcome.approved:
            reasons.append(f"decision #{decision.decision_id} rejected it")
        elif decision.expires_at <= now:
            reasons.append(f"decision #{decision.decision_id} expired on {decision.expires_at:%Y-%m-%d}")
        elif decision.open_conditions:
            reasons.append(f"decision #{decision.decision_id} has {decision.open_conditions} condition(s) not yet met")
        else:
            return decision
    detail = "; ".join(reasons) if reasons else "no decision names this step"
    raise PermissionDenied(
        f"Widening {asset} to '{target.value}' needs an approved, unexpired decision covering it ({detail}). "
        "Request a review of the assessment and record a decision first."
    )
