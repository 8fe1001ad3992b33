"""Plan validation and the reconciler's choice of stages, including a property test over random plans."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from releasewise.domain import plans as rules
from releasewise.domain.decisions import Outcome, WideningStep
from releasewise.domain.plan_templates import TEMPLATES, build
from releasewise.domain.ratchet import DecisionCover
from releasewise.domain.tiers import Tier
from releasewise.errors import InvalidInput

NOW = datetime(2026, 6, 1, 12, 0)
ASSETS = {"weights-s", "weights-l", "paper", "detector"}


def stage(key: str, days: float, steps: list[str], gates: dict[str, int] | None = None) -> dict[str, Any]:
    when = (NOW + timedelta(days=days)).replace(tzinfo=timezone.utc).isoformat()
    return {"key": key, "title": key, "earliest": when, "steps": steps, "gates": gates or {}}


def test_a_valid_plan_parses_to_naive_utc() -> None:
    doc = {"stages": [{"key": "one", "earliest": "2026-06-02T09:00:00+02:00", "steps": ["paper:public"]}]}
    (spec,) = rules.parse_plan(doc, known_assets=ASSETS, now=NOW)
    assert spec.earliest_at == datetime(2026, 6, 2, 7, 0) and spec.steps == (WideningStep("paper", Tier.public),)


@pytest.mark.parametrize("doc,message", [
    ({"stages": [stage("a", -1, ["paper:public"])]}, "in the past"),
    ({"stages": [{"key": "a", "earliest": "2026-07-01T09:00:00", "steps": ["paper:public"]}]}, "no timezone"),
    ({"stages": [stage("a", 1, ["gpu:public"])]}, "not an asset"),
    ({"stages": [stage("a", 1, ["paper:public"]), stage("b", 2, ["paper:registered"])]}, "must widen an asset further"),
    ({"stages": [stage("a", 2, ["paper:registered"]), stage("b", 1, ["paper:public"])]}, "in time order"),
    ({"stages": [stage("a", 1, ["paper:public"]), stage("a", 2, ["detector:public"])]}, "used twice"),
    ({"stages": [stage("a", 1, ["paper:public"], {"min_days": 3})]}, "unknown gate"),
    ({"stages": [stage("a", 1, ["paper:public"], {"max_open_incident_severity": 9})]}, "1 to 5"),
    ({"stages": []}, "at least one stage"),
    ({"stages": [stage("a", 1, ["paper:public"])], "owner": "x"}, "Unknown plan field"),
])
def test_bad_plans_are_refused_with_the_reason(doc: dict[str, Any], message: str) -> None:
    with pytest.raises(InvalidInput, match=message):
        rules.parse_plan(doc, known_assets=ASSETS, now=NOW)


def test_opened_stages_cannot_change_or_disappear() -> None:
    original = rules.parse_plan({"stages": [stage("a", 1, ["paper:public"])]}, known_assets=ASSETS, now=NOW)
    later = NOW + timedelta(days=3)
    opened = {"a": original[0]}
    doc = rules.to_document(original)
    doc["stages"].append({"key": "b", "title": "b", "earliest": (later + timedelta(days=1)).isoformat() + "Z",
                          "steps": ["detector:public"]})
    assert len(rules.parse_plan(doc, known_assets=ASSETS, now=later, opened=opened)) == 2
    doc["stages"][0]["steps"] = ["paper:registered"]
    with pytest.raises(InvalidInput, match="cannot change"):
        rules.parse_plan(doc, known_assets=ASSETS, now=later, opened=opened)
    with pytest.raises(InvalidInput, match="cannot be removed"):
        rules.parse_plan({"stages": doc["stages"][1:]}, known_assets=ASSETS, now=later, opened=opened)


def approved(*steps: str, expires_in_days: int = 365, open_conditions: int = 0) -> DecisionCover:
    parsed = tuple(WideningStep(s.split(":")[0], Tier(s.split(":")[1])) for s in steps)
    return DecisionCover(1, Outcome.approved, parsed, NOW + timedelta(days=expires_in_days), open_conditions)


def inputs(decisions: list[DecisionCover], now: datetime = NOW, previous: datetime | None = None,
           acknowledged: int = 0, incidents: list[int] | None = None) -> rules.GateInputs:
    return rules.GateInputs(now, decisions, previous, acknowledged, incidents or [])


def test_gates_explain_what_holds_a_stage() -> None:
    spec = rules.StageSpec("s", "s", NOW, (WideningStep("paper", Tier.public),),
                           rules.Gates(min_days_since_previous=30, min_acknowledged_parties=2,
                                       max_open_incident_severity=3))
    results = {g.name: g for g in rules.evaluate_gates(spec, inputs([], previous=NOW - timedelta(days=10),
                                                                     acknowledged=1, incidents=[4]))}
    assert not results["decision for paper → public"].passed
    assert "no decision names this step" in results["decision for paper → public"].detail
    assert "not before" in results["time since previous stage"].detail
    assert results["disclosure partners acknowledged"].detail == "1 of 2 acknowledged"
    assert not results["no serious open misuse reports"].passed
    good = rules.evaluate_gates(spec, inputs([approved("paper:public")], previous=NOW - timedelta(days=31),
                                             acknowledged=2, incidents=[1]))
    assert all(g.passed for g in good)


def test_an_expired_decision_blocks_its_stage() -> None:
    spec = rules.StageSpec("s", "s", NOW, (WideningStep("paper", Tier.public),))
    (gate,) = rules.evaluate_gates(spec, inputs([approved("paper:public", expires_in_days=-1)]))
    assert not gate.passed and "expired" in gate.detail


@settings(max_examples=200, deadline=None)
@given(st.lists(st.tuples(st.integers(0, 30), st.booleans()), min_size=1, max_size=5),
       st.integers(0, 40), st.sampled_from(list(rules.PlanStatus)))
def test_the_reconciler_opens_exactly_the_stages_it_should(shape: list[tuple[int, bool]], elapsed: int,
                                                            status: rules.PlanStatus) -> None:
    """Stages open in order, each only when its time has come and its decision covers it, never twice."""
    offsets = sorted(days for days, _ in shape)
    assets = [f"a{i}" for i in range(len(shape))]
    specs = [rules.StageSpec(f"s{i}", f"s{i}", NOW + timedelta(days=offsets[i]),
                             (WideningStep(assets[i], Tier.public),)) for i in range(len(shape))]
    covered = [assets[i] for i, (_, has_decision) in enumerate(shape) if has_decision]
    decisions = [approved(*(f"{a}:public" for a in covered))] if covered else []
    now = NOW + timedelta(days=elapsed)
    opened: dict[str, datetime | None] = {s.key: None for s in specs}
    for _ in range(len(specs) + 2):  # run the reconciler repeatedly, as the server does
        gates = {s.key: rules.evaluate_gates(s, inputs(decisions, now)) for s in specs}
        due = rules.next_due(specs, opened, status, now, gates)
        if due is None:
            break
        assert opened[due.key] is None
        opened[due.key] = now
    expected: list[str] = []
    if status is rules.PlanStatus.active:
        for i, spec in enumerate(specs):
            if spec.earliest_at <= now and assets[i] in covered:
                expected.append(spec.key)
            else:
                break
    assert [k for k, v in opened.items() if v is not None] == expected


@pytest.mark.parametrize("name", list(TEMPLATES))
def test_templates_build_valid_plans(name: str) -> None:
    assets = [("w-124m", "weights"), ("w-355m", "weights"), ("paper", "paper"), ("detector", "detector"),
              ("samples", "outputs"), ("api", "api"), ("blog", "announcement")]
    doc = build(name, assets, (NOW + timedelta(days=1)).replace(tzinfo=timezone.utc))
    specs = rules.parse_plan(doc, known_assets={a for a, _ in assets}, now=NOW)
    assert specs and all(s.steps for s in specs)
    if name == "paper-api-only":
        assert not any(step.asset.startswith("w-") for s in specs for step in s.steps)


def test_template_errors() -> None:
    with pytest.raises(InvalidInput, match="Unknown template"):
        build("yolo", [], datetime(2027, 1, 1, tzinfo=timezone.utc))
    with pytest.raises(InvalidInput, match="needs weights"):
        build("gpt2-staged", [("paper", "paper")], datetime(2027, 1, 1, tzinfo=timezone.utc))


def test_the_example_plan_is_valid() -> None:
    from pathlib import Path

    import yaml

    text = (Path(__file__).resolve().parents[2] / "examples" / "echo-2-plan.yaml").read_text()
    demo_assets = {"echo-2-detector", "echo-2-paper", "echo-2-small-120m", "echo-2-large-1-1b"}
    doc = yaml.safe_load(text)
    doc = {**doc, "stages": [{**st, "earliest": st["earliest"].isoformat()} for st in doc["stages"]]}
    specs = rules.parse_plan(doc, known_assets=demo_assets, now=datetime(2026, 12, 1))
    assert [s.key for s in specs] == ["partners", "small-model", "large-model"]
