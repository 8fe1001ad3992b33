"""The part of the Hugging Face Hub HTTP protocol that ``huggingface_hub`` uses to download.

With ``HF_ENDPOINT`` (or ``endpoint=``) set to releasewise and a releasewise token
as the HF token, ``snapshot_download``, ``hf_hub_download``, ``list_repo_files``
and ``transformers``' ``from_pretrained`` work unchanged:

* repo id ``ORG/PROJECT-ASSET``; revisions are asset versions (``main`` = newest,
  ``v1``, ``v2``, … or a version's 40-hex commit id);
* ``GET /api/models/{repo}[/revision/{rev}]`` — repo info (``sha`` + ``siblings``);
* ``GET /api/models/{repo}/tree/{rev}[/{path}]`` — file listing with sizes and SHA-256 (``lfs.oid``);
* ``HEAD|GET /{repo}/resolve/{rev}/{path}`` — the file, with ``ETag`` (its SHA-256),
  ``X-Repo-Commit``, ``X-Linked-Etag`` / ``X-Linked-Size``, and single ``Range`` requests
  (206 / 416) so interrupted downloads resume.

Errors carry huggingface_hub's ``X-Error-Code`` header (``RepoNotFound``, ``GatedRepo``,
``RevisionNotFound``, ``EntryNotFound``), so the client raises its own exception types;
the gated message points at the asset's access-request page.
"""

from __future__ import annotations

import os
import re
from email.utils import formatdate
from typing import Annotated, Any

from collections.abc import Callable, Coroutine

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import FileResponse, JSONResponse, Response
from fastapi.routing import APIRoute
from starlette.concurrency import run_in_threadpool
from starlette.types import Message, Receive, Scope, Send

from releasewise.api.deps import client_ip, get_runtime
from releasewise.errors import NotAuthenticated, NotFound, ReleasewiseError
from releasewise.services import registry, tokens
from releasewise.services.registry import AccessGated, EntryNotFound, FileTicket, RevisionNotFound
from releasewise.services.runtime import Actor, Runtime

RuntimeDep = Annotated[Runtime, Depends(get_runtime)]
_RANGE = re.compile(r"^bytes=(\d*)-(\d*)$")


class HfError(Exception):
    """Raised inside HF routes; answered in the Hub's error format (never problem+json)."""

    def __init__(self, status: int, code: str | None, message: str) -> None:
        self.status, self.code, self.message = status, code, message


def hf_error_response(request: Request, exc: HfError) -> Response:
    headers = {"X-Error-Message": exc.message.encode("ascii", "replace").decode("ascii")}
    if exc.code:
        headers["X-Error-Code"] = exc.code
    body = None if request.method == "HEAD" else {"error": exc.message}
    if body is None:
        return Response(status_code=exc.status, headers=headers)
    return JSONResponse(body, status_code=exc.status, headers=headers)


class HfRoute(APIRoute):
    """Answers HfError (raised by a route or its dependencies) in the Hub's format."""

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        handler = super().get_route_handler()

        async def handle(request: Request) -> Response:
            try:
                return await handler(request)
            except HfError as exc:
                return hf_error_response(request, exc)

        return handle


router = APIRouter(include_in_schema=False, route_class=HfRoute)


def _translate(exc: ReleasewiseError) -> HfError:
    if isinstance(exc, AccessGated):
        return HfError(exc.status_code, "GatedRepo", exc.message)
    if isinstance(exc, RevisionNotFound):
        return HfError(404, "RevisionNotFound", exc.message)
    if isinstance(exc, EntryNotFound):
        return HfError(404, "EntryNotFound", exc.message)
    if isinstance(exc, NotFound):
        return HfError(404, "RepoNotFound", exc.message)
    if isinstance(exc, NotAuthenticated):
        return HfError(401, None, "Invalid credentials in Authorization header")
    return HfError(exc.status_code, None, exc.message)


def resolve_actor(request: Request, rt: Runtime) -> Actor | None:
    """huggingface_hub sends ``Authorization: Bearer <token>``; no header means anonymous."""
    header = request.headers.get("authorization", "")
    scheme, _, value = header.partition(" ")
    if not header:
        return None
    if scheme.lower() != "bearer" or not value.strip():
        raise HfError(401, None, "Invalid credentials in Authorization header")
    try:
        return tokens.resolve_token(rt, value.strip(), ip=client_ip(request))
    except NotAuthenticated:
        raise HfError(401, None, "Invalid credentials in Authorization header") from None


def optional_actor(request: Request, rt: RuntimeDep) -> Actor | None:
    return resolve_actor(request, rt)


MaybeActor = Annotated[Actor | None, Depends(optional_actor)]


def _iso(value: Any) -> str:
    return f"{value.isoformat(timespec='milliseconds')}Z"


