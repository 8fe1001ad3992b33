"""Turning the assessment editor's flat form fields into a document and back.

Field names follow the document's paths: ``s-0-deployment-score`` is
``scenarios[0].scores.deployment.score``. Kept apart from the routes so the
mapping can be tested on its own.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from starlette.datastructures import FormData

from releasewise.domain.assessment import BENEFIT_KINDS, SCORED_FACTORS

MAX_FORM_SCENARIOS = 50


def _int(value: Any, default: int = 3) -> int | Any:
    """Scores stay as typed when not numbers, so validation can name them."""
    try:
        return int(str(value))
    except ValueError:
        return value if value else default


def _score(form: FormData, prefix: str) -> dict[str, Any]:
    return {"score": _int(form.get(f"{prefix}-score", "")), "rationale": str(form.get(f"{prefix}-why", "")).strip()}


def document_from_form(form: FormData, asset_slugs: list[str]) -> dict[str, Any]:
    scenarios = []
    count = min(_int(form.get("scenario_count", "0"), 0), MAX_FORM_SCENARIOS)
    for i in range(count if isinstance(count, int) else 0):
        p = f"s-{i}"
        if form.get(f"{p}-remove"):
            continue
        scenarios.append({
            "id": str(form.get(f"{p}-id", "")).strip() or f"s{i + 1}",
            "title": str(form.get(f"{p}-title", "")).strip(),
            "actor": str(form.get(f"{p}-actor", "")),
            "goal": str(form.get(f"{p}-goal", "")),
            "enabling_assets": [str(a) for a in form.getlist(f"{p}-assets")],
            "scores": {f: _score(form, f"{p}-{f}") for f in SCORED_FACTORS},
        })
    return {
        "summary": str(form.get("summary", "")).strip(),
        "assets": {slug: {"hazards": [str(h) for h in form.getlist(f"asset-{slug}-hazards")],
                          "notes": str(form.get(f"asset-{slug}-notes", "")).strip()} for slug in asset_slugs},
        "scenarios": scenarios,
        "counterfactual": {"availability": str(form.get("cf-availability", "")),
                           "rationale": str(form.get("cf-why", "")).strip()},
        "defenses": _score(form, "defenses"),
        "benefits": {k: _score(form, f"benefit-{k}") for k in BENEFIT_KINDS},
        "notes": str(form.get("notes", "")).strip(),
    }


def blank_scenario(index: int) -> dict[str, Any]:
    return {"id": f"s{index + 1}", "title": "", "actor": "some_programming", "goal": "fraud", "enabling_assets": [],
            "scores": {f: {"score": 3, "rationale": ""} for f in SCORED_FACTORS}}


def editor_model(document: Mapping[str, Any]) -> dict[str, Any]:
    """A tolerant view of a (possibly incomplete) draft for the editor template."""
    def score(raw: Any) -> dict[str, Any]:
        if isinstance(raw, Mapping):
            return {"score": raw.get("score", 3), "rationale": raw.get("rationale", "")}
        return {"score": raw if isinstance(raw, int) else 3, "rationale": ""}

    def mapping(value: Any) -> Mapping[str, Any]:
        return value if isinstance(value, Mapping) else {}

    assets = mapping(document.get("assets"))
    scenarios: list[dict[str, Any]] = []
    for raw in document.get("scenarios") or []:
        if isinstance(raw, Mapping):
            scores = mapping(raw.get("scores"))
            scenarios.append({**blank_scenario(len(scenarios)), **{k: raw[k] for k in raw if k != "scores"},
                              "scores": {f: score(scores.get(f)) for f in SCORED_FACTORS}})
    cf = mapping(document.get("counterfactual"))
    benefits = mapping(document.get("benefits"))
    return {
        "summary": document.get("summary", ""),
        "assets": {k: (v if isinstance(v, Mapping) else {"hazards": v if isinstance(v, list) else []})
                   for k, v in assets.items()},
        "scenarios": scenarios,
        "cf": {"availability": cf.get("availability", "not_available"), "rationale": cf.get("rationale", "")},
        "defenses": score(document.get("defenses")),
        "benefits": {k: score(benefits.get(k)) for k in BENEFIT_KINDS},
        "notes": document.get("notes", ""),
    }
