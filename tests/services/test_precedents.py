"""The precedent library: publishing and withdrawing (leads only, audited), redaction, search filters and
facets, and the live outcome (SQLite and PostgreSQL)."""

from __future__ import annotations

import json
import re

import pytest

from releasewise.clock import FrozenClock
from releasewise.errors import Conflict, InvalidInput, NotFound, PermissionDenied
from releasewise.services import (
    audit,
    incidents,
    precedent_search,
    precedents,
    projects,
)
from releasewise.services.runtime import Actor, Runtime
from tests.conftest import World
from tests.hfapi.support import set_tier
from tests.services.precedent_fixtures import COMMENT, decide, second_lab
from tests.services.test_incidents import file_report


def advance(world: World, **delta: float) -> None:
    assert isinstance(world.rt.clock, FrozenClock)
    world.rt.clock.advance(**delta)


def test_only_leads_of_the_organisation_publish_and_withdraw_and_both_are_audited(world: World) -> None:
    decision_id = decide(world)
    for actor in (world.researcher, world.reviewer, world.viewer):
        with pytest.raises(PermissionDenied):
            precedents.publish(world.rt, actor, "lab-a", decision_id)
    with pytest.raises(NotFound):
        precedents.publish(world.rt, world.outsider, "lab-a", decision_id)
    with pytest.raises(NotFound):  # another organisation's decision id, through one's own organisation
        precedents.publish(world.rt, world.outsider, "lab-b", decision_id)
    assert precedent_search.search(world.rt).total == 0

    pid = precedents.publish(world.rt, world.lead, "lab-a", decision_id, options=["staged_release", "detector_first"],
                             note="We would decide the same again.")
    assert precedent_search.search(world.rt).total == 1
    for actor in (world.researcher, world.reviewer, world.viewer):
        with pytest.raises(PermissionDenied):
            precedents.withdraw(world.rt, actor, "lab-a", decision_id)
    with pytest.raises(NotFound):
        precedents.withdraw(world.rt, world.outsider, "lab-a", decision_id)
    assert precedents.withdraw(world.rt, world.owner, "lab-a", decision_id) == pid
    with pytest.raises(Conflict, match="already withdrawn"):
        precedents.withdraw(world.rt, world.owner, "lab-a", decision_id)
    assert precedent_search.search(world.rt).total == 0
    with pytest.raises(NotFound, match="withdrawn"):
        precedent_search.get_precedent(world.rt, pid)
    assert precedents.publish(world.rt, world.lead, "lab-a", decision_id) == pid  # re-publishing reuses the record

    actions = [e.action for e in audit.list_events(world.rt, world.owner, "lab-a", action_prefix="precedent.")]
    assert actions == ["precedent.republished", "precedent.withdrawn", "precedent.published"]
    denied = audit.list_events(world.rt, world.owner, "lab-a", action_prefix="permission.denied")
    assert any(e.target_id == "precedent.publish" for e in denied)


def test_bad_options_or_note_change_nothing(world: World) -> None:
    decision_id = decide(world)
    with pytest.raises(InvalidInput, match="Choose from: staged_release, tiered_access"):
        precedents.publish(world.rt, world.lead, "lab-a", decision_id, options=["staged_release", "open_sesame"])
    with pytest.raises(InvalidInput, match="limit is 4000"):
        precedents.publish(world.rt, world.lead, "lab-a", decision_id, note="x" * 4001)
    assert precedent_search.search(world.rt).total == 0
    assert precedents.publication(world.rt, world.lead, "lab-a", decision_id).state == "unpublished"