def _repo_info(rt: Runtime, actor: Actor | None, org: str, name: str, revision: str) -> dict[str, Any]:
    try:
        snap = registry.snapshot(rt, actor, org, name, revision)
    except ReleasewiseError as exc:
        raise _translate(exc) from None
    ctx = snap.context
    return {
        "_id": f"rw-{ctx.asset_id}", "id": ctx.repo_id, "modelId": ctx.repo_id, "author": ctx.org_slug,
        "sha": snap.commit_sha, "lastModified": _iso(snap.completed_at), "private": ctx.tier != "public",
        "gated": False if ctx.tier == "public" else "manual", "disabled": False, "tags": [f"releasewise:v{snap.number}"],
        "siblings": [{"rfilename": f.path, "size": f.size, "lfs": {"sha256": f.sha256, "size": f.size, "pointerSize": 134}}
                     for f in snap.files],
        "releasewise": {"version": f"v{snap.number}", "tier": ctx.tier},
    }


@router.get("/api/models/{org}/{name}")
def model_info(rt: RuntimeDep, actor: MaybeActor, org: str, name: str) -> dict[str, Any]:
    return _repo_info(rt, actor, org, name, "main")


@router.get("/api/models/{org}/{name}/revision/{revision}")
def model_info_at(rt: RuntimeDep, actor: MaybeActor, org: str, name: str, revision: str) -> dict[str, Any]:
    return _repo_info(rt, actor, org, name, revision)


def _tree(rt: Runtime, actor: Actor | None, org: str, name: str, revision: str, prefix: str,
          recursive: bool) -> list[dict[str, Any]]:
    try:
        snap = registry.snapshot(rt, actor, org, name, revision)
    except ReleasewiseError as exc:
        raise _translate(exc) from None
    prefix = prefix.strip("/")
    base = prefix + "/" if prefix else ""
    entries: list[dict[str, Any]] = []
    folders: set[str] = set()
    for f in snap.files:
        if not f.path.startswith(base):
            continue
        rest = f.path[len(base):]
        if "/" in rest:
            parts = rest.split("/")
            # every folder on the way is listed once (recursively) or only the first level
            for depth in range(1, len(parts) if recursive else 2):
                folders.add(base + "/".join(parts[:depth]))
            if not recursive:
                continue
        entries.append({"type": "file", "path": f.path, "size": f.size, "oid": f.sha256[:40],
                        "lfs": {"oid": f.sha256, "size": f.size, "pointerSize": 134}})
    if prefix and not entries and not folders:
        raise HfError(404, "EntryNotFound", f"No folder '{prefix}' in this revision.")
    for folder in sorted(folders):
        entries.append({"type": "directory", "path": folder, "oid": "0" * 40, "size": 0})
    return sorted(entries, key=lambda e: (e["type"] != "directory", e["path"]))


@router.get("/api/models/{org}/{name}/tree/{revision}")
def tree(rt: RuntimeDep, actor: MaybeActor, org: str, name: str, revision: str,
         recursive: Annotated[bool, Query()] = False) -> list[dict[str, Any]]:
    return _tree(rt, actor, org, name, revision, "", recursive)


@router.get("/api/models/{org}/{name}/tree/{revision}/{path:path}")
def tree_path(rt: RuntimeDep, actor: MaybeActor, org: str, name: str, revision: str, path: str,
              recursive: Annotated[bool, Query()] = False) -> list[dict[str, Any]]:
    return _tree(rt, actor, org, name, revision, path, recursive)


class BlobFileResponse(FileResponse):
    # Starlette's 64 KiB default costs a lot of event-loop round trips on big files.
    chunk_size = 4 * 1024 * 1024


class _AccessEnded(Exception):
    """Raised inside ``send`` to abandon a response whose downloader lost access mid-transfer."""


