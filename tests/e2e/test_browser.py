"""The foundation's main journeys in a real headless Chromium."""

from __future__ import annotations

from typing import Any

import pytest

from releasewise.services.runtime import Runtime
from tests.conftest import PASSWORD, make_user
from tests.support.live import LiveServer

pytestmark = pytest.mark.e2e


def sign_up(page: Any, url: str, username: str) -> None:
    page.goto(url + "/signup")
    page.fill("input[name=username]", username)
    page.fill("input[name=email]", f"{username}@example.org")
    page.fill("input[name=password]", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url(url + "/")


def test_sign_up_create_org_invite_project_and_audit(browser: Any, live_server: LiveServer,
                                                     sqlite_rt: Runtime) -> None:
    url = live_server.url
    make_user(sqlite_rt, "ines")  # the colleague who will be invited
    context = browser.new_context()
    page = context.new_page()

    sign_up(page, url, "nadia")
    assert "Welcome to releasewise" in page.text_content(".flash")

    page.click("text=New organisation")
    page.fill("input[name=name]", "Pixel Forge Lab")
    page.fill("textarea[name=description]", "Text-to-image diffusion research")
    page.click("button:has-text('Create organisation')")
    page.wait_for_url(url + "/orgs/pixel-forge-lab")
    assert "You are its owner" in page.text_content(".flash")

    page.click("nav.tabs >> text=Members")
    page.fill("#invite-email", "ines@example.org")
    page.select_option("#invite-role", "reviewer")
    page.click("button:has-text('Send invitation')")
    link = page.input_value("input.copy")
    assert link.startswith("http") and "/invitations/" in link
    assert "pending" in page.text_content("table:last-of-type")

    page.click("nav.tabs >> text=Overview")
    page.click("text=New project")
    page.fill("input[name=name]", "Diffuse-XL")
    page.select_option("select[name=modality]", "image")
    page.click("button:has-text('Create project')")
    page.wait_for_url(url + "/orgs/pixel-forge-lab/projects/diffuse-xl")
    page.fill("input[name=name]", "Diffuse-XL weights")
    page.select_option("select[name=kind]", "weights")
    page.click("button:has-text('Add asset')")
    page.wait_for_selector("table.assets >> text=Diffuse-XL weights")
    assert page.text_content("table.assets .ladder li.current") == "team"

    page.goto(url + "/orgs/pixel-forge-lab/audit")
    actions = page.locator("table.audit td code").all_text_contents()
    assert actions[:4] == ["asset.created", "project.created", "member.invited", "member.added"]
    page.click("button:has-text('Verify integrity')")
    page.wait_for_selector(".verdict.ok")
    assert "intact" in page.text_content(".verdict")

    # The invitee accepts in their own browser.
    other = browser.new_context()
    invitee = other.new_page()
    invitee.goto(link)
    invitee.click("main >> a:has-text('Sign in')")
    invitee.fill("input[name=login]", "ines")
    invitee.fill("input[name=password]", PASSWORD)
    invitee.click("button[type=submit]")
    invitee.wait_for_url(link)
    invitee.click("button:has-text('Accept and join')")
    invitee.wait_for_url(url + "/orgs/pixel-forge-lab")
    assert "joined Pixel Forge Lab as reviewer" in invitee.text_content(".flash")
    other.close()

    page.goto(url + "/orgs/pixel-forge-lab/members")
    assert "ines" in page.text_content("table")
    context.close()


def test_login_logout_and_wrong_password(browser: Any, live_server: LiveServer, sqlite_rt: Runtime) -> None:
    make_user(sqlite_rt, "maria")
    context = browser.new_context()
    page = context.new_page()
    page.goto(live_server.url + "/login")
    page.fill("input[name=login]", "maria")
    page.fill("input[name=password]", "not the password")
    page.click("button[type=submit]")
    assert "Wrong username or password" in page.text_content(".error")
    page.fill("input[name=password]", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url(live_server.url + "/")
    page.click("button:has-text('Sign out')")
    page.wait_for_url(live_server.url + "/login")
    page.goto(live_server.url + "/settings/tokens")
    assert "/login?next=" in page.url
    context.close()


@pytest.mark.parametrize("width", [375, 1280])
def test_layout_fits_phone_and_laptop_widths(browser: Any, live_server: LiveServer, sqlite_rt: Runtime,
                                             width: int, tmp_path: Any) -> None:
    from datetime import timedelta, timezone

    from releasewise.services import plans
    from tests.conftest import build_world
    from tests.services.assessment_fixtures import with_submitted_assessment

    world = build_world(sqlite_rt)
    with_submitted_assessment(world)
    start = (sqlite_rt.clock.now() + timedelta(days=1)).replace(tzinfo=timezone.utc)
    plans.apply_plan(sqlite_rt, world.lead, "lab-a", "echo",
                     plans.template_document(sqlite_rt, world.lead, "lab-a", "echo", "gpt2-staged", start))
    context = browser.new_context(viewport={"width": width, "height": 800})
    page = context.new_page()
    page.goto(live_server.url + "/login")
    page.fill("input[name=login]", "olivia")
    page.fill("input[name=password]", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url(live_server.url + "/")
    for path in ["/", "/orgs/lab-a", "/orgs/lab-a/members", "/orgs/lab-a/projects/echo", "/orgs/lab-a/audit",
                 "/settings/tokens", "/orgs/lab-a/projects/echo/plan", "/orgs/lab-a/projects/echo/assessment",
                 "/orgs/lab-a/projects/echo/assessment/versions/1", "/orgs/lab-a/projects/echo/assessment/edit",
                 "/orgs/lab-a/reviewers", "/orgs/lab-a/policy"]:
        page.goto(live_server.url + path)
        overflow = page.evaluate("document.documentElement.scrollWidth - window.innerWidth")
        assert overflow <= 0, f"{path} scrolls sideways by {overflow}px at {width}px"
    page.screenshot(path=str(tmp_path / f"project-{width}.png"), full_page=True)
    context.close()
