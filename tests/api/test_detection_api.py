"""The detection service and marking over HTTP: raw and multipart uploads, limits, problems, public certificates."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient

from releasewise.services import detection
from tests.api.conftest import bearer
from tests.conftest import World
from tests.services.test_detection import MODEL, photo_bytes, strip

OUTPUTS = "/api/v1/orgs/lab-a/projects/echo/outputs"


def mark(api: TestClient, headers: dict[str, str], **params: object) -> bytes:
    query = {"model": MODEL, "release": "v3", **params}
    response = api.post(OUTPUTS, params=query, content=photo_bytes(), headers=headers)
    assert response.status_code == 200, response.text
    assert response.headers["content-type"] == "image/jpeg"
    assert response.headers["x-releasewise-watermark-key"].startswith("wk_")
    return response.content


def test_mark_then_detect_raw_and_multipart(api: TestClient, sqlite_world: World) -> None:
    lead = bearer(sqlite_world, sqlite_world.lead)
    marked = mark(api, bearer(sqlite_world, sqlite_world.researcher))
    raw = api.post("/api/v1/detect", content=marked, headers=lead)
    assert raw.status_code == 200, raw.text
    body = raw.json()
    assert body["credential"]["status"] == "trusted"
    assert body["watermark"]["detected"] and body["watermark"]["release"] == "v3"
    multipart = api.post("/api/v1/detect", files={"file": ("x.jpg", strip(marked), "image/jpeg")}, headers=lead)
    assert multipart.status_code == 200, multipart.text
    got = multipart.json()
    assert got["credential"]["status"] == "absent"
    assert got["watermark"]["model"] == MODEL and got["recovered"]["release"] == "v3"


def test_detect_needs_a_token(api: TestClient) -> None:
    response = api.post("/api/v1/detect", content=photo_bytes())
    assert response.status_code == 401
    assert response.headers["content-type"] == "application/problem+json"


@pytest.mark.parametrize("body, status, words", [
    (b"", 422, "empty"),
    (b"GIF89a" + b"\0" * 100, 415, "JPEG, PNG, WebP"),
    (b"\x89PNG\r\n\x1a\n" + b"\0" * 100, 422, "could not be decoded"),
])
def test_bad_files_get_clear_problems(api: TestClient, sqlite_world: World, body: bytes, status: int,
                                      words: str) -> None:
    response = api.post("/api/v1/detect", content=body, headers=bearer(sqlite_world, sqlite_world.viewer))
    assert response.status_code == status, response.text
    assert words in response.json()["detail"]


def test_oversized_upload_is_refused_before_it_is_read(api: TestClient, sqlite_world: World) -> None:
    sqlite_world.rt.settings.detection_max_bytes = 50_000
    try:
        response = api.post("/api/v1/detect", content=b"\xff\xd8\xff" + b"\0" * 200_000,
                            headers=bearer(sqlite_world, sqlite_world.viewer))
    finally:
        sqlite_world.rt.settings.detection_max_bytes = 25 * 1024**2
    assert response.status_code == 413
    assert "up to" in response.json()["detail"]


def test_rate_limit_is_per_token_with_retry_after(api: TestClient, sqlite_world: World) -> None:
    sqlite_world.rt.settings.detection_checks_per_minute = 1
    first, second = bearer(sqlite_world, sqlite_world.viewer), bearer(sqlite_world, sqlite_world.viewer)
    small = photo_bytes(size=96)
    try:
        assert api.post("/api/v1/detect", content=small, headers=first).status_code == 200
        limited = api.post("/api/v1/detect", content=small, headers=first)
        assert limited.status_code == 429 and limited.headers["retry-after"] == "60"
        assert api.post("/api/v1/detect", content=small, headers=second).status_code == 200
    finally:
        sqlite_world.rt.settings.detection_checks_per_minute = 60


def test_settings_partners_and_check_log(api: TestClient, sqlite_world: World) -> None:
    owner, outsider = bearer(sqlite_world, sqlite_world.owner), bearer(sqlite_world, sqlite_world.outsider)
    marked = mark(api, owner)
    assert api.post("/api/v1/detect", content=strip(marked), headers=outsider).json()["watermark"]["detected"] is False
    added = api.post("/api/v1/orgs/lab-a/detection/partners", json={"user": "oscar", "note": "platform"}, headers=owner)
    assert added.status_code == 201, added.text
    seen = api.post("/api/v1/detect", content=strip(marked), headers=outsider).json()["watermark"]
    assert seen["detected"] and seen["grant"] is None and seen["visibility"] == "partner"
    log = api.get("/api/v1/orgs/lab-a/detection/checks", headers=owner).json()
    assert log[0]["caller"] == "oscar"
    assert api.get("/api/v1/orgs/lab-a/detection/checks", headers=outsider).status_code == 404
    assert api.put("/api/v1/orgs/lab-a/projects/echo/detection", json={"mode": "nobody"},
                   headers=owner).status_code == 422
    assert api.put("/api/v1/orgs/lab-a/projects/echo/detection", json={"mode": "off"}, headers=owner).json() == \
        {"mode": "off"}
    assert api.put("/api/v1/orgs/lab-a/detection/retention", json={"days": -1}, headers=owner).status_code == 422
    settings = api.get("/api/v1/orgs/lab-a/detection", headers=owner).json()
    assert settings["projects"][0]["mode"] == "off" and settings["partners"][0]["username"] == "oscar"
    assert api.delete("/api/v1/orgs/lab-a/detection/partners/oscar", headers=owner).status_code == 204
    assert detection.settings(sqlite_world.rt, sqlite_world.owner, "lab-a").partners == ()


def test_read_token_cannot_mark(api: TestClient, sqlite_world: World) -> None:
    read_only = bearer(sqlite_world, sqlite_world.lead, scopes="read")
    response = api.post(OUTPUTS, params={"model": MODEL, "release": "v1"}, content=photo_bytes(size=128),
                        headers=read_only)
    assert response.status_code == 403


def test_public_certificates(api: TestClient, sqlite_world: World) -> None:
    missing = api.get("/api/v1/orgs/lab-a/credential-certificate")
    assert missing.status_code == 404 and "has not signed" in missing.json()["detail"]  # readers issue nothing
    mark(api, bearer(sqlite_world, sqlite_world.lead))
    anchors = api.get("/api/v1/credentials/trust-anchors")
    assert anchors.status_code == 200 and anchors.text.startswith("-----BEGIN CERTIFICATE-----")
    chain = api.get("/api/v1/orgs/lab-a/credential-certificate")
    assert chain.status_code == 200 and chain.text.count("BEGIN CERTIFICATE") == 2
    assert api.get("/api/v1/orgs/nope/credential-certificate").status_code == 404


def test_report_evidence_checks_for_responders_only(api: TestClient, sqlite_world: World) -> None:
    from releasewise.services import evidence_checks
    from tests.services.test_incidents import file_report, released

    rt = released(sqlite_world).rt
    marked = mark(api, bearer(sqlite_world, sqlite_world.lead))
    filed = file_report(rt, evidence=[("frame.jpg", "image/jpeg", strip(marked))])
    path = f"/api/v1/orgs/lab-a/reports/{filed.report_id}/evidence-checks"
    lead = bearer(sqlite_world, sqlite_world.lead)
    assert api.get(path, headers=lead).json() == []
    evidence_checks.check_pending(rt)
    checks = api.get(path, headers=lead).json()
    assert checks[0]["detected"] is True and "release v3" in checks[0]["summary"]
    assert api.get(path, headers=bearer(sqlite_world, sqlite_world.researcher)).status_code == 403
    assert api.get(path, headers=bearer(sqlite_world, sqlite_world.outsider)).status_code == 404
