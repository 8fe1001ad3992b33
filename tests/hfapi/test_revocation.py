"""Revoking a grant stops downloads already under way, and every resume after it (real server, real clients).

Two boundaries, both tested here: a transfer in progress re-checks access every
``RELEASEWISE_DOWNLOAD_RECHECK_MIB`` and is cut off short of its Content-Length; and every new
request — including a ranged resume (``Range: bytes=N-``), which is what huggingface_hub sends
after a broken transfer — is authorised afresh and refused.
"""

from __future__ import annotations

import hashlib
import os
from pathlib import Path

import httpx
import pytest
from huggingface_hub import hf_hub_download
from huggingface_hub.errors import GatedRepoError

from releasewise.services import access, audit, registry
from tests.conftest import World, make_user
from tests.hfapi.conftest import token_for
from tests.hfapi.support import gated_setup, publish, request_and_approve
from tests.support.live import LiveServer

REPO = "lab-a/echo-weights-1b"
MIB = 1024 * 1024
SIZE = 64 * MIB
RECHECK_MIB = 4
CHUNK = 4 * MIB  # hfapi.routes.BlobFileResponse.chunk_size
# What may still arrive after the revocation: one re-check interval, one chunk, and what the loopback
# socket buffers and the client's read buffer already held (generous: Linux autotunes up to ~6 MiB).
AFTER_REVOCATION_LIMIT = RECHECK_MIB * MIB + CHUNK + 12 * MIB


def _weights() -> bytes:
    return hashlib.sha256(b"seed").digest() * (SIZE // 32)


@pytest.fixture
def granted(hub: tuple[LiveServer, World]) -> tuple[LiveServer, World, str, int]:
    """A 64 MiB file at vetted_researchers; sam holds a grant and a token."""
    live, w = hub
    publish(w.rt, w.researcher, {"model.safetensors": _weights()}, chunk=16 * MIB)
    gated_setup(w.rt, w.lead)
    sam = make_user(w.rt, "sam")
    grant_id = request_and_approve(w.rt, sam, w.lead)
    w.rt.settings = w.rt.settings.model_copy(update={"download_recheck_mib": RECHECK_MIB})
    return live, w, token_for(w, sam), grant_id


def test_a_download_in_progress_stops_within_a_bounded_number_of_bytes(
        granted: tuple[LiveServer, World, str, int]) -> None:
    live, w, token, grant_id = granted
    url = f"{live.url}/{REPO}/resolve/main/model.safetensors"
    headers = {"Authorization": f"Bearer {token}", "Accept-Encoding": "identity"}
    received = at_revocation = 0
    with httpx.Client(timeout=30) as client, client.stream("GET", url, headers=headers) as response:
        assert response.status_code == 200 and int(response.headers["content-length"]) == SIZE
        with pytest.raises(httpx.RemoteProtocolError):  # closed short of Content-Length: a failed transfer
            for piece in response.iter_raw(MIB):
                received += len(piece)
                if not at_revocation and received >= 8 * MIB:
                    access.revoke_grant(w.rt, w.lead, "lab-a", grant_id, reason="Traced by a watermark")
                    at_revocation = received
    assert at_revocation and received < SIZE
    assert received - at_revocation <= AFTER_REVOCATION_LIMIT, (received, at_revocation)
    stopped = audit.list_events(w.rt, w.owner, "lab-a", action_prefix="download.stopped")
    assert len(stopped) == 1 and stopped[0].summary["grant"] == grant_id
    assert stopped[0].summary["sent_bytes"] < SIZE

    # resuming where it broke off is a new request, authorised afresh: refused with the Hub's gated error
    resume = httpx.get(url, headers={**headers, "Range": f"bytes={received}-"})
    assert resume.status_code == 403 and resume.headers["x-error-code"] == "GatedRepo"
    assert resume.headers.get("content-range") is None  # not one byte of the file


def test_an_unrevoked_download_is_complete_and_checked_along_the_way(
        granted: tuple[LiveServer, World, str, int], monkeypatch: pytest.MonkeyPatch) -> None:
    live, _, token, _ = granted
    checks = []
    real = registry.still_admitted
    monkeypatch.setattr(registry, "still_admitted", lambda *a: checks.append(1) or real(*a))
    response = httpx.get(f"{live.url}/{REPO}/resolve/main/model.safetensors", timeout=30,
                         headers={"Authorization": f"Bearer {token}"})
    assert response.status_code == 200 and hashlib.sha256(response.content).digest() == \
        hashlib.sha256(_weights()).digest()
    assert SIZE // (RECHECK_MIB * MIB) - 1 <= len(checks) <= SIZE // (RECHECK_MIB * MIB)  # every 4 MiB, no more
    ranged = httpx.get(f"{live.url}/{REPO}/resolve/main/model.safetensors", timeout=30,
                       headers={"Authorization": f"Bearer {token}", "Range": f"bytes={SIZE - 10 * MIB}-"})
    assert ranged.status_code == 206 and ranged.content == _weights()[SIZE - 10 * MIB:]


def test_huggingface_hub_cannot_finish_or_resume_a_download_after_revocation(
        granted: tuple[LiveServer, World, str, int], monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """The revocation lands while huggingface_hub is downloading: it is cut off, and its resume is refused."""
    live, w, token, grant_id = granted
    real = registry.still_admitted

    def revoke_then_check(*args: object) -> bool:  # the grant is revoked during the transfer
        if access.list_grants(w.rt, w.lead, "lab-a")[0].status == "active":
            access.revoke_grant(w.rt, w.lead, "lab-a", grant_id, reason="Traced by a watermark")
        return real(*args)  # type: ignore[arg-type]

    monkeypatch.setattr(registry, "still_admitted", revoke_then_check)
    # huggingface_hub sees the connection close early, logs "Trying to resume download...", sends
    # Range: bytes=N- and gets the Hub's gated error
    with pytest.raises(GatedRepoError, match="no current grant"):
        hf_hub_download(REPO, "model.safetensors", endpoint=live.url, token=token, cache_dir=tmp_path)
    finished = [p for p in tmp_path.rglob("model.safetensors")]
    assert finished == []  # no complete file in the cache
    partial = [p for p in tmp_path.rglob("*.incomplete")]
    assert all(os.path.getsize(p) < SIZE for p in partial)
    refused = audit.list_events(w.rt, w.owner, "lab-a", action_prefix="download.")
    assert {"download.stopped", "download.refused"} <= {e.action for e in refused}


def test_revoking_the_api_token_also_stops_a_download_in_progress(
        granted: tuple[LiveServer, World, str, int]) -> None:
    from releasewise.domain.credentials import parse_api_token
    from releasewise.services import tokens

    live, w, token, _ = granted
    sam = tokens.resolve_token(w.rt, token)
    parsed = parse_api_token(token)
    assert parsed is not None
    url = f"{live.url}/{REPO}/resolve/main/model.safetensors"
    received = at_revocation = 0
    with httpx.Client(timeout=30) as client, client.stream(
            "GET", url, headers={"Authorization": f"Bearer {token}", "Accept-Encoding": "identity"}) as response:
        with pytest.raises(httpx.RemoteProtocolError):
            for piece in response.iter_raw(MIB):
                received += len(piece)
                if not at_revocation and received >= 8 * MIB:
                    tokens.revoke_token(w.rt, sam, parsed.public_id)
                    at_revocation = received
    assert at_revocation and received - at_revocation <= AFTER_REVOCATION_LIMIT and received < SIZE
