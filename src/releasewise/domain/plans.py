"""Release plans: stages of widening steps, their gates, and when a stage may open (FRAMEWORK.md §2, §4).

Everything here is pure. A stage's state is derived when read from stored
dates and gate inputs; the reconciler (services/plans.py) opens the stages
this module says are due, idempotently.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from enum import Enum
from typing import Any

from releasewise.domain.decisions import WideningStep, parse_steps
from releasewise.domain.detection import parse_mode
from releasewise.domain.ratchet import DecisionCover, covering_decision
from releasewise.domain.tiers import Tier
from releasewise.errors import InvalidInput, PermissionDenied

MAX_STAGES = 20


class PlanStatus(str, Enum):
    active = "active"
    paused = "paused"
    halted = "halted"


class StageState(str, Enum):
    opened = "opened"
    ready = "ready"  # its time has come and every gate passes: the reconciler opens it
    waiting = "waiting"  # its time has come but a gate holds it
    scheduled = "scheduled"  # its time has not come
    blocked = "blocked"  # its time has come but an earlier stage has not opened yet


@dataclass(frozen=True)
class Gates:
    min_days_since_previous: int | None = None
    min_acknowledged_parties: int | None = None
    max_open_incident_severity: int | None = None


@dataclass(frozen=True)
class StageSpec:
    key: str
    title: str
    earliest_at: datetime  # naive UTC
    steps: tuple[WideningStep, ...]
    gates: Gates = field(default_factory=Gates)
    # Who may trace the project's watermarks once the stage opens (domain/detection.py), e.g. a
    # detector-first plan opens detection to partners before the generator ships. None: unchanged.
    detection: str | None = None


@dataclass(frozen=True)
class GateResult:
    name: str
    passed: bool
    detail: str


@dataclass(frozen=True)
class GateInputs:
    """What the world looks like for one stage's gates at one moment."""

    now: datetime
    decisions: Sequence[DecisionCover]
    previous_opened_at: datetime | None
    acknowledged_parties: int
    open_incident_severities: Sequence[int]


def parse_instant(value: Any, field_name: str) -> datetime:
    """An exact instant with its timezone, returned as naive UTC. Times without a zone are refused."""
    if isinstance(value, datetime):
        moment = value
    elif isinstance(value, str):
        try:
            moment = datetime.fromisoformat(value.strip().replace("Z", "+00:00"))
        except ValueError:
            raise InvalidInput(f"{field_name} '{value}' is not an ISO 8601 date and time "
                               "(e.g. 2027-03-01T09:00:00+01:00).", field=field_name) from None
    else:
        raise InvalidInput(f"{field_name} must be a date and time with a timezone, "
                           "e.g. 2027-03-01T09:00:00+01:00.", field=field_name)
    if moment.tzinfo is None or moment.utcoffset() is None:
        raise InvalidInput(f"{field_name} '{value}' has no timezone. Add one (e.g. +01:00 or Z) so every "
                           "viewer reads the same instant.", field=field_name)
    # Whole seconds: plan files round-trip exactly, and nobody schedules a release to the microsecond.
    return moment.astimezone(timezone.utc).replace(tzinfo=None, microsecond=0)


def from_yaml(value: Any) -> Any:
    """A YAML-loaded plan with its timestamps back as ISO strings.

    YAML turns ``2027-01-11T09:00:00+01:00`` into a datetime; the plan rules
    read strings, so naive timestamps still reach them and are refused as such.
    """
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, Mapping):
        return {k: from_yaml(v) for k, v in value.items()}
    if isinstance(value, list):
        return [from_yaml(v) for v in value]
    return value


def _optional_int(raw: Mapping[str, Any], key: str, path: str, low: int, high: int) -> int | None:
    value = raw.get(key)
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
        raise InvalidInput(f"{path}.{key} must be a whole number from {low} to {high}.", field=key)
    return value


