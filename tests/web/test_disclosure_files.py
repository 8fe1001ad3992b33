"""Pre-release artifacts reach invited parties for the embargo's duration only, and every download is logged."""

from __future__ import annotations

from fastapi.testclient import TestClient

from releasewise.services import access
from releasewise.services import disclosure as svc
from tests.conftest import World
from tests.hfapi.support import publish
from tests.services.test_disclosure import setup_case, token
from tests.web.conftest import csrf_of

WEIGHTS = {"config.json": b'{"hidden": 512}', "model.safetensors": b"\x00weights\x01" * 5000}


def path_of(link: str) -> str:
    return "/" + link.split("://", 1)[1].split("/", 1)[1]


def test_party_downloads_named_assets_only_while_briefed_and_open(browser_client: TestClient,
                                                                  sqlite_world: World) -> None:
    w = sqlite_world
    publish(w.rt, w.researcher, WEIGHTS)
    c = setup_case(w)
    platform, detector = path_of(c.platform_link), path_of(c.detector_link)
    # Before accepting the embargo: no files, and direct URLs are 404.
    assert svc.party_files(w.rt, token(c.platform_link)) == []
    assert browser_client.get(platform + "/files/weights-1b/config.json").status_code == 404
    page = browser_client.get(platform)
    browser_client.post(platform + "/state", data={"csrf_token": csrf_of(page.text), "state": "accepted"})
    page = browser_client.get(platform).text
    assert 'id="shared-files"' in page and "model.safetensors" in page
    r = browser_client.get(platform + "/files/weights-1b/model.safetensors")
    assert r.status_code == 200 and r.content == WEIGHTS["model.safetensors"]
    assert r.headers["cache-control"] == "no-store"
    # The other party has not accepted: nothing for it; unknown paths and other assets are 404.
    assert browser_client.get(detector + "/files/weights-1b/config.json").status_code == 404
    assert browser_client.get(platform + "/files/weights-1b/%2E%2E%2Fconfig.json").status_code == 404
    assert browser_client.get(platform + "/files/other-asset/config.json").status_code == 404
    log = access.downloads(w.rt, w.lead, "lab-a")
    assert [(d.path, d.username) for d in log] == [("model.safetensors", "party:Moderate Platform")]
    # Publication ends the temporary access.
    svc.publish(w.rt, w.lead, "lab-a", c.id, public_summary="Released.")
    assert browser_client.get(platform + "/files/weights-1b/config.json").status_code == 404
    assert svc.party_files(w.rt, token(c.platform_link)) == []


def test_party_api_lists_and_downloads_shared_files(sqlite_world: World) -> None:
    from releasewise.app import create_app

    w = sqlite_world
    publish(w.rt, w.researcher, WEIGHTS)
    c = setup_case(w)
    headers = {"X-Party-Token": token(c.platform_link)}
    with TestClient(create_app(runtime=w.rt)) as api:
        assert api.get("/api/v1/party/files", headers=headers).json() == []
        assert api.post("/api/v1/party/state", json={"state": "accepted"}, headers=headers).status_code == 200
        listed = api.get("/api/v1/party/files", headers=headers).json()
        assert {f["path"] for f in listed} == set(WEIGHTS)
        r = api.get("/api/v1/party/files/weights-1b/config.json", headers=headers)
        assert r.status_code == 200 and r.content == WEIGHTS["config.json"]
        other = {"X-Party-Token": token(c.detector_link)}
        assert api.get("/api/v1/party/files/weights-1b/config.json", headers=other).status_code == 404
        assert api.get("/api/v1/party/files/weights-1b/config.json").status_code == 401


def test_lab_converts_temporary_access_into_a_grant_that_outlives_publication(sqlite_world: World) -> None:
    from datetime import UTC, timedelta

    import pytest

    from releasewise.errors import Conflict

    w = sqlite_world
    publish(w.rt, w.researcher, WEIGHTS)
    c = setup_case(w)
    platform = token(c.platform_link)
    parties = svc.get_case(w.rt, w.lead, "lab-a", c.id).parties
    platform_party = next(p for p in parties if p.name == "Moderate Platform")
    with pytest.raises(Conflict, match="has not accepted"):
        svc.grant_party_access(w.rt, w.lead, "lab-a", c.id, platform_party.id,
                               until=w.rt.clock.now().replace(tzinfo=UTC))
    svc.party_set_state(w.rt, platform, "accepted")
    until = (w.rt.clock.now() + timedelta(days=30)).replace(tzinfo=UTC)
    view = svc.grant_party_access(w.rt, w.lead, "lab-a", c.id, platform_party.id, until=until)
    assert view.access_until is not None
    svc.publish(w.rt, w.lead, "lab-a", c.id, public_summary="Out.")
    assert {f.path for f in svc.party_files(w.rt, platform)} == set(WEIGHTS)  # kept after publication
    w.rt.clock.advance(days=31)  # type: ignore[attr-defined]
    assert svc.party_files(w.rt, platform) == []  # the grant expired


def test_lead_keeps_a_partys_access_from_the_case_page(browser_client: TestClient, sqlite_world: World) -> None:
    from tests.web.conftest import sign_in

    w = sqlite_world
    publish(w.rt, w.researcher, WEIGHTS)
    c = setup_case(w)
    svc.party_set_state(w.rt, token(c.platform_link), "accepted")
    sign_in(browser_client, "leo")
    page = browser_client.get(f"/orgs/lab-a/disclosure/{c.id}").text
    assert "until publication" in page and "Keep access until" in page
    party_id = next(p.id for p in svc.get_case(w.rt, w.lead, "lab-a", c.id).parties if p.name == "Moderate Platform")
    r = browser_client.post(f"/orgs/lab-a/disclosure/{c.id}/parties/{party_id}/access",
                            data={"csrf_token": csrf_of(page), "until": "2099-01-01T09:00", "timezone": "UTC"})
    assert r.status_code == 303
    assert "kept until" in browser_client.get(f"/orgs/lab-a/disclosure/{c.id}").text
    sign_in(browser_client, "vic")  # a viewer cannot change it
    browser_client.post(f"/orgs/lab-a/disclosure/{c.id}/parties/{party_id}/access",
                        data={"csrf_token": csrf_of(browser_client.get("/").text), "until": "2030-01-01T09:00"})
    kept = next(p for p in svc.get_case(w.rt, w.lead, "lab-a", c.id).parties if p.id == party_id).access_until
    assert kept is not None and kept.year == 2099
