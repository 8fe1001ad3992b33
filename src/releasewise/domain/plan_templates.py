"""Starting points for release plans; a lab picks one and edits it (FRAMEWORK.md §4)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from typing import Any

from releasewise.errors import InvalidInput


@dataclass(frozen=True)
class PlanTemplate:
    name: str
    title: str
    description: str


TEMPLATES = {
    "gpt2-staged": PlanTemplate(
        "gpt2-staged", "GPT-2 style staged release: 4 sizes over 9 months",
        "Release progressively larger weights publicly every three months, reviewing misuse between stages "
        "(as GPT-2 went 124M → 355M → 774M → 1.5B over 2019)."),
    "detector-first": PlanTemplate(
        "detector-first", "Detector first, then the generator to vetted researchers",
        "Share the detector and sample outputs with platforms under embargo, publish them with the paper once "
        "partners acknowledge, then give the weights to vetted researchers."),
    "paper-api-only": PlanTemplate(
        "paper-api-only", "Paper now, weights never; API only",
        "Publish the paper and announcement, offer structured access through an API to registered users, and "
        "never release the weights."),
}


def _iso(moment: datetime) -> str:
    return moment.astimezone(timezone.utc).isoformat(timespec="minutes")


def build(name: str, assets: Sequence[tuple[str, str]], start: datetime) -> dict[str, Any]:
    """A plan document from a template for a project's ``(slug, kind)`` assets, starting at ``start`` (aware)."""
    if name not in TEMPLATES:
        raise InvalidInput(f"Unknown template '{name}'. Templates: {', '.join(TEMPLATES)}.", field="template")
    if start.tzinfo is None:
        raise InvalidInput("The start time needs a timezone.", field="start")
    by_kind: dict[str, list[str]] = {}
    for slug, kind in assets:
        by_kind.setdefault(kind, []).append(slug)

    def first(kind: str) -> list[str]:
        return by_kind.get(kind, [])[:1]

    stages: list[dict[str, Any]] = []
    if name == "gpt2-staged":
        weights = by_kind.get("weights", [])[:4]
        if not weights:
            raise InvalidInput("The GPT-2 style template needs weights assets (one per size), smallest first.",
                               field="template")
        for i, slug in enumerate(weights):
            steps = [f"{slug}:public"] + ([f"{a}:public" for a in first("paper") + first("announcement")] if i == 0
                                          else [])
            stages.append({"key": f"size-{i + 1}", "title": f"Release {slug} publicly",
                           "earliest": _iso(start + timedelta(days=91 * i)), "steps": steps,
                           "gates": {"min_days_since_previous": 90} if i else {}})
    elif name == "detector-first":
        early = [f"{a}:trusted_partners" for a in first("detector") + by_kind.get("outputs", [])]
        if not early:
            raise InvalidInput("The detector-first template needs a detector or outputs asset.", field="template")
        stages.append({"key": "partners", "title": "Detector and samples to trusted partners (embargo)",
                       "earliest": _iso(start), "steps": early, "gates": {}, "detection": "partners"})
        public = [f"{a}:public" for a in first("detector") + first("paper") + first("announcement")]
        stages.append({"key": "publish", "title": "Publish the detector and the paper",
                       "earliest": _iso(start + timedelta(days=30)), "steps": public,
                       "gates": {"min_acknowledged_parties": 2, "min_days_since_previous": 30},
                       "detection": "public"})
        weights = [f"{a}:vetted_researchers" for a in by_kind.get("weights", [])]
        if weights:
            stages.append({"key": "researchers", "title": "Weights to vetted researchers",
                           "earliest": _iso(start + timedelta(days=60)), "steps": weights,
                           "gates": {"min_days_since_previous": 30, "max_open_incident_severity": 3}})
    else:
        steps = [f"{a}:public" for a in first("paper") + first("announcement")] + \
                [f"{a}:registered" for a in first("api")]
        if not steps:
            raise InvalidInput("The paper-and-API template needs a paper, announcement or api asset.",
                               field="template")
        stages.append({"key": "launch", "title": "Paper public, API for registered users",
                       "earliest": _iso(start), "steps": steps, "gates": {"max_open_incident_severity": 4}})
    return {"schema": "releasewise.plan/1", "template": name, "stages": stages}
