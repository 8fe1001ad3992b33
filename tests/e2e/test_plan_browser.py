"""Building a plan from a template, reading its timeline, and a stage opening by itself when its time comes."""

from __future__ import annotations

import time
from collections.abc import Iterator
from typing import Any

import pytest

from releasewise.services import accounts, projects, reviews
from releasewise.services.runtime import Runtime
from tests.conftest import PASSWORD, build_world
from tests.e2e.test_assessment_browser import signed_in
from tests.services.assessment_fixtures import expert, open_review, vote, with_submitted_assessment
from tests.support.live import LiveServer, serving

pytestmark = pytest.mark.e2e


@pytest.fixture
def fast_server(sqlite_rt: Runtime) -> Iterator[LiveServer]:
    """A live server whose background reconciler runs every 0.2 s."""
    with serving(sqlite_rt, outbox_interval_seconds=0.2) as server:
        yield server


def test_plan_from_template_timeline_and_stage_opening(browser: Any, fast_server: LiveServer,
                                                      sqlite_rt: Runtime) -> None:
    world = build_world(sqlite_rt)
    with_submitted_assessment(world)
    projects.create_asset(sqlite_rt, world.lead, "lab-a", "echo", name="Detector", kind="detector")
    expert(world, "fiona", ["fraud"])
    review_id = open_review(world, ["fiona"], steps=["detector:trusted_partners"])
    vote(world, accounts.authenticate_password(sqlite_rt, login="fiona", password=PASSWORD, ip="x"), review_id,
         "approve")
    reviews.close_review(sqlite_rt, world.lead, "lab-a", review_id, rationale="Detector first.")
    url = fast_server.url

    page = signed_in(browser, url, "leo")
    page.goto(url + "/orgs/lab-a/projects/echo")
    page.click("text=Release plan and timeline")
    assert "No release plan yet" in page.text_content("main")
    page.select_option("select[name=template]", "detector-first")
    page.click("button:has-text('Fill the editor')")
    text = page.input_value("textarea[name=document]")
    assert "detector:trusted_partners" in text and "template: detector-first" in text
    page.click("button:has-text('Save plan')")
    assert "Plan saved" in page.text_content(".flash")
    assert page.locator("svg.timeline g.stage").count() == 3
    assert page.locator("svg.timeline g.stage-scheduled").count() == 3
    gates = page.text_content("#stage-publish .gates")
    assert "0 of 2 acknowledged" in gates  # the disclosure gate holds the second stage

    # Time passes: the server's own reconciler opens the first stage, with no click.
    sqlite_rt.clock.advance(days=2)  # type: ignore[attr-defined]
    deadline = time.time() + 15
    while time.time() < deadline:
        page.reload()
        if page.locator("#stage-partners .stage-badge-opened").count():
            break
        time.sleep(0.3)
    assert page.locator("#stage-partners .stage-badge-opened").count() == 1
    assert "release plan (reconciler)" in page.text_content("#stage-partners")
    assert page.locator("svg.timeline g.stage-opened").count() == 1
    assert page.locator("svg.timeline g.stage-waiting").count() == 0  # stage 2 is 30 days out
    page.goto(url + "/orgs/lab-a/projects/echo")
    detector_row = page.locator("table.assets tr", has_text="Detector")
    assert "trusted_partners" in detector_row.text_content()
    page.context.close()
