"""Writing an assessment, requesting a review, two reviewers voting, and the decision page — in Chromium."""

from __future__ import annotations

from typing import Any

import pytest

from releasewise.services import assessments, projects
from releasewise.services.runtime import Runtime
from tests.conftest import PASSWORD, build_world
from tests.services.assessment_fixtures import expert
from tests.support.live import LiveServer

pytestmark = pytest.mark.e2e


def signed_in(browser: Any, url: str, username: str) -> Any:
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    page = context.new_page()
    page.goto(url + "/login")
    page.fill("input[name=login]", username)
    page.fill("input[name=password]", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url(url + "/")
    return page


def test_assessment_review_and_decision_journey(browser: Any, live_server: LiveServer, sqlite_rt: Runtime) -> None:
    world = build_world(sqlite_rt)
    projects.create_asset(sqlite_rt, world.lead, "lab-a", "echo", name="Paper", kind="paper")
    expert(world, "fiona", ["fraud", "audio"])
    expert(world, "dmitri", ["disinformation"])
    url = live_server.url

    # A researcher writes the assessment in the editor; it autosaves, then she submits it.
    rita = signed_in(browser, url, "rita")
    rita.goto(url + "/orgs/lab-a/projects/echo")
    rita.click("text=Risk assessment, reviews and decisions")
    rita.click("text=Write the assessment")
    rita.fill("textarea[name=summary]", "Echo clones voices from three seconds of audio.")
    rita.wait_for_selector("#save-status >> text=Saved")
    rita.check("input[name='asset-weights-1b-hazards'][value=product]")
    rita.check("input[name='asset-paper-hazards'][value=attention]")
    rita.fill("input[name=s-0-title]", "Cloned executive voice authorises a wire transfer")
    rita.select_option("select[name=s-0-actor]", "some_programming")
    rita.check("input[name=s-0-assets][value=weights-1b]")
    for factor, score in [("awareness", "4"), ("deployment", "5"), ("severity", "4"), ("reversibility", "4")]:
        rita.select_option(f"select[name=s-0-{factor}-score]", score)
    for box in rita.locator("textarea[name$='-why']").all():
        box.fill("Estimated in the lab's threat-modelling session.")
    rita.fill("input[name=cf-why]", "Open clones trail by a year.")
    rita.select_option("select[name=cf-availability]", "soon")
    rita.wait_for_selector("#save-status >> text=ready to submit")
    rita.click("button:has-text('Submit as version 1')")
    rita.wait_for_url(url + "/orgs/lab-a/projects/echo/assessment/versions/1")
    assert rita.locator("svg.risk-matrix g.dot").count() == 1
    assert rita.locator("svg.recommendation").count() == 1
    assert assessments.get_version(sqlite_rt, world.lead, "lab-a", "echo", 1).document["defenses"]["score"] == 3

    # The release lead picks two reviewers (suggested by expertise) and the step to decide.
    leo = signed_in(browser, url, "leo")
    leo.goto(url + "/orgs/lab-a/projects/echo/assessment/versions/1")
    assert leo.locator("#request-review label.check").first.text_content().strip().startswith("Fiona")
    leo.check("input[name=reviewers][value=fiona]")
    leo.check("input[name=reviewers][value=dmitri]")
    leo.select_option("select[name=step-weights-1b]", "vetted_researchers")
    leo.click("button:has-text('Request review')")
    leo.wait_for_url(f"{url}/orgs/lab-a/reviews/*")
    review_url = leo.url

    # Two reviewers declare no conflict and vote; one attaches a condition.
    for name, vote, condition, risk in [("fiona", "approve_with_conditions", "Watermark every API output", "1"),
                                        ("dmitri", "approve", "", "4")]:
        page = signed_in(browser, url, name)
        page.goto(url + "/reviews")
        page.click("text=Echo v1")
        page.wait_for_url(review_url)
        page.click("button:has-text('Declare')")
        page.check(f"input[name=vote][value={vote}]")
        if condition:
            page.fill("textarea[name=conditions]", condition)
        for dimension in ["misuse_risk", "counterfactual_impact", "value_of_openness", "who_should_decide",
                          "attention_effects"]:
            page.check(f"input[name=stance-{dimension}][value='{risk if dimension == 'misuse_risk' else '3'}']")
        page.click("button:has-text('Record vote')")
        assert "Your vote is recorded" in page.text_content(".flash")
        page.context.close()

    # The lead closes the review; the decision page shows tally, condition, disagreement and risk matrix.
    leo.goto(review_url)
    assert "2 of 2 reviewers have voted" in leo.text_content("body")
    leo.fill("textarea[name=rationale]", "Vetted researchers only, with watermarking.")
    leo.click("button:has-text('Record decision')")
    leo.wait_for_url(f"{url}/orgs/lab-a/decisions/*")
    assert "approved" in leo.text_content("h1")
    assert "Watermark every API output" in leo.text_content(".conditions")
    assert leo.locator("svg.risk-matrix g.dot").count() == 1
    stances = leo.locator("svg.stances")
    assert "fiona" in stances.text_content() and "dmitri" in stances.text_content()
    assert leo.locator("svg.stances line[stroke='#d64545']").count() == 1  # misuse risk: 1 vs 4 diverges
    leo.click("button:has-text('Mark met')")
    assert "marked met" in leo.text_content(".flash")
    rita.context.close()
    leo.context.close()
