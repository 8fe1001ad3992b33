from __future__ import annotations

import pytest
from sqlalchemy import select

from releasewise.errors import Conflict, InvalidInput, NotFound, PermissionDenied
from releasewise.services import assessments
from releasewise.store.models_assessment import AssessmentVersion
from tests.conftest import World
from tests.services.assessment_fixtures import echo_document, with_submitted_assessment


def test_draft_autosaves_incomplete_content_and_reports_problems(world: World) -> None:
    draft = assessments.save_draft(world.rt, world.researcher, "lab-a", "echo", {"summary": "work in progress"})
    assert draft.document == {"summary": "work in progress"}
    assert draft.problems and "scenarios" in draft.problems[0]
    assert assessments.get_draft(world.rt, world.lead, "lab-a", "echo").updated_by == "rita"


def test_submit_freezes_numbered_versions_with_a_versioned_profile(world: World) -> None:
    with_submitted_assessment(world)
    v1 = assessments.get_version(world.rt, world.lead, "lab-a", "echo", 1)
    assert v1.number == 1 and v1.scoring_version and v1.profile["assets"]
    with pytest.raises(Conflict, match="Nothing changed since version 1"):
        assessments.submit(world.rt, world.researcher, "lab-a", "echo")
    assessments.save_draft(world.rt, world.researcher, "lab-a", "echo", echo_document(deployment=3))
    v2 = assessments.submit(world.rt, world.researcher, "lab-a", "echo")
    assert v2.number == 2
    # Editing the draft again never changes a submitted version.
    assessments.save_draft(world.rt, world.researcher, "lab-a", "echo", {"summary": "scratch"})
    assert assessments.get_version(world.rt, world.lead, "lab-a", "echo", 1).document == v1.document
    changes = assessments.diff_versions(world.rt, world.lead, "lab-a", "echo", 1, 2)
    assert [(p, a, b) for p, a, b in changes] == [("scenarios[ceo-fraud].scores.deployment.score", 5, 3)]
    with world.rt.db.unit_of_work(write=False) as s:
        assert len(s.scalars(select(AssessmentVersion)).all()) == 2


def test_submit_refuses_an_incomplete_draft(world: World) -> None:
    doc = echo_document()
    doc["scenarios"][0]["scores"].pop("severity")
    assessments.save_draft(world.rt, world.researcher, "lab-a", "echo", doc)
    with pytest.raises(InvalidInput, match="severity"):
        assessments.submit(world.rt, world.researcher, "lab-a", "echo")
    assert assessments.list_versions(world.rt, world.lead, "lab-a", "echo") == []


def test_unknown_asset_in_assessment_is_refused(world: World) -> None:
    doc = echo_document()
    assessments.save_draft(world.rt, world.researcher, "lab-a", "echo", doc)  # 'paper' does not exist yet
    with pytest.raises(InvalidInput, match="'paper' is not an asset|paper: is not an asset"):
        assessments.submit(world.rt, world.researcher, "lab-a", "echo")


def test_import_yaml_names_field_and_line_and_imports_nothing(world: World) -> None:
    text = """summary: Echo
assets:
  weights-1b: [product]
scenarios:
  - id: s1
    title: Fraud
    actor: hacker
    goal: fraud
    enabling_assets: [weights-1b]
"""
    with pytest.raises(InvalidInput) as err:
        assessments.import_document(world.rt, world.researcher, "lab-a", "echo", text, filename="a.yaml")
    assert "scenarios[0].actor (line 7)" in err.value.message and "Nothing was imported" in err.value.message
    with pytest.raises(InvalidInput, match=r"line 2, column"):
        assessments.import_document(world.rt, world.researcher, "lab-a", "echo", "summary: [unclosed\nx: 1")
    with pytest.raises(NotFound):
        assessments.get_version(world.rt, world.lead, "lab-a", "echo", 1)
    assert assessments.get_draft(world.rt, world.lead, "lab-a", "echo").latest_version is None


def test_import_and_submit_from_json(world: World) -> None:
    import json

    from releasewise.services import projects

    projects.create_asset(world.rt, world.lead, "lab-a", "echo", name="Paper", kind="paper")
    version = assessments.import_document(world.rt, world.researcher, "lab-a", "echo",
                                          json.dumps(echo_document()), filename="a.json", submit_version=True)
    assert getattr(version, "number") == 1


def test_permissions(world: World) -> None:
    with_submitted_assessment(world)
    for who in (world.reviewer, world.viewer):
        with pytest.raises(PermissionDenied):
            assessments.list_versions(world.rt, who, "lab-a", "echo")
        with pytest.raises(NotFound):  # unassigned reviewers do not learn the version exists
            assessments.get_version(world.rt, who, "lab-a", "echo", 1)
        with pytest.raises(PermissionDenied):
            assessments.save_draft(world.rt, who, "lab-a", "echo", {"summary": "x"})
    with pytest.raises(NotFound):
        assessments.get_draft(world.rt, world.outsider, "lab-a", "echo")


def test_policy_tuning_is_validated_and_changes_recommendations(world: World) -> None:
    with_submitted_assessment(world)
    strict = assessments.get_version(world.rt, world.lead, "lab-a", "echo", 1).profile
    with pytest.raises(PermissionDenied):
        assessments.update_policy(world.rt, world.lead, "lab-a", scoring={"max_marginal_risk": 0.9})
    with pytest.raises(InvalidInput, match="max_marginal_risk"):
        assessments.update_policy(world.rt, world.owner, "lab-a", scoring={"max_marginal_risk": 2})
    assert assessments.get_policy(world.rt, world.owner, "lab-a").scoring["max_marginal_risk"] == 0.15
    assessments.update_policy(world.rt, world.owner, "lab-a", scoring={"max_marginal_risk": 0.9})
    assessments.save_draft(world.rt, world.researcher, "lab-a", "echo", echo_document(deployment=4))
    lenient = assessments.submit(world.rt, world.researcher, "lab-a", "echo").profile
    order = ["team", "reviewers", "trusted_partners", "vetted_researchers", "registered", "public"]
    rec = {a["asset"]: order.index(a["recommended_tier"]) for a in strict["assets"]}
    rec2 = {a["asset"]: order.index(a["recommended_tier"]) for a in lenient["assets"]}
    assert rec2["weights-1b"] > rec["weights-1b"]
    assert lenient["settings"]["max_marginal_risk"] == 0.9
