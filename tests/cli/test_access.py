"""`releasewise push`, `pull` and `access …` against a real server on loopback."""

from __future__ import annotations

import csv
import io
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from typer.testing import CliRunner

from releasewise.cli.main import app
from releasewise.services import access, registry, tokens
from releasewise.services.runtime import Actor, Runtime
from tests.conftest import World, build_world, make_user
from tests.hfapi.support import gated_setup
from tests.support.live import LiveServer, serving

runner = CliRunner()


@pytest.fixture
def server(sqlite_rt: Runtime, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[tuple[LiveServer, World]]:
    monkeypatch.setenv("RELEASEWISE_CLI_CONFIG_DIR", str(tmp_path / "cli"))
    world = build_world(sqlite_rt)
    with serving(sqlite_rt) as live:
        monkeypatch.setenv("RELEASEWISE_URL", live.url)
        yield live, world


def as_user(world: World, actor: Actor, monkeypatch: pytest.MonkeyPatch) -> str:
    _, raw = tokens.create_token(world.rt, actor, name="cli", scopes="read,write")
    monkeypatch.setenv("RELEASEWISE_TOKEN", raw)
    return raw


def rw(*args: str, input: str | None = None) -> tuple[int, str, str]:
    result = runner.invoke(app, list(args), input=input)
    return result.exit_code, result.stdout, result.stderr


def test_push_then_pull_round_trip_and_dedup(server: tuple[LiveServer, World], tmp_path: Path,
                                             monkeypatch: pytest.MonkeyPatch) -> None:
    _, w = server
    src = tmp_path / "model"
    (src / "sub").mkdir(parents=True)
    (src / "config.json").write_bytes(b'{"a": 1}')
    (src / "sub" / "weights.bin").write_bytes(os.urandom(3 * 1024 * 1024 + 17))
    (src / "empty.txt").write_bytes(b"")
    as_user(w, w.researcher, monkeypatch)
    code, out, err = rw("push", "lab-a/echo/weights-1b", str(src), "--chunk-mib", "1", "--note", "first")
    assert code == 0, err
    assert "Published v1" in out and "3 files" in out
    code, out, err = rw("push", "lab-a/echo/weights-1b", str(src))  # same bytes again: stored once
    assert code == 0 and "Published v2" in out, err
    blob_files = [p for p in (w.rt.settings.data_dir / "blobs" / "sha256").rglob("*") if p.is_file()]
    assert len(blob_files) == 3
    dest = tmp_path / "out"
    code, out, err = rw("pull", "lab-a/echo/weights-1b", str(dest), "--revision", "v1")
    assert code == 0, err
    for name in ("config.json", "sub/weights.bin", "empty.txt"):
        assert (dest / name).read_bytes() == (src / name).read_bytes()
    # a partial file is resumed with a range request, not downloaded again
    weights = dest / "sub" / "weights.bin"
    data = weights.read_bytes()
    weights.unlink()
    (dest / "sub" / "weights.bin.part").write_bytes(data[:1000])
    code, _, err = rw("pull", "lab-a/echo/weights-1b", str(dest))
    assert code == 0, err
    assert weights.read_bytes() == data
    log = access.downloads(w.rt, w.lead, "lab-a")
    assert log[0].path == "sub/weights.bin" and log[0].bytes == len(data) - 1000 and log[0].via == "cli"


def test_push_refuses_a_viewer_and_changes_nothing(server: tuple[LiveServer, World], tmp_path: Path,
                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    _, w = server
    (tmp_path / "f").mkdir()
    (tmp_path / "f" / "a.txt").write_text("x")
    as_user(w, w.viewer, monkeypatch)
    code, _, err = rw("push", "lab-a/echo/weights-1b", str(tmp_path / "f"))
    assert code == 1 and "asset.upload" in err
    assert registry.list_versions(w.rt, w.lead, "lab-a", "echo", "weights-1b") == []


def test_upload_killed_midway_leaves_previous_version_and_resumes(server: tuple[LiveServer, World], tmp_path: Path,
                                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    live, w = server
    folder = tmp_path / "model"
    folder.mkdir()
    (folder / "weights.bin").write_bytes(b"old weights")
    token = as_user(w, w.researcher, monkeypatch)
    assert rw("push", "lab-a/echo/weights-1b", str(folder))[0] == 0
    new = os.urandom(64 * 1024 * 1024)
    (folder / "weights.bin").write_bytes(new)
    env = {**os.environ, "RELEASEWISE_URL": live.url, "RELEASEWISE_TOKEN": token}
    cli = Path(sys.executable).parent / "releasewise"
    proc = subprocess.Popen([str(cli), "push", "lab-a/echo/weights-1b", str(folder), "--chunk-mib", "1"], env=env,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.time() + 30
    partial = None
    while time.time() < deadline:
        versions = registry.list_versions(w.rt, w.lead, "lab-a", "echo", "weights-1b")
        uploading = [v for v in versions if v.status == "uploading"]
        if uploading:
            state = registry.get_upload(w.rt, w.researcher, uploading[0].upload_key)
            if state.files[0].received_bytes > 0:
                partial = state
                break
        time.sleep(0.005)
    proc.send_signal(signal.SIGKILL)
    proc.wait(timeout=10)
    assert partial is not None and partial.files[0].received_bytes < len(new), "the upload finished before the kill"
    # The newest complete version is still v1, byte for byte.
    ticket = registry.resolve_file(w.rt, w.researcher, "lab-a", "echo-weights-1b", "main", "weights.bin")
    assert ticket.blob_path.read_bytes() == b"old weights"
    # Pushing the same folder again resumes the interrupted upload and completes v2.
    code, out, err = rw("push", "lab-a/echo/weights-1b", str(folder), "--chunk-mib", "4")
    assert code == 0, err
    assert "Published v2" in out
    ticket = registry.resolve_file(w.rt, w.researcher, "lab-a", "echo-weights-1b", "main", "weights.bin")
    assert ticket.blob_path.read_bytes() == new


def test_access_request_decide_and_download_log_csv(server: tuple[LiveServer, World], tmp_path: Path,
                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    _, w = server
    folder = tmp_path / "m"
    folder.mkdir()
    (folder / "w.bin").write_bytes(b"weights")
    as_user(w, w.researcher, monkeypatch)
    assert rw("push", "lab-a/echo/weights-1b", str(folder))[0] == 0
    gated_setup(w.rt, w.lead)
    sam = make_user(w.rt, "sam")
    as_user(w, sam, monkeypatch)
    code, _, err = rw("pull", "lab-a/echo/weights-1b", str(tmp_path / "denied"))
    assert code == 1 and "Request access at" in err and not (tmp_path / "denied").exists()
    code, out, err = rw("access", "request", "lab-a/echo/weights-1b", "--use", "detector research",
                        "--institution", "Uni", "--answer", "country=KE")
    assert code == 1 and "--accept" in err and "No voice cloning" in out
    code, out, err = rw("access", "request", "lab-a/echo/weights-1b", "--use", "detector research",
                        "--institution", "Uni", "--answer", "country=KE", "--accept")
    assert code == 0 and "is pending" in out, err
    request_id = access.my_requests(w.rt, sam)[0].id
    as_user(w, w.lead, monkeypatch)
    code, out, _ = rw("access", "queue", "lab-a")
    assert "sam" in out
    assert rw("access", "approve", "lab-a", str(request_id))[0] == 0
    as_user(w, sam, monkeypatch)
    code, _, err = rw("pull", "lab-a/echo/weights-1b", str(tmp_path / "ok"))
    assert code == 0, err
    assert (tmp_path / "ok" / "w.bin").read_bytes() == b"weights"
    as_user(w, w.lead, monkeypatch)
    code, _, err = rw("access", "downloads", "lab-a", "--csv", str(tmp_path / "log.csv"))
    assert code == 0, err
    rows = list(csv.DictReader(io.StringIO((tmp_path / "log.csv").read_text())))
    assert [(r["user"], r["file"], r["version"], r["bytes"]) for r in rows] == [("sam", "w.bin", "v1", "7")]
    assert rows[0]["grant_id"]


def test_leads_configure_policy_and_agreement_and_requesters_withdraw(server: tuple[LiveServer, World], tmp_path: Path,
                                                                     monkeypatch: pytest.MonkeyPatch) -> None:
    _, w = server
    from tests.hfapi.support import set_tier

    set_tier(w.rt, "vetted_researchers")
    as_user(w, w.lead, monkeypatch)
    code, _, err = rw("access", "policy", "lab-a/echo", "--mode", "sometimes")
    assert code == 1 and "approval_mode" in err
    code, out, err = rw("access", "policy", "lab-a/echo", "--mode", "rules", "--domain", "uni.example",
                        "--field", "country|Country|country", "--field", "purpose?|Purpose|select|research,teaching")
    assert code == 0, err
    assert "rules" in out and "country (country)" in out
    (tmp_path / "terms.md").write_text("# Terms\nNo impersonation.")
    code, out, err = rw("access", "agreement", "lab-a/echo", "--title", "Terms", "--file", str(tmp_path / "terms.md"),
                        "--checkbox", "I agree")
    assert code == 0 and "version 1" in out, err
    policy = access.get_policy(w.rt, w.lead, "lab-a", "echo")
    assert policy.email_domains == ("uni.example",) and policy.agreement is not None
    assert policy.agreement.checkboxes == ("I agree",)
    sam = make_user(w.rt, "sam")
    as_user(w, sam, monkeypatch)
    code, out, err = rw("access", "request", "lab-a/echo/weights-1b", "--use", "research", "--institution", "Uni",
                        "--answer", "country=DE", "--accept")
    assert code == 0 and "pending" in out, err
    request_id = access.my_requests(w.rt, sam)[0].id
    code, out, err = rw("access", "withdraw", str(request_id))
    assert code == 0 and "withdrawn" in out, err
    code, _, err = rw("access", "withdraw", str(request_id))
    assert code == 1 and "already withdrawn" in err


def test_pull_refuses_unsafe_names_from_a_hostile_server(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A server (not releasewise: it refuses such names) that lists '../' paths cannot make pull write outside."""
    from starlette.applications import Starlette
    from starlette.responses import JSONResponse, Response
    from starlette.routing import Route

    async def snapshot(request: object) -> JSONResponse:
        return JSONResponse({"repo_id": "x/y-z", "version": "v1", "commit_sha": "0" * 40, "files": [
            {"path": "../../escaped.txt", "size": 4, "sha256": "0" * 64}]})

    async def file(request: object) -> Response:
        return Response(b"evil")

    hostile = Starlette(routes=[
        Route("/api/v1/orgs/x/projects/y/assets/z/snapshot/main", snapshot),
        Route("/api/v1/orgs/x/projects/y/assets/z/files/{rest:path}", file),
    ])
    live = LiveServer(hostile).start()  # type: ignore[arg-type]
    try:
        monkeypatch.setenv("RELEASEWISE_URL", live.url)
        monkeypatch.setenv("RELEASEWISE_TOKEN", "rwt_x_y")
        monkeypatch.setenv("RELEASEWISE_CLI_CONFIG_DIR", str(tmp_path / "cli"))
        dest = tmp_path / "a" / "b"
        code, _, err = rw("pull", "x/y/z", str(dest))
    finally:
        live.stop()
    assert code == 1 and "unsafe file name" in err
    assert not (tmp_path / "escaped.txt").exists() and not (tmp_path / "a" / "escaped.txt").exists()