def parse_plan(document: Any, *, known_assets: set[str], now: datetime,
               opened: Mapping[str, StageSpec] | None = None) -> tuple[StageSpec, ...]:
    """Validate a plan document. Stages already opened must stay exactly as they were opened."""
    opened = opened or {}
    if not isinstance(document, Mapping):
        raise InvalidInput("A plan must be a mapping with a 'stages' list.")
    unknown = sorted(set(document) - {"stages", "project", "template", "schema"})
    if unknown:
        raise InvalidInput(f"Unknown plan field(s): {', '.join(unknown)}.")
    raw_stages = document.get("stages")
    if not isinstance(raw_stages, list) or not raw_stages:
        raise InvalidInput("A plan needs at least one stage under 'stages'.", field="stages")
    if len(raw_stages) > MAX_STAGES:
        raise InvalidInput(f"A plan has at most {MAX_STAGES} stages.", field="stages")
    stages: list[StageSpec] = []
    keys: set[str] = set()
    reached: dict[str, Tier] = {}
    for index, raw in enumerate(raw_stages):
        path = f"stages[{index}]"
        if not isinstance(raw, Mapping):
            raise InvalidInput(f"{path} must be a mapping.", field="stages")
        extra = sorted(set(raw) - {"key", "title", "earliest", "steps", "gates", "detection"})
        if extra:
            raise InvalidInput(f"{path} has unknown field(s): {', '.join(extra)}.", field="stages")
        key = str(raw.get("key") or f"stage-{index + 1}").strip()
        if key in keys:
            raise InvalidInput(f"{path}.key '{key}' is used twice.", field="stages")
        keys.add(key)
        title = str(raw.get("title") or key).strip()[:200]
        earliest = parse_instant(raw.get("earliest"), f"{path}.earliest")
        steps = parse_steps(raw.get("steps"), known_assets)
        gates_raw = raw.get("gates") or {}
        if not isinstance(gates_raw, Mapping):
            raise InvalidInput(f"{path}.gates must be a mapping.", field="gates")
        bad_gates = sorted(set(gates_raw) - {"min_days_since_previous", "min_acknowledged_parties",
                                             "max_open_incident_severity"})
        if bad_gates:
            raise InvalidInput(f"{path}.gates has unknown gate(s): {', '.join(bad_gates)}. Gates: "
                               "min_days_since_previous, min_acknowledged_parties, max_open_incident_severity.",
                               field="gates")
        gates = Gates(_optional_int(gates_raw, "min_days_since_previous", f"{path}.gates", 0, 3650),
                      _optional_int(gates_raw, "min_acknowledged_parties", f"{path}.gates", 0, 1000),
                      _optional_int(gates_raw, "max_open_incident_severity", f"{path}.gates", 1, 5))
        detection = parse_mode(str(raw["detection"])).value if raw.get("detection") is not None else None
        spec = StageSpec(key, title, earliest, steps, gates, detection)
        if key in opened:
            if opened[key] != spec:
                raise InvalidInput(f"Stage '{key}' has opened; it cannot change. Add a new stage instead.",
                                   field="stages")
        elif earliest <= now:
            raise InvalidInput(f"{path}.earliest is in the past. Unopened stages must be scheduled in the future "
                               "(open a stage early with `plan open-stage` instead).", field="stages")
        if stages and earliest < stages[-1].earliest_at:
            raise InvalidInput(f"{path} is scheduled before the stage above it; list stages in time order.",
                               field="stages")
        for step in steps:
            before = reached.get(step.asset)
            if before is not None and not step.tier.wider_than(before):
                raise InvalidInput(f"{path}: {step.asset} goes to '{step.tier.value}', but an earlier stage already "
                                   f"takes it to '{before.value}'. Each stage must widen an asset further.",
                                   field="stages")
            reached[step.asset] = step.tier
        stages.append(spec)
    missing = sorted(set(opened) - keys)
    if missing:
        raise InvalidInput(f"Opened stage(s) {', '.join(missing)} cannot be removed from the plan.", field="stages")
    return tuple(stages)


