"""The real huggingface_hub client (pinned in the test extra) against a real server on loopback."""

from __future__ import annotations

import hashlib
from pathlib import Path

import httpx
import pytest
from huggingface_hub import HfApi, hf_hub_download, snapshot_download
from huggingface_hub.errors import GatedRepoError, RepositoryNotFoundError, RevisionNotFoundError

from releasewise.services import access
from tests.conftest import World, make_user
from tests.hfapi.conftest import token_for
from tests.hfapi.support import gated_setup, publish, request_and_approve, set_tier
from tests.support.live import LiveServer

REPO = "lab-a/echo-weights-1b"
FILES = {
    "config.json": b'{"hidden_size": 8}',
    "model.safetensors": bytes(range(256)) * 4096 + b"tail",
    "tokenizer/vocab.txt": b"a\nb\nc\n",
}


def test_snapshot_download_and_list_files_compare_bytes(hub: tuple[LiveServer, World], tmp_path: Path) -> None:
    live, w = hub
    publish(w.rt, w.researcher, FILES)
    set_tier(w.rt, "vetted_researchers")
    gated_setup(w.rt, w.lead)
    request_and_approve(w.rt, w.outsider, w.lead)
    token = token_for(w, w.outsider)
    assert sorted(HfApi(endpoint=live.url, token=token).list_repo_files(REPO)) == sorted(FILES)
    folder = Path(snapshot_download(REPO, endpoint=live.url, token=token, cache_dir=tmp_path / "cache"))
    for name, data in FILES.items():
        assert (folder / name).read_bytes() == data
    one = hf_hub_download(REPO, "model.safetensors", endpoint=live.url, token=token, local_dir=tmp_path / "one")
    assert hashlib.sha256(Path(one).read_bytes()).hexdigest() == hashlib.sha256(FILES["model.safetensors"]).hexdigest()
    log = access.downloads(w.rt, w.lead, "lab-a")
    assert {d.path for d in log} >= set(FILES) and all(d.username == "oscar" and d.basis == "grant" for d in log)
    assert all(d.grant_id is not None for d in log)


def test_revisions_are_versions(hub: tuple[LiveServer, World], tmp_path: Path) -> None:
    live, w = hub
    v1 = publish(w.rt, w.researcher, {"weights.bin": b"version one"})
    publish(w.rt, w.researcher, {"weights.bin": b"version two!"})
    token = token_for(w, w.researcher)  # a member of the owning organisation
    newest = hf_hub_download(REPO, "weights.bin", endpoint=live.url, token=token, cache_dir=tmp_path / "c")
    assert Path(newest).read_bytes() == b"version two!"
    for revision in ("v1", v1.commit_sha):
        old = hf_hub_download(REPO, "weights.bin", revision=revision, endpoint=live.url, token=token,
                              cache_dir=tmp_path / "c")
        assert Path(old).read_bytes() == b"version one"
    with pytest.raises(RevisionNotFoundError):
        hf_hub_download(REPO, "weights.bin", revision="v9", endpoint=live.url, token=token, cache_dir=tmp_path / "c")


def test_no_grant_gets_huggingface_hubs_gated_error_pointing_to_the_request_page(
        hub: tuple[LiveServer, World], tmp_path: Path) -> None:
    live, w = hub
    publish(w.rt, w.researcher, FILES)
    gated_setup(w.rt, w.lead)
    stranger = make_user(w.rt, "sam")
    with pytest.raises(GatedRepoError) as err:
        hf_hub_download(REPO, "config.json", endpoint=live.url, token=token_for(w, stranger), cache_dir=tmp_path)
    assert "/orgs/lab-a/projects/echo/assets/weights-1b/access" in str(err.value)
    with pytest.raises(GatedRepoError):
        snapshot_download(REPO, endpoint=live.url, token=False, cache_dir=tmp_path)
    # at team tier the asset does not exist for outsiders at all
    set_tier(w.rt, "team")
    with pytest.raises(RepositoryNotFoundError):
        HfApi(endpoint=live.url, token=token_for(w, stranger)).list_repo_files(REPO)


def test_public_tier_needs_no_token(hub: tuple[LiveServer, World], tmp_path: Path) -> None:
    live, w = hub
    publish(w.rt, w.researcher, {"README.md": b"# hello"})
    set_tier(w.rt, "public")
    path = hf_hub_download(REPO, "README.md", endpoint=live.url, token=False, cache_dir=tmp_path)
    assert Path(path).read_bytes() == b"# hello"
    assert access.downloads(w.rt, w.lead, "lab-a")[0].username == "(anonymous)"


def test_resolve_headers_and_ranged_resume(hub: tuple[LiveServer, World]) -> None:
    live, w = hub
    version = publish(w.rt, w.researcher, FILES)
    headers = {"Authorization": f"Bearer {token_for(w, w.researcher)}", "Accept-Encoding": "identity"}
    url = f"{live.url}/{REPO}/resolve/main/model.safetensors"
    data = FILES["model.safetensors"]
    digest = hashlib.sha256(data).hexdigest()
    head = httpx.head(url, headers=headers)
    assert head.status_code == 200
    assert head.headers["etag"] == f'"{digest}"' and head.headers["x-linked-etag"] == f'"{digest}"'
    assert head.headers["x-repo-commit"] == version.commit_sha
    assert int(head.headers["content-length"]) == len(data) == int(head.headers["x-linked-size"])
    assert head.headers["accept-ranges"] == "bytes"
    part = httpx.get(url, headers={**headers, "Range": "bytes=1000-"})
    assert part.status_code == 206 and part.content == data[1000:]
    assert part.headers["content-range"] == f"bytes 1000-{len(data) - 1}/{len(data)}"
    beyond = httpx.get(url, headers={**headers, "Range": f"bytes={len(data) + 5}-"})
    assert beyond.status_code == 416
    missing = httpx.head(f"{live.url}/{REPO}/resolve/main/nope.bin", headers=headers)
    assert missing.status_code == 404 and missing.headers["x-error-code"] == "EntryNotFound"
