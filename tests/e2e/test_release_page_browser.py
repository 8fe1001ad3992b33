"""The public release page in Chromium: the plan timeline chart, phone and laptop widths, and print."""

from __future__ import annotations

from typing import Any

import pytest

from releasewise.services import accounts, plans, release_page, reviews
from releasewise.services.runtime import Runtime
from tests.conftest import PASSWORD, build_world
from tests.services.assessment_fixtures import expert, open_review, vote, with_submitted_assessment
from tests.services.test_plans import two_stage_plan
from tests.support.live import LiveServer

pytestmark = pytest.mark.e2e


def test_public_page_timeline_widths_and_print(browser: Any, live_server: LiveServer, sqlite_rt: Runtime) -> None:
    w = build_world(sqlite_rt)
    with_submitted_assessment(w)  # a decision approves paper → public, which the plan's first stage opens
    expert(w, "fiona", ["fraud"])
    review_id = open_review(w, ["fiona"], steps=["paper:public"])
    vote(w, accounts.authenticate_password(w.rt, login="fiona", password=PASSWORD, ip="x"), review_id, "approve")
    reviews.close_review(w.rt, w.lead, "lab-a", review_id, rationale="Paper is fine.")
    plans.apply_plan(w.rt, w.lead, "lab-a", "echo", two_stage_plan(w.rt))
    w.rt.clock.advance(days=2)  # type: ignore[attr-defined]
    plans.reconcile(w.rt)  # the paper stage opens; the weights stage is still to come
    release_page.set_public_page(w.rt, w.lead, "lab-a", "echo", enabled=True)

    for width, height in ((375, 812), (1280, 800)):
        context = browser.new_context(viewport={"width": width, "height": height})
        page = context.new_page()
        errors: list[str] = []
        page.on("console", lambda m, seen=errors: seen.append(m.text) if "Content Security Policy" in m.text else None)
        page.goto(f"{live_server.url}/p/lab-a/echo")
        chart = page.locator("#release-timeline svg.chart.timeline")
        assert chart.count() == 1 and chart.is_visible()
        assert page.locator("#release-timeline g.stage").count() == 2
        assert page.locator("#release-timeline g.stage-opened").count() == 1
        assert page.locator("#release-timeline g.stage-scheduled").count() == 1
        labels = chart.inner_html()
        assert "Paper public" in labels and "Weights to researchers" in labels and ">now<" in labels
        overflow = page.evaluate("document.documentElement.scrollWidth - window.innerWidth")
        assert overflow <= 0, f"horizontal scroll of {overflow}px at {width}px"
        assert errors == [], errors

        page.emulate_media(media="print")
        assert not page.locator("header nav").is_visible()  # no navigation on paper
        assert page.locator("#release-timeline svg").is_visible()  # the chart prints
        colours = page.evaluate("[getComputedStyle(document.body).backgroundColor, getComputedStyle(document.body)"
                                ".color]")
        assert colours == ["rgb(255, 255, 255)", "rgb(0, 0, 0)"]
        shown = page.evaluate("getComputedStyle(document.querySelector('.release-page a[href*=\"/report/\"]'),"
                              " '::after').content")
        assert "/report/lab-a/echo" in shown  # links are printed with their address
        assert page.evaluate("document.documentElement.scrollWidth - window.innerWidth") <= 0
        context.close()
