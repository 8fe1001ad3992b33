"""Shared set-up for assessment, review and decision tests."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from releasewise.services import assessments, projects, reviews
from releasewise.services.runtime import Actor
from tests.conftest import World, join, make_user


def sc(value: int, why: str = "estimated in the lab's threat-modelling session") -> dict[str, Any]:
    return {"score": value, "rationale": why}


def echo_document(deployment: int = 5) -> dict[str, Any]:
    return {
        "summary": "Echo clones a voice from three seconds of audio.",
        "assets": {"weights-1b": {"hazards": ["product"]}, "paper": {"hazards": ["attention", "data"]}},
        "scenarios": [
            {"id": "ceo-fraud", "title": "Cloned executive voice authorises a wire transfer", "actor": "some_programming",
             "goal": "fraud", "enabling_assets": ["weights-1b"],
             "scores": {"awareness": sc(4), "deployment": sc(deployment), "sustained_use": sc(3), "severity": sc(4),
                        "scale": sc(3), "reversibility": sc(4)}},
            {"id": "election-robocall", "title": "Candidate voice in robocalls", "actor": "well_resourced_group",
             "goal": "disinformation", "enabling_assets": ["weights-1b", "paper"],
             "scores": {"awareness": sc(3), "deployment": sc(3), "sustained_use": sc(2), "severity": sc(4),
                        "scale": sc(5), "reversibility": sc(3)}},
        ],
        "counterfactual": {"availability": "soon", "rationale": "open clones trail by about a year"},
        "defenses": sc(2),
        "benefits": {"scientific": sc(4), "defensive": sc(3), "societal": sc(4)},
    }


def with_submitted_assessment(world: World) -> None:
    """Lab A's 'echo' project gets a paper asset and a submitted version 1 written by the researcher."""
    projects.create_asset(world.rt, world.lead, "lab-a", "echo", name="Paper", kind="paper")
    assessments.save_draft(world.rt, world.researcher, "lab-a", "echo", echo_document())
    assessments.submit(world.rt, world.researcher, "lab-a", "echo")


def expert(world: World, name: str, tags: list[str]) -> Actor:
    """A member with the reviewer role in Lab A's reviewer pool."""
    actor = make_user(world.rt, name)
    join(world.rt, world.owner, "lab-a", actor, "reviewer")
    reviews.add_reviewer(world.rt, world.lead, "lab-a", email=f"{name}@example.org", expertise=tags)
    return actor


STANCES = {"misuse_risk": 2, "counterfactual_impact": 3, "value_of_openness": 4, "who_should_decide": 3,
           "attention_effects": 3}


def open_review(world: World, reviewers: list[str], steps: list[str] | None = None) -> int:
    view = reviews.request_review(world.rt, world.lead, "lab-a", "echo", version=1, reviewers=reviewers,
                                  steps=steps or ["weights-1b:vetted_researchers", "paper:public"],
                                  due_at=world.rt.clock.now() + timedelta(days=7))
    return view.id


def vote(world: World, actor: Actor, review_id: int, choice: str, conditions: list[str] | None = None,
         stances: dict[str, int] | None = None) -> None:
    reviews.declare_conflict(world.rt, actor, "lab-a", review_id, has_conflict=False)
    reviews.vote(world.rt, actor, "lab-a", review_id, vote=choice, conditions=conditions or [],
                 stances=stances or STANCES)


