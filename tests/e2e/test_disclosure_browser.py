"""Opening a disclosure case, a party accepting and marking ready in a second browser, the readiness board."""

from __future__ import annotations

from datetime import UTC, timedelta
from typing import Any

import pytest

from releasewise.notify.mail import MemoryMailer
from releasewise.services import disclosure, outbox
from releasewise.services.runtime import Runtime
from tests.conftest import build_world
from tests.e2e.test_assessment_browser import signed_in
from tests.support.live import LiveServer

pytestmark = pytest.mark.e2e


def test_open_case_party_accepts_and_is_ready_on_the_board(browser: Any, live_server: LiveServer,
                                                            sqlite_rt: Runtime) -> None:
    world = build_world(sqlite_rt)
    disclosure.add_stakeholder(sqlite_rt, world.lead, "lab-a", name="Moderate Platform", type="platform",
                               interests=["audio"], shared=True, contacts=[("Tina", "tina@platform.example", "")])
    disclosure.add_stakeholder(sqlite_rt, world.lead, "lab-a", name="Detect Lab", type="detection_research",
                               contacts=[("Dan", "dan@detect.example", "")])
    url = live_server.url
    now = sqlite_rt.clock.now().replace(tzinfo=UTC)

    leo = signed_in(browser, url, "leo")
    leo.goto(url + "/orgs/lab-a")
    leo.click("nav.tabs >> text=Disclosure")
    leo.fill("input[name=title]", "Echo-1 voice cloning")
    leo.fill("textarea[name=briefing_md]", "Echo clones voices. **Detector** attached.")
    leo.fill("input[name=embargo_ends_at]", f"{now + timedelta(days=10):%Y-%m-%dT%H:%M}")
    leo.locator("form.stack select[name=timezone]").select_option("UTC")
    leo.click("text=Open case")
    leo.wait_for_selector("text=Case opened")
    assert "Detector" in leo.inner_text(".briefing")
    for name in ("Moderate Platform", "Detect Lab"):
        leo.select_option("select[name=stakeholder_id]", label=f"{name} (" + ("platform, shared)" if name.startswith(
            "Moderate") else "detection_research)"))
        leo.fill("#invite-form input[name=respond_by]", f"{now + timedelta(days=3):%Y-%m-%dT%H:%M}")
        leo.locator("#invite-form select[name=timezone]").select_option("UTC")
        leo.click("#invite-form button[type=submit]")
        leo.wait_for_selector("text=Invited; each contact")
    assert leo.locator("[data-column=awaiting_answer] li").count() == 2

    outbox.deliver_pending(sqlite_rt)
    assert isinstance(sqlite_rt.mailer, MemoryMailer)
    mail = next(m for m in sqlite_rt.mailer.sent if m.recipient == "tina@platform.example")
    link = next(line for line in mail.body.splitlines() if "/disclosure/invitations/" in line).strip()

    # The party, without an account, in a second browser context.
    party = browser.new_context().new_page()
    party.goto(link)
    assert "Accept the embargo to see the briefing" in party.inner_text("main")
    assert "Detector" not in party.inner_text("main")
    party.click("text=Accept the embargo")
    party.wait_for_selector("#party-state >> text=accepted")
    assert "Detector" in party.inner_text(".briefing")
    party.click("#state-form >> text=Ready")
    party.wait_for_selector("#party-state >> text=ready")
    assert "Detect Lab" not in party.inner_text("main")

    leo.reload()
    assert leo.inner_text("[data-column=ready] ul") == "Moderate Platform"
    assert leo.inner_text("[data-column=awaiting_answer] ul") == "Detect Lab"
    assert leo.locator("tr[data-party='Moderate Platform'] .badge").inner_text() == "ready"
