"""Reviews and decisions (FRAMEWORK.md §5): votes, tallies, disagreements, expiry.

The decision record keeps where reviewers diverge instead of hiding it in a
single number: each reviewer takes a stance on the dimensions the paper says
polarise debate, and ``disagreements`` reports the spread on each.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from enum import Enum
from typing import Any

from releasewise.domain.tiers import Tier
from releasewise.errors import InvalidInput


class Vote(str, Enum):
    approve = "approve"
    approve_with_conditions = "approve_with_conditions"
    reject = "reject"


class Outcome(str, Enum):
    approved = "approved"
    rejected = "rejected"


# The dimensions of disagreement. Stances run from 1 (strongly favours caution)
# to 5 (strongly favours openness).
DIMENSIONS: dict[str, str] = {
    "misuse_risk": "How likely and severe misuse is",
    "counterfactual_impact": "Whether withholding changes anything",
    "value_of_openness": "Reproducibility, and defenders' need for access",
    "who_should_decide": "Who should decide: the lab, a community, regulators",
    "attention_effects": "Attention the release itself draws to the capability",
}
STANCE_LABELS = {1: "strongly cautious", 2: "cautious", 3: "neutral", 4: "open", 5: "strongly open"}
DIVERGENCE_SPREAD = 2  # stances this far apart are a disagreement worth showing


@dataclass(frozen=True)
class WideningStep:
    """One asset going to one tier: what a decision can authorise."""

    asset: str
    tier: Tier

    def label(self) -> str:
        return f"{self.asset} → {self.tier.value}"


def parse_steps(raw: Any, known_assets: set[str]) -> tuple[WideningStep, ...]:
    """Steps from ``[{"asset": ..., "tier": ...}]`` or ``["asset:tier"]``, validated."""
    if not isinstance(raw, Sequence) or isinstance(raw, str) or not raw:
        raise InvalidInput("Name at least one widening step (asset → tier) the review should decide.",
                           field="steps")
    steps: list[WideningStep] = []
    for item in raw:
        if isinstance(item, str) and ":" in item:
            asset, tier_name = item.split(":", 1)
        elif isinstance(item, Mapping):
            asset, tier_name = str(item.get("asset", "")), str(item.get("tier", ""))
        else:
            raise InvalidInput(f"Step {item!r} must be 'asset:tier' or {{asset, tier}}.", field="steps")
        asset = asset.strip()
        if asset not in known_assets:
            raise InvalidInput(f"Step '{asset}' is not an asset of this project.", field="steps")
        try:
            tier = Tier(tier_name.strip())
        except ValueError:
            raise InvalidInput(f"Step tier '{tier_name}' is not one of: {', '.join(t.value for t in Tier)}.",
                               field="steps") from None
        if tier == Tier.team:
            raise InvalidInput("'team' is where every asset starts; a step must widen beyond it.", field="steps")
        step = WideningStep(asset, tier)
        if step in steps:
            raise InvalidInput(f"Step {step.label()} is listed twice.", field="steps")
        steps.append(step)
    return tuple(steps)


def steps_to_json(steps: Sequence[WideningStep]) -> list[dict[str, str]]:
    return [{"asset": s.asset, "tier": s.tier.value} for s in steps]


def steps_from_json(raw: Sequence[Mapping[str, str]]) -> tuple[WideningStep, ...]:
    return tuple(WideningStep(s["asset"], Tier(s["tier"])) for s in raw)


@dataclass(frozen=True)
class Ballot:
    reviewer: str
    vote: Vote
    conditions: tuple[str, ...]
    stances: Mapping[str, int]


def validate_ballot(vote: str, conditions: Sequence[str], stances: Mapping[str, Any]) -> Ballot:
    try:
        parsed = Vote(vote)
    except ValueError:
        raise InvalidInput(f"Vote must be one of: {', '.join(v.value for v in Vote)}.", field="vote") from None
    cleaned = tuple(c.strip() for c in conditions if c and c.strip())
    if parsed is Vote.approve_with_conditions and not cleaned:
        raise InvalidInput("Approving with conditions needs at least one condition.", field="conditions")
    if parsed is not Vote.approve_with_conditions and cleaned:
        raise InvalidInput("Only 'approve_with_conditions' votes carry conditions.", field="conditions")
    if any(len(c) > 1000 for c in cleaned):
        raise InvalidInput("Each condition must be at most 1000 characters.", field="conditions")
    unknown = sorted(set(stances) - set(DIMENSIONS))
    if unknown:
        raise InvalidInput(f"Unknown dimension(s): {', '.join(unknown)}.", field="stances")
    missing = [d for d in DIMENSIONS if d not in stances]
    if missing:
        raise InvalidInput(f"Take a stance (1–5) on every dimension; missing: {', '.join(missing)}.", field="stances")
    parsed_stances: dict[str, int] = {}
    for dim, value in stances.items():
        try:
            number = int(value)
        except (TypeError, ValueError):
            number = 0
        if isinstance(value, bool) or not 1 <= number <= 5:
            raise InvalidInput(f"Stance on '{dim}' must be a whole number from 1 to 5.", field="stances")
        parsed_stances[dim] = number
    return Ballot("", parsed, cleaned, parsed_stances)


@dataclass(frozen=True)
class Tally:
    approve: int
    approve_with_conditions: int
    reject: int

    @property
    def total(self) -> int:
        return self.approve + self.approve_with_conditions + self.reject


def tally(ballots: Sequence[Ballot]) -> Tally:
    return Tally(sum(b.vote is Vote.approve for b in ballots),
                 sum(b.vote is Vote.approve_with_conditions for b in ballots),
                 sum(b.vote is Vote.reject for b in ballots))


def outcome(result: Tally) -> Outcome:
    """Approved only with more approvals (with or without conditions) than rejections.

    A tie is a rejection: when experts split evenly, the cautious path wins
    and the lab can revise and ask again.
    """
    if result.total == 0:
        raise InvalidInput("No reviewer has voted yet; a decision needs at least one vote.")
    approvals = result.approve + result.approve_with_conditions
    return Outcome.approved if approvals > result.reject else Outcome.rejected


@dataclass(frozen=True)
class Divergence:
    dimension: str
    label: str
    stances: Mapping[str, int]
    spread: int
    diverges: bool


def disagreements(ballots: Sequence[Ballot]) -> tuple[Divergence, ...]:
    """Per dimension: every reviewer's stance and how far apart they are."""
    result = []
    for dim, label in DIMENSIONS.items():
        stances = {b.reviewer: b.stances[dim] for b in ballots if dim in b.stances}
        spread = (max(stances.values()) - min(stances.values())) if stances else 0
        result.append(Divergence(dim, label, stances, spread, spread >= DIVERGENCE_SPREAD))
    return tuple(result)


def combined_conditions(ballots: Sequence[Ballot], extra: Sequence[str] = ()) -> tuple[str, ...]:
    """Every distinct condition, in the order first stated."""
    seen: list[str] = []
    for text in [c for b in ballots for c in b.conditions] + [c.strip() for c in extra if c.strip()]:
        if text not in seen:
            seen.append(text)
    return tuple(seen)