class GuardedFileResponse(BlobFileResponse):
    """A file response that asks again, every ``recheck_bytes`` bytes, whether the downloader may still have it.

    Revoking a grant must stop downloads already under way, not only the next request: a
    multi-gigabyte file takes minutes. Before sending the chunk that passes the next
    ``recheck_bytes`` boundary, the response re-runs the access decision it made at the start
    (tier, membership, grant, agreement: about 0.3 ms in a worker thread). If access ended, it stops
    sending: the connection closes short of ``Content-Length``, so every client sees a failed
    transfer (huggingface_hub retries with ``Range: bytes=N-``, which is refused like any new
    request), and ``download.stopped`` is audited. After the moment of revocation at most
    ``recheck_bytes`` plus one chunk leave the server (plus what the kernel's socket buffers already
    held). A check that fails (say, the database is unreachable) also ends the transfer: fail closed.
    The default interval, 64 MiB, costs nothing measurable even on loopback (docs/performance.md).
    """

    def __init__(self, *args: Any, still_allowed: Callable[[], bool], on_stop: Callable[[int], None],
                 recheck_bytes: int, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.still_allowed, self.on_stop, self.recheck_bytes = still_allowed, on_stop, recheck_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        # Without this, a server offering ``http.response.pathsend`` would send the whole file itself.
        extensions = {k: v for k, v in scope.get("extensions", {}).items() if k != "http.response.pathsend"}
        scope = {**scope, "extensions": extensions}
        sent, checked_at, stopped = 0, 0, False

        async def guarded(message: Message) -> None:
            nonlocal sent, checked_at, stopped
            if message["type"] == "http.response.body" and message.get("more_body"):
                size = len(message.get("body", b""))
                if sent + size - checked_at > self.recheck_bytes:
                    checked_at = sent
                    if not await run_in_threadpool(self.still_allowed):
                        stopped = True
                        raise _AccessEnded
                sent += size
            await send(message)

        try:
            await super().__call__(scope, receive, guarded)
        except BaseException:
            if not stopped:
                raise
            await run_in_threadpool(self.on_stop, sent)
            # Returning without the final body message: the server closes the connection short of
            # Content-Length, which is how HTTP says "this transfer failed".


def _requested_range(header: str | None, size: int) -> tuple[int, int]:
    """(first byte, bytes to send) of a single-range request, for the download log."""
    match = _RANGE.match((header or "").strip())
    if not match or size == 0:
        return 0, size
    first, last = match.groups()
    if not first:
        n = min(int(last or 0), size)
        return size - n, n
    start = int(first)
    end = min(int(last), size - 1) if last else size - 1
    return (start, max(0, end - start + 1)) if start < size else (start, 0)


def file_headers(ticket: FileTicket) -> dict[str, str]:
    etag = f'"{ticket.sha256}"'
    return {
        "ETag": etag, "X-Linked-Etag": etag, "X-Linked-Size": str(ticket.size), "X-Repo-Commit": ticket.commit_sha,
        "Accept-Ranges": "bytes", "Cache-Control": "private, max-age=0",
    }


def serve_file(request: Request, rt: Runtime, actor: Actor | None, ticket: FileTicket, via: str) -> Response:
    """The file's bytes (ranges honoured), logged before they are sent."""
    headers = file_headers(ticket)
    filename = os.path.basename(ticket.path)
    if request.method == "GET":
        start, length = _requested_range(request.headers.get("range"), ticket.size)
        registry.log_download(rt, actor, ticket, sent_bytes=length, range_start=start, via=via,
                              ip=client_ip(request))
        prefix = rt.settings.accel_redirect_prefix
        if prefix:
            headers["X-Accel-Redirect"] = prefix.rstrip("/") + "/" + ticket.blob_relative_path
            headers["Content-Disposition"] = f'attachment; filename="{filename}"'
            return Response(status_code=200, headers=headers, media_type="application/octet-stream")
    try:
        stat = os.stat(ticket.blob_path)
    except FileNotFoundError:
        raise HfError(500, None, "The file's stored bytes are missing; tell the server operator.") from None
    headers["Last-Modified"] = formatdate(stat.st_mtime, usegmt=True)
    recheck = rt.settings.download_recheck_mib * 1024 * 1024
    if recheck <= 0 or request.method != "GET" or stat.st_size <= recheck:
        return BlobFileResponse(ticket.blob_path, headers=headers, media_type="application/octet-stream",
                                filename=filename, stat_result=stat)
    return GuardedFileResponse(
        ticket.blob_path, headers=headers, media_type="application/octet-stream", filename=filename,
        stat_result=stat, recheck_bytes=recheck, still_allowed=lambda: registry.still_admitted(rt, actor, ticket),
        on_stop=lambda sent: registry.record_stopped_download(rt, actor, ticket, sent_bytes=sent))


def _resolve(request: Request, rt: Runtime, actor: Actor | None, org: str, name: str, revision: str,
             path: str) -> Response:
    try:
        ticket = registry.resolve_file(rt, actor, org, name, revision, path)
    except ReleasewiseError as exc:
        raise _translate(exc) from None
    via = "hf" if "huggingface_hub" in request.headers.get("user-agent", "") else "http"
    return serve_file(request, rt, actor, ticket, via)


@router.api_route("/{org}/{name}/resolve/{revision}/{path:path}", methods=["GET", "HEAD"])
def resolve(request: Request, rt: RuntimeDep, org: str, name: str, revision: str, path: str) -> Response:
    # The token is resolved here rather than in a dependency: one worker-thread hop per request, not two
    # (this is the hottest route: every file of every download starts with a HEAD).
    return _resolve(request, rt, resolve_actor(request, rt), org, name, revision, path)
