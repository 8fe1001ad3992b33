"""Shared set-up for precedent tests: decided reviews in two organisations."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from releasewise.services import accounts, assessments, projects, reviews
from tests.conftest import PASSWORD, World, join, make_user
from tests.services.assessment_fixtures import (
    STANCES,
    echo_document,
    expert,
    open_review,
    with_submitted_assessment,
)

COMMENT = "Fiona thinks the large model should never leave the building."


def decide(world: World, *, approve: bool = True, steps: list[str] | None = None) -> int:
    """Lab A's echo gets a submitted assessment and a closed review by the external expert fiona."""
    with_submitted_assessment(world)
    expert(world, "fiona", ["fraud"])
    fiona = accounts.authenticate_password(world.rt, login="fiona", password=PASSWORD, ip="x")
    review_id = open_review(world, ["fiona"], steps=steps or ["paper:public", "weights-1b:vetted_researchers"])
    reviews.declare_conflict(world.rt, fiona, "lab-a", review_id, has_conflict=False)
    reviews.vote(world.rt, fiona, "lab-a", review_id, vote="approve_with_conditions" if approve else "reject",
                 conditions=["Detector shared with two platforms first"] if approve else [], comments=COMMENT,
                 stances={**STANCES, "misuse_risk": 1})
    return reviews.close_review(world.rt, world.lead, "lab-a", review_id,
                                rationale="The paper carries limited marginal risk; weights only to vetted people.")


def second_lab(world: World, modality: str = "image") -> int:
    """Lab B (owned by the outsider) decides on an image generator with its own reviewer."""
    rt, oscar = world.rt, world.outsider
    projects.create_project(rt, oscar, "lab-b", name="Pixel forge", slug="pixel", modality=modality,
                            description="Photorealistic text-to-image generator.")
    projects.create_asset(rt, oscar, "lab-b", "pixel", name="API", kind="api")
    projects.create_asset(rt, oscar, "lab-b", "pixel", name="Weights", kind="weights")
    doc: dict[str, Any] = echo_document()
    doc["summary"] = "Pixel forge makes photorealistic faces."
    doc["assets"] = {"api": {"hazards": ["product"]}, "weights": {"hazards": ["product", "data"]}}
    for s in doc["scenarios"]:
        s["enabling_assets"] = ["weights"]
    assessments.save_draft(rt, oscar, "lab-b", "pixel", doc)
    assessments.submit(rt, oscar, "lab-b", "pixel")
    gale = make_user(rt, "gale")
    join(rt, oscar, "lab-b", gale, "reviewer")
    reviews.add_reviewer(rt, oscar, "lab-b", email="gale@example.org", expertise=["image", "harassment"])
    review = reviews.request_review(rt, oscar, "lab-b", "pixel", version=1, reviewers=["gale"], steps=["api:registered"],
                                    due_at=rt.clock.now() + timedelta(days=7))
    reviews.declare_conflict(rt, gale, "lab-b", review.id, has_conflict=False)
    reviews.vote(rt, gale, "lab-b", review.id, vote="approve", conditions=[], stances=STANCES)
    return reviews.close_review(rt, oscar, "lab-b", review.id, rationale="API only, with consent checks on faces.")
