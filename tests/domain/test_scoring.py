"""Property tests of the risk model: monotone, modifiers never raise risk, deterministic."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from releasewise.domain.assessment import (
    SCORED_FACTORS,
    ActorSkill,
    Assessment,
    Counterfactual,
    MisuseGoal,
    Scenario,
    Score,
    AssetHazards,
    parse_assessment,
)
from releasewise.domain.scoring import SCORING_VERSION, ScoringSettings, score_assessment
from releasewise.domain.tiers import Hazard, Tier
from releasewise.errors import InvalidInput

ASSETS = ["weights", "code", "paper"]
scores = st.integers(min_value=1, max_value=5)


@st.composite
def scenarios(draw: Any, index: int = 0) -> Scenario:
    return Scenario(
        id=f"s{index}",
        title=f"scenario {index}",
        actor=draw(st.sampled_from(list(ActorSkill))),
        goal=draw(st.sampled_from(list(MisuseGoal))),
        enabling_assets=tuple(draw(st.lists(st.sampled_from(ASSETS), min_size=1, max_size=3, unique=True))),
        scores={f: Score(draw(scores), "because") for f in SCORED_FACTORS},
    )


@st.composite
def assessments(draw: Any) -> Assessment:
    count = draw(st.integers(min_value=1, max_value=4))
    return Assessment(
        summary="s",
        assets=tuple(AssetHazards(a, tuple(draw(st.lists(st.sampled_from(list(Hazard)), max_size=3, unique=True))))
                     for a in ASSETS),
        scenarios=tuple(draw(scenarios(i)) for i in range(count)),
        counterfactual=draw(st.sampled_from(list(Counterfactual))),
        counterfactual_rationale="r",
        defenses=Score(draw(scores), "r"),
        benefits={"scientific": Score(3, "r"), "defensive": Score(3, "r"), "societal": Score(3, "r")},
    )


def risks(assessment: Assessment) -> dict[tuple[str, str], float]:
    profile = score_assessment(assessment)
    return {(a.asset, t.tier): t.risk for a in profile.assets for t in a.tiers}


def recommended(assessment: Assessment) -> dict[str, int]:
    order = [t.value for t in Tier]
    return {a.asset: order.index(a.recommended_tier) for a in score_assessment(assessment).assets}


def bump(assessment: Assessment, index: int, factor: str) -> Assessment:
    scenario = assessment.scenarios[index]
    old = scenario.scores[factor]
    new_scores = {**scenario.scores, factor: Score(min(5, old.value + 1), old.rationale)}
    updated = list(assessment.scenarios)
    updated[index] = replace(scenario, scores=new_scores)
    return replace(assessment, scenarios=tuple(updated))


@settings(max_examples=150, deadline=None)
@given(assessments(), st.data())
def test_raising_any_risk_factor_never_lowers_risk_or_widens_the_recommendation(a: Assessment,
                                                                              data: st.DataObject) -> None:
    index = data.draw(st.integers(min_value=0, max_value=len(a.scenarios) - 1))
    factor = data.draw(st.sampled_from(SCORED_FACTORS))
    before, after = risks(a), risks(bump(a, index, factor))
    assert all(after[k] >= before[k] - 1e-9 for k in before)
    rec_before, rec_after = recommended(a), recommended(bump(a, index, factor))
    assert all(rec_after[k] <= rec_before[k] for k in rec_before)


@settings(max_examples=100, deadline=None)
@given(assessments())
def test_more_counterfactual_availability_never_raises_risk(a: Assessment) -> None:
    levels = [Counterfactual.not_available, Counterfactual.soon, Counterfactual.public]
    results = [risks(replace(a, counterfactual=level)) for level in levels]
    for wider, narrower in zip(results[1:], results[:-1]):
        assert all(wider[k] <= narrower[k] + 1e-9 for k in wider)


@settings(max_examples=100, deadline=None)
@given(assessments(), scores)
def test_better_defenses_never_raise_risk(a: Assessment, level: int) -> None:
    better = replace(a, defenses=Score(min(5, level + 1), "r"))
    worse = replace(a, defenses=Score(level, "r"))
    b, w = risks(better), risks(worse)
    assert all(b[k] <= w[k] + 1e-9 for k in b)


@settings(max_examples=50, deadline=None)
@given(assessments())
def test_deterministic_and_risk_grows_with_the_audience(a: Assessment) -> None:
    first, second = score_assessment(a), score_assessment(a)
    assert first == second and first.scoring_version == SCORING_VERSION
    for asset in first.assets:
        values = [t.risk for t in asset.tiers]
        assert values == sorted(values) and values[0] == 0
        assert all(t.marginal >= 0 for t in asset.tiers)


def test_recommendation_stops_at_the_first_step_over_the_threshold() -> None:
    doc = example_document()
    profile = score_assessment(parse_assessment(doc), ScoringSettings(max_marginal_risk=0.05))
    weights = next(a for a in profile.assets if a.asset == "weights")
    steps = {t.tier: t for t in weights.tiers}
    order = [t.value for t in Tier]
    rec = order.index(weights.recommended_tier)
    assert all(steps[t].within_threshold for t in order[: rec + 1])
    assert not steps[order[rec + 1]].within_threshold
    assert weights.blocked_by == "ceo-fraud"
    assert {"structured_access", "detector_first"} <= {s.option for s in weights.safeguards}
    # The paper only carries attention hazard, which matters less to this actor than the product.
    paper = next(a for a in profile.assets if a.asset == "paper")
    assert 0 < paper.tiers[-1].risk < weights.tiers[-1].risk


def test_scenario_explanation_names_factors_and_weights() -> None:
    profile = score_assessment(parse_assessment(example_document()))
    text = profile.scenarios[0].explanation
    assert "deployment 5×1.5" in text and "severity 4×1.5" in text and "base risk" in text


@pytest.mark.parametrize("bad,message", [
    ({"max_marginal_risk": 0}, "above 0"),
    ({"max_marginal_risk": "high"}, "above 0"),
    ({"defenses_strength": 1}, "below 1"),
    ({"likelihood_weights": {"awareness": 1}}, "each of"),
    ({"likelihood_weights": {"awareness": -1, "deployment": 1, "sustained_use": 1}}, "0 to 10"),
    ({"likelihood_weights": {"awareness": 0, "deployment": 0, "sustained_use": 0}}, "above 0"),
    ({"threshold": 0.2}, "Unknown scoring settings"),
])
def test_bad_settings_are_refused(bad: dict[str, Any], message: str) -> None:
    with pytest.raises(InvalidInput, match=message):
        ScoringSettings.from_dict(bad)


def test_settings_round_trip() -> None:
    tuned = ScoringSettings(max_marginal_risk=0.3)
    assert ScoringSettings.from_dict(tuned.to_dict()) == tuned


def example_document() -> dict[str, Any]:
    def sc(v: int) -> dict[str, Any]:
        return {"score": v, "rationale": "estimated by the team"}

    return {
        "summary": "Zero-shot voice cloning",
        "assets": {"weights": {"hazards": ["product"]}, "paper": {"hazards": ["attention"]}},
        "scenarios": [{
            "id": "ceo-fraud", "title": "Cloned executive voice authorises a wire transfer",
            "actor": "some_programming", "goal": "fraud", "enabling_assets": ["weights", "paper"],
            "scores": {"awareness": sc(4), "deployment": sc(5), "sustained_use": sc(3), "severity": sc(4),
                       "scale": sc(3), "reversibility": sc(4)},
        }],
        "counterfactual": {"availability": "soon", "rationale": "open clones trail by a year"},
        "defenses": sc(2),
        "benefits": {"scientific": sc(4), "defensive": sc(3), "societal": sc(4)},
    }