def test_a_published_record_never_names_reviewers_or_holds_private_detail(world: World) -> None:
    decision_id = decide(world)
    reviews_decided = precedents.publication(world.rt, world.viewer, "lab-a", decision_id)
    assert reviews_decided.state == "unpublished"
    pid = precedents.publish(world.rt, world.lead, "lab-a", decision_id)
    view = precedent_search.get_precedent(world.rt, pid)
    dumped = json.dumps(view.record) + repr(view)
    for private in ("fiona", "fiona@example.org", "Fiona", COMMENT, "leo", "olivia", "rita",  # people, comments
                    "ceo-fraud", "Cloned executive voice", "threat-modelling",  # scenarios, their rationale
                    "Echo clones a voice", '"stances"', "met_by"):  # assessment prose, individual stances
        assert private not in dumped, private
    decision = view.decision
    assert decision["votes"] == {"approve": 0, "approve_with_conditions": 1, "reject": 0}
    assert decision["conditions"] == ["Detector shared with two platforms first"]
    assert any(d["diverges"] is False and d["spread"] == 0 for d in decision["disagreements"])
    assert view.record["project"]["modality"] == "audio"
    assert view.record["hazards"] == ["attention", "data", "product"]
    assets = {a["slug"]: a for a in view.record["assets"]}
    assert assets["paper"]["decided_tier"] == "public" and assets["weights-1b"]["hazards"] == ["product"]


def test_the_snapshot_does_not_follow_later_edits_until_republished(world: World) -> None:
    decision_id = decide(world)
    pid = precedents.publish(world.rt, world.lead, "lab-a", decision_id)
    projects.create_asset(world.rt, world.lead, "lab-a", "echo", name="Detector", kind="detector")
    assert [a["slug"] for a in precedent_search.get_precedent(world.rt, pid).record["assets"]] == ["weights-1b", "paper"]
    preview = precedents.publication(world.rt, world.lead, "lab-a", decision_id)
    assert preview.state == "published" and len(preview.preview["assets"]) == 3
    precedents.publish(world.rt, world.lead, "lab-a", decision_id)
    assert len(precedent_search.get_precedent(world.rt, pid).record["assets"]) == 3


def test_suggested_options_come_from_the_stored_facts(world: World) -> None:
    decision_id = decide(world)
    suggested = precedents.publication(world.rt, world.lead, "lab-a", decision_id).suggested_options
    # paper → public and weights → vetted_researchers: two audiences; nothing left at team
    assert suggested == ("tiered_access",)
    projects.create_asset(world.rt, world.lead, "lab-a", "echo", name="Recipe", kind="method_details")
    assert precedents.publication(world.rt, world.lead, "lab-a", decision_id).suggested_options == (
        "tiered_access", "partial_release")


def test_search_filters_facets_and_pagination(world: World) -> None:
    echo = decide(world)
    pixel = second_lab(world)
    precedents.publish(world.rt, world.lead, "lab-a", echo, options=["staged_release", "detector_first"])
    precedents.publish(world.rt, world.outsider, "lab-b", pixel, options=["structured_access"])
    search = precedent_search.search
    rt = world.rt

    assert search(rt).total == 2
    assert [v.title for v in search(rt, modality="image").items] == ["Pixel forge"]
    assert [v.title for v in search(rt, option="detector_first").items] == ["Echo"]
    assert [v.title for v in search(rt, hazard="attention").items] == ["Echo"]
    assert search(rt, hazard="product").total == 2
    assert [v.title for v in search(rt, query="CONSENT faces").items] == ["Pixel forge"]  # every word, any case
    assert search(rt, query="consent nonsense").total == 0
    assert search(rt, query="100%_").total == 0  # LIKE wildcards are literal
    assert [v.title for v in search(rt, org="lab-b").items] == ["Pixel forge"]
    assert search(rt, decision="rejected").total == 0

    result = search(rt, modality="audio")
    modality = {f.value: (f.count, f.selected) for f in result.facets["modality"]}
    assert modality["audio"] == (1, True) and modality["image"] == (1, False)  # own filter ignored
    options = {f.value: f.count for f in result.facets["option"]}
    assert options["detector_first"] == 1 and options["structured_access"] == 0  # other filters apply
    assert {f.value: f.count for f in result.facets["outcome"]} == {"none": 1, "incidents": 0, "severe": 0}

    first = search(rt, per_page=1)
    second = search(rt, per_page=1, page=2)
    assert (first.total, first.pages) == (2, 2)
    assert {first.items[0].title, second.items[0].title} == {"Echo", "Pixel forge"}
    assert search(rt, page=3, per_page=1).items == ()


