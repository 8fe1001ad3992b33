"""Demo data for the precedent library: the demo lab publishes its Echo-2 decision, and a second
organisation (an image lab sharing the demo's external reviewers) publishes two cases of its own — an
approved, API-only image generator that later saw a severe incident, and a rejected lip-sync model.

Seeded through the same services users call. Kept apart from ``demo.py`` so each stays readable; only
one extra password is hashed, so the demo still starts quickly.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta
from typing import Any

from releasewise.clock import FrozenClock
from releasewise.services import (
    accounts,
    assessments,
    decisions,
    orgs,
    precedents,
    projects,
    reviews,
    tiers,
)
from releasewise.services.runtime import Actor, Runtime

LUMEN_SLUG = "lumen-imaging"


def _score(value: int, why: str) -> dict[str, Any]:
    return {"score": value, "rationale": why}


def _assessment(summary: str, assets: dict[str, list[str]], scenario: dict[str, Any], defenses: int) -> dict[str, Any]:
    return {
        "schema": "releasewise.assessment/1", "summary": summary,
        "assets": {slug: {"hazards": hazards} for slug, hazards in assets.items()},
        "scenarios": [scenario],
        "counterfactual": {"availability": "soon", "rationale": "Comparable open models are expected within a year."},
        "defenses": _score(defenses, "Detectors for this kind of media exist but generalise poorly."),
        "benefits": {"scientific": _score(4, "A clear step in sample quality."),
                     "defensive": _score(3, "Outputs help detector builders."),
                     "societal": _score(3, "Creative and accessibility tools.")},
    }


def _review(rt: Runtime, lead: Actor, project: str, steps: list[str], ballots: list[tuple[Actor, str, list[str],
            dict[str, int]]], rationale: str) -> int:
    review = reviews.request_review(rt, lead, LUMEN_SLUG, project, version=1, reviewers=[b[0].username for b in ballots],
                                    steps=steps, due_at=rt.clock.now() + timedelta(days=10))
    for actor, vote, conditions, stances in ballots:
        reviews.declare_conflict(rt, actor, LUMEN_SLUG, review.id, has_conflict=False)
        reviews.vote(rt, actor, LUMEN_SLUG, review.id, vote=vote, conditions=conditions, stances=stances)
    return reviews.close_review(rt, lead, LUMEN_SLUG, review.id, rationale=rationale)


def _lumen_xl(rt: Runtime, noor: Actor, sam: Actor, amara: Actor) -> int:
    projects.create_project(rt, noor, LUMEN_SLUG, name="Lumen-XL text-to-image", slug="lumen-xl", modality="image",
                            description="Photorealistic text-to-image generation at 2048 px, with image editing.")
    for name, kind in [("Lumen-XL paper", "paper"), ("Lumen-XL weights", "weights"), ("Lumen-XL API", "api"),
                       ("Lumen-XL detector", "detector")]:
        projects.create_asset(rt, noor, LUMEN_SLUG, "lumen-xl", name=name, kind=kind)
    doc = _assessment(
        "Lumen-XL edits real photographs convincingly; the main risk is non-consensual imagery of real people.",
        {"lumen-xl-paper": ["attention", "data"], "lumen-xl-weights": ["product"], "lumen-xl-api": ["product"],
         "lumen-xl-detector": []},
        {"id": "ncii-edits", "title": "Non-consensual intimate edits of real photographs", "actor": "no_technical_skill",
         "goal": "non_consensual_imagery", "enabling_assets": ["lumen-xl-weights", "lumen-xl-api"],
         "scores": {f: _score(v, "Judged in the lab's threat-modelling session.") for f, v in
                    {"awareness": 4, "deployment": 4, "sustained_use": 4, "severity": 5, "scale": 4,
                     "reversibility": 5}.items()}}, defenses=3)
    assessments.save_draft(rt, noor, LUMEN_SLUG, "lumen-xl", doc)
    assessments.submit(rt, noor, LUMEN_SLUG, "lumen-xl")
    steps = ["lumen-xl-api:registered", "lumen-xl-paper:public", "lumen-xl-detector:public"]
    decision_id = _review(rt, noor, "lumen-xl", steps,
                   [(sam, "approve_with_conditions", ["Refuse image edits of uploaded photos of real people"],
                     {"misuse_risk": 2, "counterfactual_impact": 2, "value_of_openness": 3, "who_should_decide": 3,
                      "attention_effects": 3}),
                    (amara, "approve", [], {"misuse_risk": 3, "counterfactual_impact": 2, "value_of_openness": 5,
                                            "who_should_decide": 4, "attention_effects": 3})],
                   "API only for registered users, with the detector public from day one; the weights stay in the "
                   "lab because non-consensual edits need no skill once they are out.")
    decisions.mark_condition_met(rt, noor, LUMEN_SLUG, decision_id, 0)
    for step in steps:
        asset, tier = step.split(":")
        tiers.set_asset_tier(rt, noor, LUMEN_SLUG, "lumen-xl", asset, tier, reason=f"Decision #{decision_id}")
    return decision_id


def _facesync(rt: Runtime, noor: Actor, sam: Actor, amara: Actor) -> int:
    projects.create_project(rt, noor, LUMEN_SLUG, name="Facesync lip-sync video", slug="facesync", modality="video",
                            description="Re-times a speaker's lips in video to any audio track.")
    for name, kind in [("Facesync code", "code"), ("Facesync weights", "weights")]:
        projects.create_asset(rt, noor, LUMEN_SLUG, "facesync", name=name, kind=kind)
    doc = _assessment(
        "Facesync makes any filmed person appear to say anything; detectors for lip-sync edits barely exist.",
        {"facesync-code": ["product", "data"], "facesync-weights": ["product"]},
        {"id": "fake-statement", "title": "Politician appears to concede an election", "actor": "some_programming",
         "goal": "disinformation", "enabling_assets": ["facesync-weights", "facesync-code"],
         "scores": {f: _score(v, "Judged with two election-integrity researchers.") for f, v in
                    {"awareness": 4, "deployment": 4, "sustained_use": 3, "severity": 5, "scale": 5,
                     "reversibility": 4}.items()}}, defenses=1)
    assessments.save_draft(rt, noor, LUMEN_SLUG, "facesync", doc)
    assessments.submit(rt, noor, LUMEN_SLUG, "facesync")
    return _review(rt, noor, "facesync", ["facesync-weights:public", "facesync-code:public"],
                   [(sam, "reject", [], {"misuse_risk": 1, "counterfactual_impact": 2, "value_of_openness": 2,
                                         "who_should_decide": 2, "attention_effects": 2}),
                    (amara, "reject", [], {"misuse_risk": 1, "counterfactual_impact": 4, "value_of_openness": 4,
                                           "who_should_decide": 3, "attention_effects": 1})],
                   "Rejected for now: no detector can flag lip-sync edits yet. We will ask again once one exists, "
                   "and share the method privately with detection researchers meanwhile.")


def seed_precedents(rt: Runtime, actors: dict[str, Actor], org_slug: str, echo_decision: int) -> None:
    """Publish the demo lab's decision, and give the library an image and a video case from a second lab."""
    precedents.publish(rt, actors["jonas"], org_slug, echo_decision,
                       options=["staged_release", "tiered_access", "partial_release", "detector_first"],
                       note="Share the detector with platforms before anything else; it made the review easy.")
    accounts.sign_up(rt, username="noor", email="noor@lumen-imaging.example", password="releasewise-demo",
                     display_name="Noor Haddad")
    noor = accounts.authenticate_password(rt, login="noor", password="releasewise-demo", ip="127.0.0.1")
    orgs.create_org(rt, noor, name="Lumen Imaging Collective", slug=LUMEN_SLUG,
                    description="An open image-generation lab sharing the consortium's reviewers.")
    sam, amara = actors["sam"], actors["amara"]
    for reviewer in (sam, amara):  # the consortium's shared external reviewers
        _, link = orgs.invite_member(rt, noor, LUMEN_SLUG, email=f"{reviewer.username}@resonance-lab.example",
                                     role="reviewer")
        orgs.accept_invitation(rt, reviewer, link.rsplit("/", 1)[-1])
        reviews.add_reviewer(rt, noor, LUMEN_SLUG, email=f"{reviewer.username}@resonance-lab.example",
                             expertise=["image", "video", "disinformation"])
    clock = FrozenClock(rt.clock.now() - timedelta(days=60))
    past = replace(rt, clock=clock)
    xl = _lumen_xl(past, noor, sam, amara)
    clock.advance(days=30)
    facesync = _facesync(past, noor, sam, amara)
    precedents.publish(rt, noor, LUMEN_SLUG, xl, options=["structured_access", "partial_release", "detector_first",
                                                         "provenance_on_outputs", "use_restricted_terms"],
                       note="Keeping the weights in the lab was right: the one serious misuse came through the API, "
                            "where we could cut it off the same day.")
    precedents.publish(rt, noor, LUMEN_SLUG, facesync, options=["partial_release"],
                       note="A rejection is a precedent too.")
    _lumen_incident(rt, noor)


def _lumen_incident(rt: Runtime, noor: Actor) -> None:
    """One severe incident after the Lumen-XL decision, so the library shows outcomes of every kind."""
    from releasewise.domain.incidents import solve
    from releasewise.services import incidents

    c = incidents.challenge(rt)
    filed = incidents.submit_report(
        rt, None, LUMEN_SLUG, "lumen-xl", description="Edited images of a journalist spread in a harassment campaign.",
        harm_category="harassment", urls=["https://social.example/posts/2024"], evidence=[],
        challenge=c.challenge, solution=solve(c.challenge), ip="203.0.113.40")
    incidents.triage(rt, noor, LUMEN_SLUG, filed.report_id, status="triaged", severity=4)
    incidents.open_incident(rt, noor, LUMEN_SLUG, report_ids=[filed.report_id], title="Harassment with API edits",
                            severity=4)
