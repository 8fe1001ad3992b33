"""An anonymous misuse report with evidence → triage → incident → revoke the grant → the grantee is cut off."""

from __future__ import annotations

from typing import Any

import pytest

from releasewise.errors import NotFound
from releasewise.services import evidence_checks, provenance, registry
from releasewise.services.registry import AccessGated
from releasewise.services.runtime import Runtime
from tests.conftest import PASSWORD, build_world, make_user
from tests.hfapi.support import gated_setup, publish, request_and_approve
from tests.services.test_detection import photo_bytes, strip
from tests.support.live import LiveServer

pytestmark = pytest.mark.e2e


def can_download(rt: Runtime, actor: Any) -> bool:
    try:
        registry.resolve_file(rt, actor, "lab-a", "echo-weights-1b", "main", "w.bin")
    except (AccessGated, NotFound):
        return False
    return True


def test_anonymous_report_to_incident_to_revoked_grant(browser: Any, live_server: LiveServer,
                                                       sqlite_rt: Runtime) -> None:
    url = live_server.url
    sqlite_rt.settings.report_pow_bits = 10  # solved by the page's JavaScript
    world = build_world(sqlite_rt)
    publish(sqlite_rt, world.researcher, {"w.bin": b"weights"})
    gated_setup(sqlite_rt, world.lead)
    sam = make_user(sqlite_rt, "sam")
    grant = request_and_approve(sqlite_rt, sam, world.lead)
    assert can_download(sqlite_rt, sam)
    # Sam's hosted generations carry the model's watermark with Sam's grant; one ends up in a scam video,
    # re-encoded by the platform (no content credential left).
    leaked = provenance.mark_output(sqlite_rt, world.researcher, "lab-a", "echo", "weights-1b", release="v3",
                                    data=photo_bytes(), grant_id=grant)

    reporter = browser.new_context().new_page()
    reporter.goto(f"{url}/report/lab-a/echo")
    reporter.select_option("select[name=harm_category]", "fraud")
    reporter.fill("textarea[name=description]", "A cloned voice of our CEO called staff asking for transfers.")
    reporter.fill("textarea[name=urls]", "https://video.example/watch?v=42")
    reporter.set_input_files("input[name=evidence]", files=[
        {"name": "video-frame.jpg", "mimeType": "image/jpeg", "buffer": strip(leaked.data)}])
    reporter.click("#report-form button[type=submit]")
    reporter.wait_for_selector("#followup-link")
    link = reporter.get_attribute("#followup-link", "href")
    assert link and "/reports/followup/invitations/" in link
    reporter.goto(link)
    assert reporter.text_content("#report-status") == "new"

    lead = browser.new_context().new_page()
    lead.goto(f"{url}/login?next=/orgs/lab-a/reports")
    lead.fill("input[name=login]", "leo")
    lead.fill("input[name=password]", PASSWORD)
    lead.click("button[type=submit]")
    lead.wait_for_url(url + "/orgs/lab-a/reports")
    evidence_checks.check_pending(sqlite_rt)  # what the server's reconciler does in the background
    lead.reload()
    row = lead.locator("#report-queue tbody tr").first
    assert "fraud" in row.text_content() and "new" in row.text_content()
    assert "watermark traced" in row.text_content()
    row.locator("a").first.click()
    assert "anonymous" in lead.content() and "video-frame.jpg" in lead.content()
    traced = lead.text_content("[data-testid^=evidence-check]")
    assert f"grant #{grant}" in traced and "sam" in traced and "release v3" in traced
    lead.set_viewport_size({"width": 375, "height": 800})  # triage on a phone: nothing runs off the side
    assert lead.evaluate("document.documentElement.scrollWidth <= window.innerWidth")
    lead.set_viewport_size({"width": 1280, "height": 800})
    lead.select_option("#triage-form select[name=status]", "triaged")
    lead.select_option("#triage-form select[name=severity]", "4")
    lead.click("#triage-form button[type=submit]")
    assert lead.text_content("#report-status") == "triaged"
    lead.fill("#incident-form input[name=title]", "CEO voice-clone transfer scam")
    lead.select_option("#incident-form select[name=severity]", "4")
    lead.click("#incident-form button[type=submit]")
    lead.wait_for_selector("#incident-status")
    assert "CEO voice-clone transfer scam" in lead.text_content("h2")
    assert lead.input_value("#revoke-form select[name=grant_id]") == str(grant)  # preselected: traced
    assert "traced by evidence" in lead.text_content("#revoke-form")
    lead.fill("#revoke-form input[name=reason]", "The watermark in the evidence traces to this grant.")
    lead.click("#revoke-form button[type=submit]")
    lead.wait_for_selector(".flash")
    actions = lead.text_content("#incident-actions")
    assert "grant revoked" in actions and "sam" in actions and "watermark" in actions
    lead.select_option("#narrow-form select[name=target]", "weights-1b:trusted_partners")
    lead.fill("#narrow-form input[name=reason]", "Contain while we investigate.")
    lead.click("#narrow-form button[type=submit]")
    lead.wait_for_selector(".flash")
    assert "vetted_researchers → trusted_partners" in lead.text_content("#incident-actions")

    assert not can_download(sqlite_rt, sam)  # the grantee's next download fails
    reporter.goto(link)
    assert reporter.text_content("#report-status") == "confirmed"
    assert "leo" not in reporter.content()
