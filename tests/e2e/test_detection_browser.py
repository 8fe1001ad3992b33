"""A platform partner uploads a watermarked, credential-stripped image and sees where it came from."""

from __future__ import annotations

from typing import Any

import pytest

from releasewise.services import detection, provenance
from releasewise.services.runtime import Runtime
from tests.conftest import build_world, make_user
from tests.e2e.test_access_browser import sign_in
from tests.services.test_detection import MODEL, photo_bytes, strip
from tests.support.live import LiveServer

pytestmark = pytest.mark.e2e


def test_partner_traces_a_stripped_image(browser: Any, live_server: LiveServer, sqlite_rt: Runtime,
                                         tmp_path: Any) -> None:
    url = live_server.url
    world = build_world(sqlite_rt)
    marked = provenance.mark_output(sqlite_rt, world.researcher, "lab-a", "echo", MODEL, release="v3",
                                    data=photo_bytes(size=512))
    upload = tmp_path / "viral-clip-frame.jpg"
    upload.write_bytes(strip(marked.data, quality=85))
    make_user(sqlite_rt, "tess")  # trust & safety at a platform

    # The lab's owner adds the platform's analyst as a detection partner in the web UI.
    owner = browser.new_context().new_page()
    sign_in(owner, url, "olivia", "/orgs/lab-a/detection")
    owner.fill("input[name=user]", "tess")
    owner.fill("input[name=note]", "VideoShare trust & safety")
    owner.click("text=Add partner")
    assert "tess is now a detection partner" in owner.inner_text("body")

    partner_context = browser.new_context(viewport={"width": 375, "height": 800})
    partner = partner_context.new_page()
    sign_in(partner, url, "tess", "/detect")
    partner.set_input_files("input[name=file]", str(upload))
    partner.click("button:has-text('Check')")
    facts = partner.inner_text("[data-testid=watermark]")
    assert "Lab A" in facts and MODEL in facts and "v3" in facts
    assert "Grant" not in facts
    assert "absent" in partner.inner_text("#verdict")
    recovered = partner.inner_text("[data-testid=recovered]")
    assert "v3" in recovered and "Lab A" in recovered
    assert partner.evaluate("document.documentElement.scrollWidth <= window.innerWidth")

    # The lab sees who traced its mark.
    owner.goto(f"{url}/orgs/lab-a/detection")
    assert "tess" in owner.inner_text("table >> nth=-1")
    assert detection.list_checks(sqlite_rt, world.owner, "lab-a")[0].visibility == "partner"

    # A bad upload is refused with a clear message and changes nothing.
    bad = tmp_path / "notes.jpg"
    bad.write_bytes(b"just text, renamed")
    partner.goto(f"{url}/detect")
    partner.set_input_files("input[name=file]", str(bad))
    partner.click("button:has-text('Check')")
    assert "not a JPEG, PNG, WebP" in partner.inner_text("[role=alert]")
    assert len(detection.list_checks(sqlite_rt, world.owner, "lab-a")) == 1
