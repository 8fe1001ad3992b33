"""What an assessment says (FRAMEWORK.md §3), and how its content is validated.

An assessment's content is a plain JSON-able document (stored as JSON, imported
from YAML/JSON files, edited in the web UI). ``parse_assessment`` turns such a
document into typed, validated dataclasses, and every problem names the field
(and, for files, the line) so the author can fix it.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import Enum
from typing import Any

from releasewise.domain.tiers import Hazard
from releasewise.errors import InvalidInput


class ActorSkill(str, Enum):
    """Who would misuse it, by capability (FRAMEWORK.md §3)."""

    no_technical_skill = "no_technical_skill"
    some_programming = "some_programming"
    ml_expertise = "ml_expertise"
    well_resourced_group = "well_resourced_group"


class MisuseGoal(str, Enum):
    fraud = "fraud"
    impersonation = "impersonation"
    harassment = "harassment"
    non_consensual_imagery = "non_consensual_imagery"
    disinformation = "disinformation"
    extremist_content = "extremist_content"
    privacy_violation = "privacy_violation"
    other = "other"


class Counterfactual(str, Enum):
    """Is a comparable capability already available to would-be misusers?"""

    public = "public"  # comparable capability is already public
    soon = "soon"  # expected to be public soon (e.g. within a year)
    not_available = "not_available"


LIKELIHOOD_FACTORS = ("awareness", "deployment", "sustained_use")
MAGNITUDE_FACTORS = ("severity", "scale", "reversibility")
SCORED_FACTORS = LIKELIHOOD_FACTORS + MAGNITUDE_FACTORS
BENEFIT_KINDS = ("scientific", "defensive", "societal")

FACTOR_HELP = {
    "awareness": "Do would-be misusers know of the capability and believe it helps them? (1 = no, 5 = widely known)",
    "deployment": "How easy is it to turn into a working attack? (1 = very hard, 5 = trivial)",
    "sustained_use": "How likely is sustained use with real impact, not a one-off stunt? (1 = unlikely, 5 = very likely)",
    "severity": "How severe is the harm to a victim? (1 = minor, 5 = grave)",
    "scale": "How many people could be harmed? (1 = a few, 5 = millions)",
    "reversibility": "How hard is the harm to undo? (1 = easily reversed, 5 = irreversible)",
}

MAX_SCENARIOS = 50
MAX_RATIONALE = 4000


@dataclass(frozen=True)
class Score:
    value: int
    rationale: str


@dataclass(frozen=True)
class Scenario:
    id: str
    title: str
    actor: ActorSkill
    goal: MisuseGoal
    enabling_assets: tuple[str, ...]
    scores: Mapping[str, Score]

    def score(self, factor: str) -> int:
        return self.scores[factor].value


@dataclass(frozen=True)
class AssetHazards:
    asset: str
    hazards: tuple[Hazard, ...]
    notes: str = ""


@dataclass(frozen=True)
class Assessment:
    summary: str
    assets: tuple[AssetHazards, ...]
    scenarios: tuple[Scenario, ...]
    counterfactual: Counterfactual
    counterfactual_rationale: str
    defenses: Score
    benefits: Mapping[str, Score]
    notes: str = ""

    def hazards_of(self, asset: str) -> tuple[Hazard, ...]:
        for entry in self.assets:
            if entry.asset == asset:
                return entry.hazards
        return ()


@dataclass
class Problems:
    """Collects every problem in a document instead of stopping at the first."""

    items: list[str] = field(default_factory=list)
    lines: Mapping[str, int] = field(default_factory=dict)

    def add(self, path: str, message: str) -> None:
        line = self.lines.get(path)
        where = f"{path} (line {line})" if line else path
        self.items.append(f"{where}: {message}")

    def raise_if_any(self) -> None:
        if self.items:
            shown = "; ".join(self.items[:8])
            more = f" (and {len(self.items) - 8} more)" if len(self.items) > 8 else ""
            raise InvalidInput(f"The assessment has {len(self.items)} problem(s): {shown}{more}.")


def _text(problems: Problems, data: Mapping[str, Any], key: str, path: str, *, required: bool = True,
          max_length: int = MAX_RATIONALE) -> str:
    value = data.get(key, "")
    if value is None:
        value = ""
    if not isinstance(value, str):
        problems.add(f"{path}.{key}", f"must be text, not {type(value).__name__}")
        return ""
    value = value.strip()
    if required and not value:
        problems.add(f"{path}.{key}", "is required")
    if len(value) > max_length:
        problems.add(f"{path}.{key}", f"is {len(value)} characters; the limit is {max_length}")
    return str(value)


def _enum(problems: Problems, enum: type[Enum], value: Any, path: str) -> Any:
    try:
        return enum(value)
    except ValueError:
        options = ", ".join(str(e.value) for e in enum)
        problems.add(path, f"'{value}' is not one of: {options}")
        return None


def _score(problems: Problems, data: Any, path: str, *, require_rationale: bool = True) -> Score | None:
    if isinstance(data, int) and not isinstance(data, bool):
        data = {"score": data}
    if not isinstance(data, Mapping):
        problems.add(path, "must be a mapping with 'score' (1–5) and 'rationale'")
        return None
    value = data.get("score")
    if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= 5:
        problems.add(f"{path}.score", f"must be a whole number from 1 to 5, not {value!r}")
        return None
    rationale = _text(problems, data, "rationale", path, required=require_rationale)
    return Score(value, rationale)


def parse_assessment(data: Any, *, known_assets: set[str] | None = None,
                     lines: Mapping[str, int] | None = None, require_rationales: bool = True) -> Assessment:
    """Validate a whole assessment document; raise InvalidInput listing every problem.

    ``known_assets`` are the project's asset slugs (unknown ones are errors);
    ``lines`` maps field paths to source lines for error messages.
    """
    problems = Problems(lines=lines or {})
    if not isinstance(data, Mapping):
        raise InvalidInput("An assessment must be a mapping (YAML/JSON object) at the top level.")
    unknown = sorted(set(data) - {"summary", "assets", "scenarios", "counterfactual", "defenses", "benefits",
                                  "notes", "schema"})
    for key in unknown:
        problems.add(key, "is not a field of an assessment (see docs/assessments.md)")
    summary = _text(problems, data, "summary", "assessment", required=True, max_length=5000)

    assets: list[AssetHazards] = []
    raw_assets = data.get("assets") or {}
    if not isinstance(raw_assets, Mapping):
        problems.add("assets", "must map asset slugs to their hazards")
        raw_assets = {}
    for slug, entry in raw_assets.items():
        path = f"assets.{slug}"
        if known_assets is not None and slug not in known_assets:
            problems.add(path, f"is not an asset of this project (known: {', '.join(sorted(known_assets)) or 'none'})")
        if isinstance(entry, list):
            entry = {"hazards": entry}
        if not isinstance(entry, Mapping):
            problems.add(path, "must list the asset's hazards (product, data, attention)")
            continue
        hazards_raw = entry.get("hazards") or []
        if not isinstance(hazards_raw, list):
            problems.add(f"{path}.hazards", "must be a list")
            hazards_raw = []
        hazards = tuple(h for h in (_enum(problems, Hazard, h, f"{path}.hazards") for h in hazards_raw) if h)
        assets.append(AssetHazards(str(slug), hazards, _text(problems, entry, "notes", path, required=False)))

    scenarios: list[Scenario] = []
    raw_scenarios = data.get("scenarios") or []
    if not isinstance(raw_scenarios, list):
        problems.add("scenarios", "must be a list")
        raw_scenarios = []
    if len(raw_scenarios) > MAX_SCENARIOS:
        problems.add("scenarios", f"has {len(raw_scenarios)} entries; the limit is {MAX_SCENARIOS}")
    seen_ids: set[str] = set()
    for index, raw in enumerate(raw_scenarios[:MAX_SCENARIOS]):
        path = f"scenarios[{index}]"
        if not isinstance(raw, Mapping):
            problems.add(path, "must be a mapping")
            continue
        scenario_id = str(raw.get("id") or f"s{index + 1}")
        if scenario_id in seen_ids:
            problems.add(f"{path}.id", f"'{scenario_id}' is used twice")
        seen_ids.add(scenario_id)
        title = _text(problems, raw, "title", path, max_length=200)
        actor = _enum(problems, ActorSkill, raw.get("actor"), f"{path}.actor")
        goal = _enum(problems, MisuseGoal, raw.get("goal"), f"{path}.goal")
        enabling = raw.get("enabling_assets") or []
        if not isinstance(enabling, list) or not enabling:
            problems.add(f"{path}.enabling_assets", "must list at least one asset slug")
            enabling = []
        for slug in enabling:
            if known_assets is not None and slug not in known_assets:
                problems.add(f"{path}.enabling_assets", f"'{slug}' is not an asset of this project")
        raw_scores = raw.get("scores") or {}
        if not isinstance(raw_scores, Mapping):
            problems.add(f"{path}.scores", "must map each factor to a score")
            raw_scores = {}
        scores: dict[str, Score] = {}
        for factor in SCORED_FACTORS:
            if factor not in raw_scores:
                problems.add(f"{path}.scores.{factor}", "is missing (score 1–5 with a rationale)")
                continue
            parsed = _score(problems, raw_scores[factor], f"{path}.scores.{factor}",
                            require_rationale=require_rationales)
            if parsed:
                scores[factor] = parsed
        for extra in sorted(set(raw_scores) - set(SCORED_FACTORS)):
            problems.add(f"{path}.scores.{extra}", f"is not a factor; use {', '.join(SCORED_FACTORS)}")
        if actor and goal and len(scores) == len(SCORED_FACTORS):
            scenarios.append(Scenario(scenario_id, title, actor, goal, tuple(str(s) for s in enabling), scores))
    if not raw_scenarios:
        problems.add("scenarios", "list at least one misuse scenario")

    raw_cf = data.get("counterfactual") or {}
    if isinstance(raw_cf, str):
        raw_cf = {"availability": raw_cf}
    if not isinstance(raw_cf, Mapping):
        problems.add("counterfactual", "must have 'availability' (public, soon, not_available) and 'rationale'")
        raw_cf = {}
    counterfactual = _enum(problems, Counterfactual, raw_cf.get("availability"), "counterfactual.availability")
    cf_rationale = _text(problems, raw_cf, "rationale", "counterfactual", required=require_rationales)
    defenses = _score(problems, data.get("defenses"), "defenses", require_rationale=require_rationales)

    raw_benefits = data.get("benefits") or {}
    if not isinstance(raw_benefits, Mapping):
        problems.add("benefits", f"must score {', '.join(BENEFIT_KINDS)}")
        raw_benefits = {}
    benefits: dict[str, Score] = {}
    for kind in BENEFIT_KINDS:
        if kind in raw_benefits:
            parsed = _score(problems, raw_benefits[kind], f"benefits.{kind}", require_rationale=require_rationales)
            if parsed:
                benefits[kind] = parsed
        else:
            problems.add(f"benefits.{kind}", "is missing (score 1–5 with a rationale)")
    notes = _text(problems, data, "notes", "assessment", required=False, max_length=10000)
    problems.raise_if_any()
    if counterfactual is None or defenses is None:  # unreachable after raise_if_any; keeps types exact
        raise InvalidInput("The assessment is incomplete.")
    return Assessment(summary, tuple(assets), tuple(scenarios), counterfactual, cf_rationale, defenses, benefits,
                      notes)


def to_document(assessment: Assessment) -> dict[str, Any]:
    """The canonical JSON document of a parsed assessment (what versions store)."""

    def score(s: Score) -> dict[str, Any]:
        return {"score": s.value, "rationale": s.rationale}

    return {
        "schema": "releasewise.assessment/1",
        "summary": assessment.summary,
        "assets": {a.asset: {"hazards": [h.value for h in a.hazards], "notes": a.notes} for a in assessment.assets},
        "scenarios": [
            {
                "id": s.id,
                "title": s.title,
                "actor": s.actor.value,
                "goal": s.goal.value,
                "enabling_assets": list(s.enabling_assets),
                "scores": {f: score(s.scores[f]) for f in SCORED_FACTORS},
            }
            for s in assessment.scenarios
        ],
        "counterfactual": {"availability": assessment.counterfactual.value,
                           "rationale": assessment.counterfactual_rationale},
        "defenses": score(assessment.defenses),
        "benefits": {k: score(v) for k, v in assessment.benefits.items()},
        "notes": assessment.notes,
    }


def diff_documents(old: Mapping[str, Any], new: Mapping[str, Any], prefix: str = "") -> list[tuple[str, Any, Any]]:
    """Field-level differences between two documents: (path, old value, new value)."""
    changes: list[tuple[str, Any, Any]] = []
    if isinstance(old, Mapping) and isinstance(new, Mapping):
        for key in sorted(set(old) | set(new), key=str):
            path = f"{prefix}.{key}" if prefix else str(key)
            if key not in old:
                changes.append((path, None, new[key]))
            elif key not in new:
                changes.append((path, old[key], None))
            else:
                changes.extend(diff_documents(old[key], new[key], path))
        return changes
    if isinstance(old, list) and isinstance(new, list) and all(isinstance(x, Mapping) and "id" in x for x in old + new):
        old_by_id = {x["id"]: x for x in old}
        new_by_id = {x["id"]: x for x in new}
        for key in list(old_by_id) + [k for k in new_by_id if k not in old_by_id]:
            path = f"{prefix}[{key}]"
            changes.extend(diff_documents(old_by_id.get(key, {}), new_by_id.get(key, {}), path)
                           if key in old_by_id and key in new_by_id
                           else [(path, old_by_id.get(key), new_by_id.get(key))])
        return changes
    if old != new:
        changes.append((prefix, old, new))
    return changes