@pytest.mark.parametrize("field,value,allowed", [
    ("modality", "smell", "audio, image, video, text, multimodal"),
    ("hazard", "fire", "product, data, attention"),
    ("option", "yolo", "staged_release, tiered_access"),
    ("outcome", "great", "none, incidents, severe"),
    ("decision", "maybe", "approved, rejected"),
])
def test_bad_filter_values_name_the_allowed_values(world: World, field: str, value: str, allowed: str) -> None:
    with pytest.raises(InvalidInput, match=allowed) as info:
        precedent_search.search(world.rt, **{field: value})
    assert info.value.field == field and value in info.value.message


def test_outcome_counts_only_incidents_opened_after_the_decision(world: World) -> None:
    world.rt.settings.report_pow_bits = 6
    set_tier(world.rt, "vetted_researchers")
    lead: Actor = world.lead
    before = file_report(world.rt).report_id
    incidents.triage(world.rt, lead, "lab-a", before, status="triaged")
    incidents.open_incident(world.rt, lead, "lab-a", report_ids=[before], title="Earlier leak", severity=5)
    advance(world, hours=1)
    decision_id = decide(world)
    pid = precedents.publish(world.rt, lead, "lab-a", decision_id)
    view = precedent_search.get_precedent(world.rt, pid)
    assert view.outcome.total == 0 and view.outcome.outcome == "none"  # the earlier incident does not count
    assert precedent_search.search(world.rt, outcome="none").total == 1

    advance(world, days=2)
    after = file_report(world.rt, ip="203.0.113.9").report_id
    incidents.triage(world.rt, lead, "lab-a", after, status="triaged")
    incident = incidents.open_incident(world.rt, lead, "lab-a", report_ids=[after], title="Voice scam", severity=3)
    file_report(world.rt, ip="203.0.113.10")  # an unconfirmed report never counts
    view = precedent_search.get_precedent(world.rt, pid)
    assert (view.outcome.total, view.outcome.open, dict(view.outcome.by_severity)) == (1, 1, {3: 1})
    assert view.outcome.outcome == "incidents" and "Voice scam" not in repr(view)
    assert precedent_search.search(world.rt, outcome="incidents").total == 1
    assert precedent_search.search(world.rt, outcome="severe").total == 0

    incidents.update_incident(world.rt, lead, "lab-a", incident.id, severity=4, resolve=True)
    view = precedent_search.get_precedent(world.rt, pid)
    assert (view.outcome.open, view.outcome.severe, view.outcome.outcome) == (0, 1, "severe")
    result = precedent_search.search(world.rt, outcome="severe")
    assert result.total == 1 and {f.value: f.count for f in result.facets["outcome"]} == {
        "none": 0, "incidents": 1, "severe": 1}


def test_the_demo_library_has_precedents_from_two_labs_with_every_outcome(rt: Runtime) -> None:
    from releasewise.services import demo

    demo.seed_demo(rt)
    result = precedent_search.search(rt)
    assert {v.org_name for v in result.items} == {"Resonance Voice Lab", "Lumen Imaging Collective"}
    assert {f.value: f.count for f in result.facets["outcome"]} == {"none": 1, "incidents": 2, "severe": 1}
    assert {f.value for f in result.facets["modality"] if f.count} == {"audio", "image", "video"}
    dumped = json.dumps([v.record for v in result.items])
    for private in ("sam", "amara", "Whitfield", "Osei", "ceo-fraud", "StreamSafe", "Former bank fraud"):
        assert re.search(rf"\b{private}\b", dumped, re.IGNORECASE) is None, private
