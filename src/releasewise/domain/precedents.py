"""The precedent library's rules (FRAMEWORK.md §6–7): what a published decision record holds, the release
options a lab can say it used, how search filters are validated, and how "outcome" is classified.

Pure: no I/O. The services layer gathers the facts (the decision row, the assessment version, the
project's assets, plan and agreements) and asks these functions what may be published.

A published record is a *redacted snapshot*: the same rules as the public release page. It keeps the
decision, rationale, conditions (text only), vote counts and which dimensions of disagreement diverge;
it never keeps reviewer names, their individual stances or comments, who met a condition, scenarios,
the assessment's prose, grantees or disclosure details.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from enum import Enum
from typing import Any

from releasewise.domain.tiers import Hazard, Tier
from releasewise.errors import InvalidInput

RECORD_SCHEMA = "releasewise.precedent/1"
MODALITIES = ("audio", "image", "video", "text", "multimodal")
MAX_NOTE = 4000
MAX_QUERY = 200
MAX_TERMS = 10
PER_PAGE = 20
MAX_PER_PAGE = 100
SEVERE_FROM = 4  # incident severity 4 (serious) and 5 (critical) count as severe


class ReleaseOption(str, Enum):
    """The release options menu (FRAMEWORK.md §4)."""

    staged_release = "staged_release"
    tiered_access = "tiered_access"
    delayed_release = "delayed_release"
    partial_release = "partial_release"
    coordinated_disclosure = "coordinated_disclosure"
    detector_first = "detector_first"
    provenance_on_outputs = "provenance_on_outputs"
    use_restricted_terms = "use_restricted_terms"
    structured_access = "structured_access"


OPTION_LABELS: dict[str, str] = {
    "staged_release": "Staged release",
    "tiered_access": "Tiered access",
    "delayed_release": "Delayed release / embargo",
    "partial_release": "Partial release",
    "coordinated_disclosure": "Coordinated disclosure",
    "detector_first": "Detector first",
    "provenance_on_outputs": "Provenance on outputs",
    "use_restricted_terms": "Use-restricted terms",
    "structured_access": "Structured access (API)",
}


class Outcome(str, Enum):
    """What happened after the decision, from the incidents the organisation opened since.

    Incidents are confirmed misuse (responders open one from reports, which confirms them); reports that
    were never confirmed do not count. ``severe`` is a subset of ``incidents``.
    """

    none = "none"
    incidents = "incidents"
    severe = "severe"


OUTCOME_LABELS = {"none": "No incidents since the decision", "incidents": "Incidents after release",
                  "severe": "Severe incidents (severity 4–5)"}
DECISIONS = ("approved", "rejected")
FACETS = ("modality", "hazard", "option", "outcome", "decision")


def _choice(value: str | None, allowed: Sequence[str], name: str) -> str | None:
    cleaned = (value or "").strip().lower()
    if not cleaned:
        return None
    if cleaned not in allowed:
        raise InvalidInput(f"Unknown {name} '{value}'. Choose one of: {', '.join(allowed)}.", field=name)
    return cleaned


@dataclass(frozen=True)
class Filters:
    """A validated search: free text (every term must match) plus at most one value per facet."""

    query: str = ""
    modality: str | None = None
    hazard: str | None = None
    option: str | None = None
    outcome: str | None = None
    decision: str | None = None
    org: str | None = None
    page: int = 1
    per_page: int = PER_PAGE
    terms: tuple[str, ...] = field(default=(), compare=False)

    def facet_value(self, facet: str) -> str | None:
        value: str | None = getattr(self, facet)
        return value

    def as_params(self, **changes: Any) -> dict[str, str]:
        """Query-string parameters of this search with ``changes`` applied (None drops one); page resets."""
        params: dict[str, Any] = {"q": self.query, "modality": self.modality, "hazard": self.hazard,
                                  "option": self.option, "outcome": self.outcome, "decision": self.decision,
                                  "org": self.org}
        params.update(changes)
        return {k: str(v) for k, v in params.items() if v not in (None, "")}


def parse_filters(*, query: str | None = "", modality: str | None = None, hazard: str | None = None,
                  option: str | None = None, outcome: str | None = None, decision: str | None = None,
                  org: str | None = None, page: int = 1, per_page: int = PER_PAGE) -> Filters:
    """Validate search input; every error names the allowed values, so the caller can fix it in one go."""
    text = " ".join((query or "").split())
    if len(text) > MAX_QUERY:
        raise InvalidInput(f"The search text is {len(text)} characters; the limit is {MAX_QUERY}.", field="q")
    terms = tuple(dict.fromkeys(t.lower() for t in text.split()))
    if len(terms) > MAX_TERMS:
        raise InvalidInput(f"Use at most {MAX_TERMS} search words.", field="q")
    if isinstance(page, bool) or not isinstance(page, int) or not 1 <= page <= 10_000:
        raise InvalidInput("Page must be a whole number from 1 to 10000.", field="page")
    if isinstance(per_page, bool) or not isinstance(per_page, int) or not 1 <= per_page <= MAX_PER_PAGE:
        raise InvalidInput(f"Results per page must be from 1 to {MAX_PER_PAGE}.", field="per_page")
    org_slug = (org or "").strip().lower() or None
    if org_slug is not None and len(org_slug) > 40:
        raise InvalidInput("An organisation slug has at most 40 characters.", field="org")
    return Filters(text, _choice(modality, MODALITIES, "modality"), _choice(hazard, [h.value for h in Hazard], "hazard"),
                   _choice(option, [o.value for o in ReleaseOption], "option"),
                   _choice(outcome, [o.value for o in Outcome], "outcome"), _choice(decision, DECISIONS, "decision"),
                   org_slug, page, per_page, terms)


def parse_options(values: Iterable[str]) -> tuple[str, ...]:
    """The release options a lab says it used, validated, deduplicated, in menu order."""
    chosen = {(v or "").strip().lower() for v in values if v and v.strip()}
    unknown = sorted(chosen - {o.value for o in ReleaseOption})
    if unknown:
        raise InvalidInput(f"Unknown release option(s): {', '.join(unknown)}. Choose from: "
                           f"{', '.join(o.value for o in ReleaseOption)}.", field="options")
    return tuple(o.value for o in ReleaseOption if o.value in chosen)


def clean_note(value: str | None) -> str:
    note = (value or "").strip()
    if len(note) > MAX_NOTE:
        raise InvalidInput(f"The note is {len(note)} characters; the limit is {MAX_NOTE}.", field="note")
    return note


# What may be published --------------------------------------------------------------------------------------

def hazards_by_asset(document: Mapping[str, Any]) -> dict[str, list[str]]:
    """Asset slug → its hazard types, from a submitted assessment document (the structured part only)."""
    known = {h.value for h in Hazard}
    result: dict[str, list[str]] = {}
    raw = document.get("assets") or {}
    if not isinstance(raw, Mapping):
        return result
    for slug, entry in raw.items():
        listed = entry if isinstance(entry, list) else (entry.get("hazards") if isinstance(entry, Mapping) else [])
        result[str(slug)] = [h for h in (listed or []) if h in known]
    return result


def redact_disagreements(disagreement: Sequence[Mapping[str, Any]]) -> list[dict[str, Any]]:
    """Dimensions with their spread and whether reviewers diverge; never who took which stance."""
    return [{"dimension": str(d.get("dimension", "")), "label": str(d.get("label", "")),
             "spread": int(d.get("spread", 0)), "diverges": bool(d.get("diverges", False))} for d in disagreement]


def vote_counts(tally: Mapping[str, int]) -> dict[str, int]:
    return {k: int(tally.get(k, 0)) for k in ("approve", "approve_with_conditions", "reject")}


@dataclass(frozen=True)
class AssetFacts:
    slug: str
    name: str
    kind: str
    current_tier: str
    high_water_tier: str


@dataclass(frozen=True)
class ProjectFacts:
    """What the service read about a project, for suggesting which release options it used."""

    assets: tuple[AssetFacts, ...]
    decided: Mapping[str, str]  # asset slug → tier the decision authorises
    plan_stages: int = 0
    days_to_last_stage: int = 0  # from the decision to the plan's last scheduled stage
    published_disclosures: int = 0
    has_agreement: bool = False


def suggest_options(facts: ProjectFacts) -> tuple[str, ...]:
    """Release options the stored facts show were used; the lead confirms or edits them before publishing.

    Only facts that are already public (or harmless) are used: an open, embargoed disclosure case does not
    suggest ``coordinated_disclosure`` until its summary is published.
    """
    def reach(a: AssetFacts) -> str:
        tiers = [a.current_tier] + ([facts.decided[a.slug]] if a.slug in facts.decided else [])
        return max(tiers, key=lambda t: Tier(t).rank)

    reached = {a.slug: reach(a) for a in facts.assets}
    widened = {s for s, t in reached.items() if t != Tier.team.value}
    kinds = {a.slug: a.kind for a in facts.assets}
    found: set[str] = set()
    if facts.plan_stages >= 2:
        found.add(ReleaseOption.staged_release.value)
    if len({reached[s] for s in widened}) >= 2:
        found.add(ReleaseOption.tiered_access.value)
    if widened and len(widened) < len(facts.assets):
        found.add(ReleaseOption.partial_release.value)
    if facts.days_to_last_stage >= 30:
        found.add(ReleaseOption.delayed_release.value)
    if facts.published_disclosures:
        found.add(ReleaseOption.coordinated_disclosure.value)
    if any(kinds[s] == "detector" for s in widened):
        found.add(ReleaseOption.detector_first.value)
    if facts.has_agreement:
        found.add(ReleaseOption.use_restricted_terms.value)
    if any(kinds[s] == "api" for s in widened):
        found.add(ReleaseOption.structured_access.value)
    return tuple(o.value for o in ReleaseOption if o.value in found)


def search_text(record: Mapping[str, Any]) -> str:
    """The lowercased text a search matches against: only what the record itself shows."""
    decision = record.get("decision", {})
    parts: list[str] = [record.get("org", {}).get("name", ""), record.get("project", {}).get("name", ""),
                        record.get("project", {}).get("description", ""), record.get("project", {}).get("modality", ""),
                        decision.get("rationale", ""), decision.get("outcome", ""), record.get("note", ""),
                        *decision.get("conditions", []), *record.get("hazards", []),
                        *(o.replace("_", " ") for o in record.get("options", [])),
                        *(f"{a['name']} {a['kind']}" for a in record.get("assets", []))]
    return " ".join(p for p in parts if p).lower()


def tags(record: Mapping[str, Any]) -> set[tuple[str, str]]:
    """(facet, value) pairs a record can be filtered by; outcome is live and not a tag."""
    result = {("hazard", h) for h in record.get("hazards", [])} | {("option", o) for o in record.get("options", [])}
    modality = record.get("project", {}).get("modality", "")
    if modality:
        result.add(("modality", modality))
    result.add(("decision", record.get("decision", {}).get("outcome", "")))
    return result


@dataclass(frozen=True)
class IncidentSummary:
    """Incidents opened after the decision: counts only, never titles, reports or reporters."""

    total: int = 0
    open: int = 0
    by_severity: Mapping[int, int] = field(default_factory=dict)
    by_harm: Mapping[str, int] = field(default_factory=dict)

    @property
    def severe(self) -> int:
        return sum(n for s, n in self.by_severity.items() if s >= SEVERE_FROM)

    @property
    def outcome(self) -> str:
        if not self.total:
            return Outcome.none.value
        return Outcome.severe.value if self.severe else Outcome.incidents.value

    def describe(self) -> str:
        if not self.total:
            return "No incidents since the decision."
        parts = ", ".join(f"severity {s}: {n}" for s, n in sorted(self.by_severity.items(), reverse=True))
        noun = "incident" if self.total == 1 else "incidents"
        return f"{self.total} {noun} since the decision ({parts}); {self.open} open."


def summarise_incidents(rows: Iterable[tuple[int, str, str]]) -> IncidentSummary:
    """From (severity, status, harm category) of each incident opened after the decision."""
    by_severity: dict[int, int] = {}
    by_harm: dict[str, int] = {}
    total = open_ = 0
    for severity, status, harm in rows:
        total += 1
        open_ += status == "open"
        by_severity[int(severity)] = by_severity.get(int(severity), 0) + 1
        by_harm[harm] = by_harm.get(harm, 0) + 1
    return IncidentSummary(total, open_, by_severity, by_harm)
