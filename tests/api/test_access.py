"""REST and HF-compatible endpoints of the registry: problems, leaks, uploads over HTTP."""

from __future__ import annotations

import hashlib

import pytest
from fastapi.testclient import TestClient

from releasewise.clock import FrozenClock
from releasewise.services import access, projects
from tests.api.conftest import bearer
from tests.api.test_api import assert_problem
from tests.conftest import World, make_user
from tests.hfapi.support import gated_setup, publish, request_and_approve, set_tier

FILE = b"very secret weights " * 397  # 7940 bytes
ASSET = "/api/v1/orgs/lab-a/projects/echo/assets/weights-1b"


def endpoints() -> list[tuple[str, str]]:
    """Every endpoint that can reveal a file's bytes, name, size or existence."""
    return [
        ("GET", "/api/models/lab-a/echo-weights-1b"),
        ("GET", "/api/models/lab-a/echo-weights-1b/revision/main"),
        ("GET", "/api/models/lab-a/echo-weights-1b/revision/v1"),
        ("GET", "/api/models/lab-a/echo-weights-1b/tree/main"),
        ("GET", "/api/models/lab-a/echo-weights-1b/tree/main/sub?recursive=true"),
        ("HEAD", "/lab-a/echo-weights-1b/resolve/main/sub/model.bin"),
        ("GET", "/lab-a/echo-weights-1b/resolve/main/sub/model.bin"),
        ("GET", "/lab-a/echo-weights-1b/resolve/v1/sub/model.bin"),
        ("HEAD", "/lab-a/echo-weights-1b/resolve/main/does-not-exist.bin"),
        ("GET", f"{ASSET}/snapshot/main"),
        ("GET", f"{ASSET}/files/main/sub/model.bin"),
        ("HEAD", f"{ASSET}/files/main/sub/model.bin"),
        ("GET", f"{ASSET}/versions"),
    ]


def assert_nothing_leaks(api: TestClient, headers: dict[str, str], who: str) -> None:
    for method, url in endpoints():
        r = api.request(method, url, headers=headers)
        assert r.status_code in (401, 403, 404), (who, method, url, r.status_code)
        # the problem body echoes the path the caller sent ("instance"); that is not a leak
        text = (r.text + " ".join(f"{k}: {v}" for k, v in r.headers.items() if k != "content-length")).replace(url.split("?")[0], "")
        for secret in ("model.bin", str(len(FILE)), hashlib.sha256(FILE).hexdigest(), "very secret"):
            assert secret not in text, (who, method, url, secret)
        if url.startswith("/api/models") or "/resolve/" in url:
            assert r.headers.get("x-error-code") in ("GatedRepo", "RepoNotFound"), (who, url, r.headers)


def test_every_endpoint_refuses_without_a_current_grant(api: TestClient, sqlite_world: World) -> None:
    w = sqlite_world
    clock = w.rt.clock
    assert isinstance(clock, FrozenClock)
    publish(w.rt, w.researcher, {"sub/model.bin": FILE})
    gated_setup(w.rt, w.lead)
    projects.create_asset(w.rt, w.lead, "lab-a", "echo", name="Other", kind="weights")
    set_tier(w.rt, "vetted_researchers", asset_slug="other")
    people = {n: make_user(w.rt, n) for n in ("expired", "revoked", "other_asset", "outdated")}
    access.configure_policy(w.rt, w.lead, "lab-a", "echo", approval_mode="automatic", grant_days=10,
                            form_fields=[{"name": "country", "label": "Country", "type": "country"}])
    boxes = ["No impersonation", "Consent of speakers"]
    access.submit_request(w.rt, people["expired"], "lab-a", "echo", "weights-1b", intended_use="x",
                          institution="y", answers={"country": "DE"}, checkboxes=boxes)
    clock.advance(days=5)
    revoked = request_and_approve(w.rt, people["revoked"], w.lead)
    access.revoke_grant(w.rt, w.lead, "lab-a", revoked, reason="misuse")
    access.submit_request(w.rt, people["other_asset"], "lab-a", "echo", "other", intended_use="x", institution="y",
                          answers={"country": "DE"}, checkboxes=boxes)
    request_and_approve(w.rt, people["outdated"], w.lead)
    access.publish_agreement(w.rt, w.lead, "lab-a", "echo", title="v2", body_md="changed", checkboxes=["ok"])
    clock.advance(days=6)  # "expired" is 11 days old (10-day grants); the others are 6 days old
    cases: dict[str, dict[str, str]] = {"no token": {}, "other org": bearer(w, w.outsider),
                                        **{name: bearer(w, actor) for name, actor in people.items()}}
    for who, headers in cases.items():
        assert_nothing_leaks(api, headers, who)
    gated = api.head("/lab-a/echo-weights-1b/resolve/main/sub/model.bin", headers=bearer(w, people["outdated"]))
    assert gated.headers["x-error-code"] == "GatedRepo" and "agreement changed" in gated.headers["x-error-message"]
    anonymous = api.get("/api/models/lab-a/echo-weights-1b")
    assert anonymous.status_code == 401 and anonymous.headers["x-error-code"] == "GatedRepo"
    bad_token = api.get("/api/models/lab-a/echo-weights-1b", headers={"Authorization": "Bearer rwt_nope"})
    assert bad_token.status_code == 401 and bad_token.headers["x-error-message"].startswith("Invalid credentials")
    # a member sees everything
    ok = api.get("/lab-a/echo-weights-1b/resolve/main/sub/model.bin", headers=bearer(w, w.viewer, "read"))
    assert ok.status_code == 200 and ok.content == FILE


