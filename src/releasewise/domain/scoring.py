"""Risk scoring: deterministic, transparent, versioned decision support.

Not an oracle. Every number comes with the factors and weights that produced
it (``Explanation``), the same input always gives the same output, and the
``SCORING_VERSION`` is stored with every result so old results stay readable
after the model changes.

The model, in words:

- A scenario's **likelihood** is the weighted mean of its awareness,
  deployment and sustained-use scores; its **magnitude** the weighted mean of
  severity, scale and reversibility; both mapped from 1–5 onto 0–1. Its
  **base risk** is likelihood × magnitude (0–1).
- Releasing an asset to a tier gives the scenario's actor some **access**
  (0 at ``team`` … 1 at ``public``; narrower tiers mostly keep out low-skill
  actors, who depend most on a ready-made product).
- **Modifiers** only ever lower risk: a comparable capability already public
  (or soon) means withholding prevents less (counterfactual), and ready
  defenses (detection, platform policy, law) blunt the harm.
- The **risk of an asset at a tier** sums, over the scenarios the asset
  enables, base risk × access × hazard relevance × modifiers (expected harm
  on a 0–1-per-scenario scale; not capped, so it stays monotone). The **marginal
  risk** of widening one step is the increase from the tier below.
- The **recommendation** for an asset is the widest tier whose every step
  stays under the organisation's marginal-risk threshold, with the release
  options (safeguards) that would lower the risk of the step that is refused.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from releasewise.domain.assessment import (
    LIKELIHOOD_FACTORS,
    MAGNITUDE_FACTORS,
    ActorSkill,
    Assessment,
    Counterfactual,
    Scenario,
)
from releasewise.domain.tiers import Hazard, Tier
from releasewise.errors import InvalidInput

SCORING_VERSION = "2026.11-1"

TIERS = list(Tier)

# How much of a tier's audience each kind of actor can reach (0–1). Well-resourced
# groups get into narrow tiers more easily (partners, insiders), so their access
# rises earlier; casual misusers only reach what is registered or public.
DEFAULT_ACCESS: dict[str, dict[str, float]] = {
    ActorSkill.no_technical_skill.value: {"team": 0.0, "reviewers": 0.0, "trusted_partners": 0.0,
                                          "vetted_researchers": 0.05, "registered": 0.6, "public": 1.0},
    ActorSkill.some_programming.value: {"team": 0.0, "reviewers": 0.0, "trusted_partners": 0.02,
                                        "vetted_researchers": 0.1, "registered": 0.7, "public": 1.0},
    ActorSkill.ml_expertise.value: {"team": 0.0, "reviewers": 0.01, "trusted_partners": 0.05,
                                    "vetted_researchers": 0.25, "registered": 0.8, "public": 1.0},
    ActorSkill.well_resourced_group.value: {"team": 0.0, "reviewers": 0.02, "trusted_partners": 0.1,
                                            "vetted_researchers": 0.35, "registered": 0.9, "public": 1.0},
}

# How much each hazard of an enabling asset matters to each kind of actor (0–1).
HAZARD_RELEVANCE: dict[str, dict[str, float]] = {
    Hazard.product.value: {"no_technical_skill": 1.0, "some_programming": 1.0, "ml_expertise": 0.8,
                           "well_resourced_group": 0.6},
    Hazard.data.value: {"no_technical_skill": 0.1, "some_programming": 0.4, "ml_expertise": 0.9,
                        "well_resourced_group": 1.0},
    Hazard.attention.value: {"no_technical_skill": 0.3, "some_programming": 0.3, "ml_expertise": 0.3,
                             "well_resourced_group": 0.4},
}

COUNTERFACTUAL_FACTOR = {Counterfactual.public: 0.3, Counterfactual.soon: 0.6, Counterfactual.not_available: 1.0}


@dataclass(frozen=True)
class ScoringSettings:
    """What an organisation may tune; validated so a typo cannot silence the model."""

    likelihood_weights: Mapping[str, float] = field(
        default_factory=lambda: {"awareness": 1.0, "deployment": 1.5, "sustained_use": 1.0})
    magnitude_weights: Mapping[str, float] = field(
        default_factory=lambda: {"severity": 1.5, "scale": 1.0, "reversibility": 1.0})
    max_marginal_risk: float = 0.15
    defenses_strength: float = 0.5  # at defenses 5/5, risk is multiplied by 1 - this

    def to_dict(self) -> dict[str, Any]:
        return {"likelihood_weights": dict(self.likelihood_weights),
                "magnitude_weights": dict(self.magnitude_weights),
                "max_marginal_risk": self.max_marginal_risk, "defenses_strength": self.defenses_strength}

    @classmethod
    def from_dict(cls, data: Mapping[str, Any] | None) -> ScoringSettings:
        """Validate organisation settings; unknown or out-of-range values are refused with the reason."""
        defaults = cls()
        if not data:
            return defaults
        unknown = sorted(set(data) - set(defaults.to_dict()))
        if unknown:
            raise InvalidInput(f"Unknown scoring settings: {', '.join(unknown)}.", field=unknown[0])

        def weights(key: str, factors: tuple[str, ...], default: Mapping[str, float]) -> dict[str, float]:
            raw = data.get(key, default)
            if not isinstance(raw, Mapping) or set(raw) != set(factors):
                raise InvalidInput(f"{key} must give a weight for each of: {', '.join(factors)}.", field=key)
            out: dict[str, float] = {}
            for factor in factors:
                value = raw[factor]
                if isinstance(value, bool) or not isinstance(value, int | float) or not 0 <= value <= 10:
                    raise InvalidInput(f"{key}.{factor} must be a number from 0 to 10.", field=key)
                out[factor] = float(value)
            if sum(out.values()) <= 0:
                raise InvalidInput(f"At least one of {key} must be above 0.", field=key)
            return out

        threshold = data.get("max_marginal_risk", defaults.max_marginal_risk)
        if isinstance(threshold, bool) or not isinstance(threshold, int | float) or not 0 < threshold <= 1:
            raise InvalidInput("max_marginal_risk must be a number above 0 and at most 1.",
                               field="max_marginal_risk")
        strength = data.get("defenses_strength", defaults.defenses_strength)
        if isinstance(strength, bool) or not isinstance(strength, int | float) or not 0 <= strength < 1:
            raise InvalidInput("defenses_strength must be a number from 0 to below 1.", field="defenses_strength")
        return cls(weights("likelihood_weights", LIKELIHOOD_FACTORS, defaults.likelihood_weights),
                   weights("magnitude_weights", MAGNITUDE_FACTORS, defaults.magnitude_weights),
                   float(threshold), float(strength))


def _unit(score: int) -> float:
    """Map a 1–5 score onto 0–1."""
    return (score - 1) / 4


def _weighted(scenario: Scenario, weights: Mapping[str, float]) -> float:
    total = sum(weights.values())
    return sum(_unit(scenario.score(f)) * w for f, w in weights.items()) / total


@dataclass(frozen=True)
class ScenarioRisk:
    scenario_id: str
    title: str
    likelihood: float
    magnitude: float
    base_risk: float
    explanation: str


@dataclass(frozen=True)
class TierRisk:
    tier: str
    risk: float
    marginal: float
    within_threshold: bool
    contributions: Mapping[str, float]  # scenario id → risk contributed at this tier


@dataclass(frozen=True)
class Safeguard:
    option: str
    why: str


@dataclass(frozen=True)
class AssetRecommendation:
    asset: str
    hazards: tuple[str, ...]
    tiers: tuple[TierRisk, ...]
    recommended_tier: str
    blocked_by: str | None  # the scenario contributing most to the first refused step
    safeguards: tuple[Safeguard, ...]


@dataclass(frozen=True)
class RiskProfile:
    scoring_version: str
    settings: Mapping[str, Any]
    modifiers: Mapping[str, float]
    scenarios: tuple[ScenarioRisk, ...]
    assets: tuple[AssetRecommendation, ...]
    benefits: Mapping[str, int]


def modifiers(assessment: Assessment, settings: ScoringSettings) -> dict[str, float]:
    defenses = 1 - settings.defenses_strength * _unit(assessment.defenses.value)
    counterfactual = COUNTERFACTUAL_FACTOR[assessment.counterfactual]
    return {"counterfactual": counterfactual, "defenses": defenses, "combined": counterfactual * defenses}


def scenario_risk(scenario: Scenario, settings: ScoringSettings) -> ScenarioRisk:
    likelihood = _weighted(scenario, settings.likelihood_weights)
    magnitude = _weighted(scenario, settings.magnitude_weights)
    parts = ", ".join(f"{f} {scenario.score(f)}×{settings.likelihood_weights[f]:g}" for f in LIKELIHOOD_FACTORS)
    mparts = ", ".join(f"{f} {scenario.score(f)}×{settings.magnitude_weights[f]:g}" for f in MAGNITUDE_FACTORS)
    explanation = (f"likelihood {likelihood:.2f} = weighted mean of ({parts}) on 0–1; "
                   f"magnitude {magnitude:.2f} = weighted mean of ({mparts}); "
                   f"base risk {likelihood * magnitude:.3f} = likelihood × magnitude")
    return ScenarioRisk(scenario.id, scenario.title, likelihood, magnitude, likelihood * magnitude, explanation)


def hazard_relevance(hazards: tuple[Hazard, ...], actor: ActorSkill) -> float:
    """The most relevant hazard the asset carries for this actor (0 when it carries none)."""
    return max((HAZARD_RELEVANCE[h.value][actor.value] for h in hazards), default=0.0)


def _safeguards(assessment: Assessment, asset: str, hazards: tuple[Hazard, ...],
                driver: Scenario | None) -> tuple[Safeguard, ...]:
    if driver is None:
        return ()
    options: list[Safeguard] = []
    if Hazard.product in hazards:
        options.append(Safeguard("structured_access",
                                 "Offer the capability through an API with rate limits and monitoring instead of "
                                 "releasing the artifact: product hazard for low-skill actors drops to what the API allows."))
        options.append(Safeguard("use_restricted_terms",
                                 "Release under an agreement with use restrictions and consent requirements, "
                                 "to vetted researchers first."))
    if Hazard.data in hazards:
        options.append(Safeguard("partial_release",
                                 "Withhold the parts that make reproduction easy (training recipe, data pipeline)."))
    if assessment.defenses.value <= 3:
        options.append(Safeguard("detector_first",
                                 f"Defenses are rated {assessment.defenses.value}/5: share a detector with platforms "
                                 "before the generator, raising defense readiness."))
        options.append(Safeguard("provenance_on_outputs",
                                 "Watermark generated media and attach signed content credentials."))
    if driver.score("awareness") >= 3 or Hazard.attention in hazards:
        options.append(Safeguard("coordinated_disclosure",
                                 "Brief platforms and detection researchers under embargo before wider release."))
    options.append(Safeguard("staged_release",
                             "Release a less capable variant first and review real-world misuse before the next stage."))
    return tuple(options)


def score_assessment(assessment: Assessment, settings: ScoringSettings | None = None) -> RiskProfile:
    """The full risk profile. Pure and deterministic: same input, same output."""
    settings = settings or ScoringSettings()
    mods = modifiers(assessment, settings)
    scenario_risks = {s.id: scenario_risk(s, settings) for s in assessment.scenarios}
    asset_names = [a.asset for a in assessment.assets]
    for s in assessment.scenarios:
        asset_names.extend(x for x in s.enabling_assets if x not in asset_names)

    recommendations: list[AssetRecommendation] = []
    for asset in asset_names:
        hazards = assessment.hazards_of(asset)
        enabled = [s for s in assessment.scenarios if asset in s.enabling_assets]
        tiers: list[TierRisk] = []
        previous: dict[str, float] = {s.id: 0.0 for s in enabled}
        recommended = Tier.team.value
        blocked_by: str | None = None
        blocked = False
        for tier in TIERS:
            contributions = {
                s.id: scenario_risks[s.id].base_risk * DEFAULT_ACCESS[s.actor.value][tier.value]
                * hazard_relevance(hazards, s.actor) * mods["combined"]
                for s in enabled
            }
            # No cap at 1: a cap would make a riskier lower tier hide the next step's increase.
            risk = sum(contributions.values())
            marginal = sum(contributions[k] - previous[k] for k in contributions)
            within = marginal <= settings.max_marginal_risk
            if not within and not blocked:
                blocked = True
                blocked_by = max(contributions, key=lambda k: (contributions[k] - previous[k], k))
            if not blocked:
                recommended = tier.value
            tiers.append(TierRisk(tier.value, round(risk, 6), round(marginal, 6), within,
                                  {k: round(v, 6) for k, v in contributions.items()}))
            previous = contributions
        driver = next((s for s in enabled if s.id == blocked_by), None)
        recommendations.append(AssetRecommendation(asset, tuple(h.value for h in hazards), tuple(tiers), recommended,
                                                    blocked_by, _safeguards(assessment, asset, hazards, driver)))
    return RiskProfile(
        SCORING_VERSION,
        settings.to_dict(),
        {k: round(v, 6) for k, v in mods.items()},
        tuple(scenario_risks.values()),
        tuple(recommendations),
        {k: v.value for k, v in assessment.benefits.items()},
    )


def profile_to_dict(profile: RiskProfile) -> dict[str, Any]:
    """JSON form stored with each submitted version."""
    from dataclasses import asdict

    return asdict(profile)
