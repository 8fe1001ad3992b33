"""The precedent library in a real browser: a lead publishes a decision from its page, an anonymous visitor
searches with a filter and opens the record; no private detail, no sideways scroll, printable."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import pytest

from releasewise.services import precedents
from releasewise.services.runtime import Runtime
from tests.conftest import PASSWORD, build_world
from tests.services.precedent_fixtures import COMMENT, decide, second_lab
from tests.support.live import LiveServer

pytestmark = pytest.mark.e2e
SHOTS = os.environ.get("RELEASEWISE_SCREENSHOTS")  # a folder to keep screenshots in, for docs and review


def no_sideways_scroll(page: Any, what: str, width: int) -> None:
    overflow = page.evaluate("document.documentElement.scrollWidth - window.innerWidth")
    assert overflow <= 0, f"{what} scrolls sideways by {overflow}px at {width}px"


def shot(page: Any, tmp_path: Path, name: str) -> None:
    page.screenshot(path=str(Path(SHOTS or tmp_path) / f"{name}.png"), full_page=True)


def test_publish_search_and_open_a_precedent(browser: Any, live_server: LiveServer, sqlite_rt: Runtime,
                                             tmp_path: Path) -> None:
    url = live_server.url
    world = build_world(sqlite_rt)
    decision_id = decide(world)
    precedents.publish(sqlite_rt, world.outsider, "lab-b", second_lab(world), options=["structured_access"])

    lead = browser.new_context(viewport={"width": 375, "height": 800}).new_page()  # a lead on a phone
    lead.goto(f"{url}/login?next=/orgs/lab-a/decisions/{decision_id}")
    lead.fill("input[name=login]", "leo")
    lead.fill("input[name=password]", PASSWORD)
    lead.click("button[type=submit]")
    lead.wait_for_url(f"{url}/orgs/lab-a/decisions/{decision_id}")
    lead.click("#precedent-link")
    assert lead.text_content("#publication-state") == "unpublished"
    assert lead.is_checked("#publish-form input[value=tiered_access]")  # suggested from the decision's audiences
    lead.check("#publish-form input[value=staged_release]")
    lead.check("#publish-form input[value=detector_first]")
    lead.fill("#publish-form textarea[name=note]", "Brief platforms before the paper.")
    no_sideways_scroll(lead, "the publish page", 375)
    shot(lead, tmp_path, "precedent-publish-375")
    lead.click("#publish-form button[type=submit]")
    lead.wait_for_url(f"{url}/precedents/*")
    assert "Published to the precedent library" in lead.text_content(".flash")
    record_url = lead.url

    for width in (375, 1280):
        visitor = browser.new_context(viewport={"width": width, "height": 800}).new_page()  # not signed in
        visitor.goto(url + "/")
        visitor.click("nav >> text=Precedents")
        visitor.wait_for_url(url + "/precedents")
        assert "2" in visitor.text_content("#result-count")
        no_sideways_scroll(visitor, "/precedents", width)
        visitor.select_option("#precedent-search select[name=modality]", "audio")
        visitor.fill("#precedent-search input[name=q]", "vetted")
        visitor.click("#precedent-search button[type=submit]")
        visitor.wait_for_url("**/precedents?*modality=audio*")
        assert "1" in visitor.text_content("#result-count")
        assert visitor.locator("article.precedent").count() == 1
        assert "Pixel forge" not in visitor.text_content(".results")
        selected = visitor.locator("#facet-modality a.selected")
        assert "audio" in selected.text_content() and "1" in selected.text_content()
        no_sideways_scroll(visitor, "/precedents?modality=audio", width)
        shot(visitor, tmp_path, f"precedent-search-{width}")

        visitor.click("article.precedent h2 a")
        visitor.wait_for_url(record_url)
        text = visitor.text_content("main")
        assert "Staged release" in text and "Detector first" in text and "Brief platforms before the paper." in text
        assert "No incidents since the decision." in text
        assert "1 approve with conditions" in visitor.text_content("#record-votes")
        for private in ("fiona", "Fiona", COMMENT, "leo", "ceo-fraud", "Cloned executive voice"):
            assert private not in visitor.content(), private
        assert visitor.locator("#record-disagreement svg").count() == 1
        no_sideways_scroll(visitor, record_url, width)
        shot(visitor, tmp_path, f"precedent-record-{width}")

        visitor.emulate_media(media="print")  # printable: navigation and forms drop out, the record stays
        assert not visitor.is_visible("header.topbar") and visitor.is_visible("#record-decision")
        visitor.context.close()

    bad = browser.new_context().new_page()
    response = bad.goto(url + "/precedents?hazard=fire")
    assert response is not None and response.status == 422
    assert "product, data, attention" in bad.text_content("[role=alert]")
    bad.context.close()
