"""A researcher requests access, accepts the agreement, an approver approves, the log shows the download."""

from __future__ import annotations

from typing import Any

import pytest

from releasewise.services.runtime import Runtime
from tests.conftest import PASSWORD, build_world, make_user
from tests.hfapi.support import gated_setup, publish
from tests.support.live import LiveServer

pytestmark = pytest.mark.e2e


def sign_in(page: Any, url: str, username: str, next_path: str) -> None:
    page.goto(f"{url}/login?next={next_path}")
    page.fill("input[name=login]", username)
    page.fill("input[name=password]", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url(url + next_path)


def test_request_accept_approve_download_and_log(browser: Any, live_server: LiveServer, sqlite_rt: Runtime) -> None:
    url = live_server.url
    world = build_world(sqlite_rt)
    publish(sqlite_rt, world.researcher, {"model.safetensors": b"\x00weights\x01" * 100})
    gated_setup(sqlite_rt, world.lead)
    make_user(sqlite_rt, "sam")
    access_page = "/orgs/lab-a/projects/echo/assets/weights-1b/access"

    researcher = browser.new_context(accept_downloads=True).new_page()
    sign_in(researcher, url, "sam", access_page)
    assert "model.safetensors" not in researcher.content()
    researcher.fill("textarea[name=intended_use]", "Training a voice-clone detector")
    researcher.fill("input[name=institution]", "University of Example")
    researcher.fill("input[name=answer_country]", "NL")
    researcher.check("input[name=checkbox][value='No impersonation']")
    researcher.click("#request-form button[type=submit]")
    assert "Accept every statement" in researcher.text_content("[role=alert]")  # one box left unticked
    researcher.check("input[name=checkbox][value='No impersonation']")
    researcher.check("input[name=checkbox][value='Consent of speakers']")
    researcher.click("#request-form button[type=submit]")
    researcher.wait_for_url(url + access_page)
    assert "sent" in researcher.text_content(".flash")
    assert researcher.text_content("table.requests td.status") == "pending"

    approver = browser.new_context().new_page()
    sign_in(approver, url, "leo", "/orgs/lab-a/access")
    row = approver.locator("table.queue tr", has_text="sam")
    assert "Training a voice-clone detector" in row.text_content()
    row.locator("input[name=request_id]").check()
    approver.click("button[value=approve]")
    approver.wait_for_url(url + "/orgs/lab-a/access")
    assert "Approved 1 request" in approver.text_content(".flash")
    assert "sam" in approver.text_content("table.grants")

    researcher.reload()
    assert "You have access" in researcher.text_content("#access-status")
    with researcher.expect_download() as download_info:
        researcher.click("text=model.safetensors")
    path = download_info.value.path()
    with open(path, "rb") as fh:
        assert fh.read() == b"\x00weights\x01" * 100

    approver.goto(url + "/orgs/lab-a/access/downloads")
    log_row = approver.locator("table.downloads tbody tr").first
    assert "sam" in log_row.text_content() and "model.safetensors" in log_row.text_content()
    assert approver.locator("#access-chart rect").count() == 30