def test_upload_over_http_with_a_corrupted_chunk_then_resume(api: TestClient, sqlite_world: World) -> None:
    w = sqlite_world
    h = bearer(w, w.researcher)
    data = b"a" * 1000 + b"b" * 1000
    r = api.post(f"{ASSET}/uploads", headers=h, json={"files": [{"path": "w.bin", "size": len(data)}]})
    assert r.status_code == 201
    key, fid = r.json()["upload_key"], r.json()["files"][0]["id"]
    first = hashlib.sha256(data[:1000])
    r = api.put(f"/api/v1/uploads/{key}/files/{fid}?offset=0", content=data[:1000],
                headers={**h, "X-Running-SHA256": first.hexdigest()})
    assert r.status_code == 200 and r.json()["received_bytes"] == 1000
    whole = hashlib.sha256(data).hexdigest()
    r = api.put(f"/api/v1/uploads/{key}/files/{fid}?offset=1000", content=b"c" + data[1001:],
                headers={**h, "X-Running-SHA256": whole})
    assert_problem(r, 422, "corrupted")
    assert api.get(f"/api/v1/uploads/{key}", headers=h).json()["files"][0]["received_bytes"] == 1000
    r = api.put(f"/api/v1/uploads/{key}/files/{fid}?offset=1000", content=data[1000:],
                headers={**h, "X-Running-SHA256": whole})
    assert r.status_code == 200 and r.json()["completed"] and r.json()["sha256"] == whole
    got = api.get(f"{ASSET}/files/v1/w.bin", headers=h)
    assert got.content == data and got.headers["etag"] == f'"{whole}"'


@pytest.mark.parametrize("body,status,text", [
    ({"files": [{"path": "../../etc/passwd", "size": 1}]}, 422, "relative path"),
    ({"files": [{"path": "a", "size": "1"}]}, 422, "size"),
    ({"files": []}, 422, "files"),
    ({"files": [{"path": "a", "size": 1}], "extra": 1}, 422, "extra"),
])
def test_bad_upload_requests_are_problems_and_change_nothing(api: TestClient, sqlite_world: World,
                                                             body: dict[str, object], status: int, text: str) -> None:
    h = bearer(sqlite_world, sqlite_world.researcher)
    assert_problem(api.post(f"{ASSET}/uploads", headers=h, json=body), status, text)
    assert api.get(f"{ASSET}/versions", headers=h).json() == []


def test_chunk_without_digest_header_or_read_token_is_refused(api: TestClient, sqlite_world: World) -> None:
    w = sqlite_world
    h = bearer(w, w.researcher)
    r = api.post(f"{ASSET}/uploads", headers=h, json={"files": [{"path": "w.bin", "size": 3}]})
    key, fid = r.json()["upload_key"], r.json()["files"][0]["id"]
    assert_problem(api.put(f"/api/v1/uploads/{key}/files/{fid}?offset=0", content=b"abc", headers=h), 422,
                   "x-running-sha256")
    read_only = bearer(w, w.researcher, "read")
    r = api.put(f"/api/v1/uploads/{key}/files/{fid}?offset=0", content=b"abc",
                headers={**read_only, "X-Running-SHA256": hashlib.sha256(b"abc").hexdigest()})
    assert_problem(r, 403, "write")
    assert api.get(f"/api/v1/uploads/{key}", headers=h).json()["files"][0]["received_bytes"] == 0


def test_request_decide_and_log_over_rest(api: TestClient, sqlite_world: World) -> None:
    w = sqlite_world
    publish(w.rt, w.researcher, {"w.bin": b"weights"})
    gated_setup(w.rt, w.lead)
    sam = make_user(w.rt, "sam")
    hs, hl = bearer(w, sam), bearer(w, w.lead)
    form = api.get(f"{ASSET}/access", headers=hs).json()
    assert form["agreement"]["version"] == 1 and form["form_fields"][0]["name"] == "country"
    r = api.post(f"{ASSET}/access/requests", headers=hs, json={"intended_use": "detectors", "institution": "Uni",
                                                               "answers": {"country": "XX"},
                                                               "checkboxes": form["agreement"]["checkboxes"]})
    assert_problem(r, 422, "ISO country")
    r = api.post(f"{ASSET}/access/requests", headers=hs, json={"intended_use": "detectors", "institution": "Uni",
                                                               "answers": {"country": "FR"},
                                                               "checkboxes": form["agreement"]["checkboxes"]})
    assert r.status_code == 201 and r.json()["status"] == "pending"
    assert_problem(api.get("/api/v1/orgs/lab-a/access/requests", headers=hs), 404)
    queue = api.get("/api/v1/orgs/lab-a/access/requests", headers=hl).json()
    r = api.post("/api/v1/orgs/lab-a/access/decisions", headers=hl,
                 json={"request_ids": [queue[0]["id"]], "approve": True})
    assert r.status_code == 200 and r.json()[0]["status"] == "approved"
    assert api.get(f"{ASSET}/files/main/w.bin", headers=hs).content == b"weights"
    csv_text = api.get("/api/v1/orgs/lab-a/access/downloads.csv", headers=hl).text
    assert "sam,echo/weights-1b,v1,w.bin,7," in csv_text
    daily = api.get("/api/v1/orgs/lab-a/access/downloads/daily?days=7", headers=hl).json()
    assert len(daily) == 7 and daily[-1]["downloads"] == 1 and daily[-1]["people"] == 1
    latency = api.get("/api/v1/orgs/lab-a/access/latency", headers=hl).json()
    assert latency["decided"] == 1