def evaluate_gates(stage: StageSpec, inputs: GateInputs) -> tuple[GateResult, ...]:
    """Every gate of a stage with whether it passes and why, in words for the timeline."""
    results: list[GateResult] = []
    for step in stage.steps:
        try:
            decision = covering_decision(step.asset, step.tier, inputs.decisions, inputs.now)
            results.append(GateResult(f"decision for {step.label()}", True,
                                      f"decision #{decision.decision_id} covers it, conditions met"))
        except PermissionDenied as exc:
            detail = exc.message.split("(", 1)[-1].split(")", 1)[0] if "(" in exc.message else exc.message
            results.append(GateResult(f"decision for {step.label()}", False, detail))
    gates = stage.gates
    if gates.min_days_since_previous:
        if inputs.previous_opened_at is None:
            results.append(GateResult("time since previous stage", True, "first stage"))
        else:
            ready_at = inputs.previous_opened_at + timedelta(days=gates.min_days_since_previous)
            passed = inputs.now >= ready_at
            results.append(GateResult("time since previous stage", passed,
                                      f"needs {gates.min_days_since_previous} days; "
                                      + ("met" if passed else f"not before {ready_at:%Y-%m-%d %H:%M} UTC")))
    if gates.min_acknowledged_parties:
        passed = inputs.acknowledged_parties >= gates.min_acknowledged_parties
        results.append(GateResult("disclosure partners acknowledged", passed,
                                  f"{inputs.acknowledged_parties} of {gates.min_acknowledged_parties} acknowledged"))
    if gates.max_open_incident_severity is not None:
        serious = [s for s in inputs.open_incident_severities if s >= gates.max_open_incident_severity]
        results.append(GateResult("no serious open misuse reports", not serious,
                                  f"{len(serious)} open report(s) of severity ≥ {gates.max_open_incident_severity}"))
    return tuple(results)


def stage_state(stage: StageSpec, *, opened_at: datetime | None, previous_opened: bool, now: datetime,
                gates: Sequence[GateResult]) -> StageState:
    if opened_at is not None:
        return StageState.opened
    if now < stage.earliest_at:
        return StageState.scheduled
    if not previous_opened:
        return StageState.blocked
    return StageState.ready if all(g.passed for g in gates) else StageState.waiting


def next_due(stages: Sequence[StageSpec], opened_at: Mapping[str, datetime | None], status: PlanStatus,
             now: datetime, gates: Mapping[str, Sequence[GateResult]]) -> StageSpec | None:
    """The one stage the reconciler should open now, if any: the first unopened stage, when ready."""
    if status is not PlanStatus.active:
        return None
    for index, stage in enumerate(stages):
        if opened_at.get(stage.key) is not None:
            continue
        previous_opened = index == 0 or opened_at.get(stages[index - 1].key) is not None
        state = stage_state(stage, opened_at=None, previous_opened=previous_opened, now=now,
                            gates=gates.get(stage.key, ()))
        return stage if state is StageState.ready else None
    return None


def to_document(stages: Sequence[StageSpec]) -> dict[str, Any]:
    def gates(g: Gates) -> dict[str, int]:
        return {k: v for k, v in {"min_days_since_previous": g.min_days_since_previous,
                                  "min_acknowledged_parties": g.min_acknowledged_parties,
                                  "max_open_incident_severity": g.max_open_incident_severity}.items() if v is not None}

    return {"schema": "releasewise.plan/1", "stages": [
        {"key": s.key, "title": s.title, "earliest": s.earliest_at.replace(tzinfo=timezone.utc).isoformat(timespec="seconds"),
         "steps": [f"{x.asset}:{x.tier.value}" for x in s.steps], "gates": gates(s.gates),
         **({"detection": s.detection} if s.detection else {})} for s in stages]}
