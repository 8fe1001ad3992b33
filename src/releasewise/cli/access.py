"""`releasewise push`, `pull` and `access …`: the registry and gated access from a terminal.

Uploads go in resumable chunks; each chunk carries the SHA-256 of the file up to
its end, so the server rejects corrupted chunks and the last chunk's digest is
the file's. An interrupted `push` of the same folder to the same asset resumes
where the server stopped (the upload key is kept in the CLI's config dir).
`pull` resumes partial files with HTTP ranges and checks every file's SHA-256.
"""

from __future__ import annotations

import hashlib
import json
import os
import sys
from collections.abc import Callable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from io import FileIO
from pathlib import Path
from typing import Annotated, Any
from urllib.parse import quote

import httpx
import typer
from rich.markdown import Markdown
from rich.progress import BarColumn, DownloadColumn, Progress, TextColumn, TimeRemainingColumn, TransferSpeedColumn

from releasewise.cli import config as cli_config
from releasewise.cli.client import ApiClient, ApiError
from releasewise.domain.access import clean_file_path
from releasewise.errors import InvalidInput

access_app = typer.Typer(help="Gated access: request access, decide requests, grants, the download log.",
                         no_args_is_help=True)

JsonFlag = Annotated[bool, typer.Option("--json", help="Print the API's JSON instead of a table.")]
_READ = 4 * 1024 * 1024
_SEND_PIECE = 1024 * 1024


def _main() -> Any:
    """The shared command helpers (consoles, call, show, fail)."""
    from releasewise.cli import output

    return output


def _asset_path(value: str) -> tuple[str, str, str]:
    org, project, asset = _main().split_path(value, 3, "ORG/PROJECT/ASSET")
    return org, project, asset


def _progress() -> Progress:
    return Progress(TextColumn("[bold]{task.description}"), BarColumn(), DownloadColumn(), TransferSpeedColumn(),
                    TimeRemainingColumn(), console=_main().err_console, transient=False)


def _fail(message: str) -> None:
    _main().fail(message)


# push ----------------------------------------------------------------------------------

def _local_files(folder: Path) -> list[tuple[str, Path, int]]:
    if not folder.is_dir():
        _fail(f"{folder} is not a folder. Give the folder whose files make up the new version.")
    files: list[tuple[str, Path, int]] = []
    for path in sorted(folder.rglob("*")):
        if path.is_symlink() or not path.is_file():
            continue
        relative = path.relative_to(folder).as_posix()
        try:
            clean_file_path(relative)
        except InvalidInput as exc:
            _fail(exc.message)
        files.append((relative, path, path.stat().st_size))
    if not files:
        _fail(f"{folder} has no files to push.")
    return files


def _state_path(target: str, folder: Path) -> Path:
    key = hashlib.sha256(f"{target}\n{folder.resolve()}".encode()).hexdigest()[:32]
    return cli_config.config_dir() / "uploads" / f"{key}.json"


def _resume_hash(fh: FileIO, start: int) -> Any:
    """The SHA-256 state after the first ``start`` bytes (what the server already holds)."""
    hasher = hashlib.sha256()
    remaining = start
    while remaining:
        block = fh.read(min(_READ, remaining))
        if not block:
            break  # the file shrank; the first chunk read will notice
        hasher.update(block)
        remaining -= len(block)
    return hasher


def _read_chunk(fh: FileIO, buffer: bytearray, length: int, hasher: Any) -> tuple[memoryview, str]:
    """Read up to ``length`` bytes into ``buffer`` (reused: no fresh pages per chunk) and hash them."""
    view = memoryview(buffer)[:length]
    got = 0
    while got < length and (n := fh.readinto(view[got:])):
        got += n
    hasher.update(view[:got])  # hashlib releases the GIL: this overlaps with the previous chunk's upload
    return view[:got], hasher.hexdigest()


def _pieces(view: memoryview) -> Iterator[bytes]:
    """The request body in 1 MiB pieces: one copy each, which stays in the CPU cache and reuses the same
    heap memory (a whole chunk as ``bytes`` would be fresh pages from the kernel every time)."""
    for at in range(0, len(view), _SEND_PIECE):
        yield bytes(view[at:at + _SEND_PIECE])


def _send_file(c: ApiClient, upload_key: str, file_id: int, path: Path, start: int, size: int, chunk: int,
               advance: Callable[[int], None]) -> None:
    """Send ``path`` from ``start``; while one chunk is in flight, the next is read and hashed."""
    url = f"/api/v1/uploads/{upload_key}/files/{file_id}"
    with open(path, "rb", buffering=0) as fh, ThreadPoolExecutor(max_workers=1) as reader:
        hasher = _resume_hash(fh, start)
        buffers = [bytearray(min(chunk, size - start)) for _ in range(2)]

        def read_from(offset: int, turn: int) -> Future[tuple[memoryview, str]] | None:
            if offset >= size:
                return None
            return reader.submit(_read_chunk, fh, buffers[turn % 2], min(chunk, size - offset), hasher)

        offset, turn = start, 0
        pending = read_from(offset, turn)
        while pending is not None:
            data, digest = pending.result()
            if not data:
                _fail(f"{path} changed while it was being pushed; push again.")
            following = offset + len(data)
            turn += 1
            pending = read_from(following, turn)  # into the other buffer
            response = c.http.put(url, params={"offset": offset}, content=_pieces(data),
                                  headers={"X-Running-SHA256": digest, "Content-Length": str(len(data)),
                                           "Content-Type": "application/octet-stream"})
            if response.status_code >= 400:
                if pending is not None:
                    pending.cancel()
                _raise_problem(response)
            offset = following
            advance(len(data))


def _raise_problem(response: httpx.Response) -> None:
    try:
        body = response.json()
        raise ApiError(response.status_code, body.get("title", "Error"), body.get("detail", response.text))
    except ValueError:
        raise ApiError(response.status_code, "Error", response.text[:300]) from None


def push(target: Annotated[str, typer.Argument(help="ORG/PROJECT/ASSET")],
         folder: Annotated[Path, typer.Argument(help="Folder whose files become the new version.")],
         note: Annotated[str, typer.Option(help="A short note stored with the version.")] = "",
         chunk_mib: Annotated[int, typer.Option("--chunk-mib", min=1, max=256,
                                                help="Chunk size in MiB (the client holds two).")] = 32,
         as_json: JsonFlag = False) -> None:
    """Upload a folder as a new version of an asset (resumable; visible only when complete)."""
    org, project, asset = _asset_path(target)
    files = _local_files(folder)
    manifest = [{"path": rel, "size": size} for rel, _, size in files]
    state_file = _state_path(target, folder)
    c = _main().client()
    try:
        version = None
        if state_file.is_file():
            state = json.loads(state_file.read_text())
            if state.get("manifest") == manifest:
                try:
                    version = c.get(f"/uploads/{state['upload_key']}")
                except ApiError:
                    version = None
                if version is not None and version["status"] != "uploading":
                    version = None
        if version is None:
            version = c.post(f"/orgs/{org}/projects/{project}/assets/{asset}/uploads",
                             json={"files": manifest, "note": note})
            state_file.parent.mkdir(parents=True, exist_ok=True)
            state_file.write_text(json.dumps({"upload_key": version["upload_key"], "manifest": manifest}))
        else:
            _main().err_console.print(f"Resuming upload of v{version['number']}.")
        local = {rel: path for rel, path, _ in files}
        total = sum(f["size"] for f in version["files"])
        done = sum(f["received_bytes"] if not f["completed"] else f["size"] for f in version["files"])
        with _progress() as progress:
            task = progress.add_task(f"push v{version['number']}", total=total, completed=done)
            for f in version["files"]:
                if f["completed"]:
                    continue
                _send_file(c, version["upload_key"], f["id"], local[f["path"]], f["received_bytes"], f["size"],
                           chunk_mib * 1024 * 1024, lambda n: progress.advance(task, n))
        final = c.get(f"/uploads/{version['upload_key']}")
    except ApiError as exc:
        _fail(f"{exc.title}: {exc.detail}")
        return
    state_file.unlink(missing_ok=True)
    if as_json:
        sys.stdout.write(json.dumps(final, indent=2, default=str) + "\n")
        return
    _main().console.print(f"Published [bold]{final['label']}[/] of {target}: {final['file_count']} files, "
                          f"{final['total_bytes']} bytes, commit {final['commit_sha']}.")


# pull ----------------------------------------------------------------------------------

def pull(target: Annotated[str, typer.Argument(help="ORG/PROJECT/ASSET")],
         dest: Annotated[Path | None, typer.Argument(help="Folder to write into (default: ./ASSET).")] = None,
         revision: Annotated[str, typer.Option(help="main (newest), v1, v2, … or a commit id.")] = "main") -> None:
    """Download a version you may access (resumes partial files, checks SHA-256)."""
    org, project, asset = _asset_path(target)
    dest = dest or Path(asset)
    c = _main().client()
    base = f"/api/v1/orgs/{org}/projects/{project}/assets/{asset}"
    try:
        snap = c.get(f"/orgs/{org}/projects/{project}/assets/{asset}/snapshot/{quote(revision, safe='')}")
    except ApiError as exc:
        _fail(f"{exc.title}: {exc.detail}")
        return
    files = snap["files"]
    with _progress() as progress:
        task = progress.add_task(f"pull {snap['version']}", total=sum(f["size"] for f in files))
        for f in files:
            try:
                rel = clean_file_path(str(f["path"]))  # never trust a server with local paths
            except InvalidInput:
                _fail(f"The server sent an unsafe file name ({str(f['path'])[:80]!r}); nothing more was written.")
                return
            out = dest / rel
            if out.is_file() and out.stat().st_size == f["size"] and _sha256(out) == f["sha256"]:
                progress.advance(task, f["size"])
                continue
            out.parent.mkdir(parents=True, exist_ok=True)
            part = out.with_name(out.name + ".part")
            have = part.stat().st_size if part.is_file() else 0
            if have > f["size"]:
                part.unlink()
                have = 0
            progress.advance(task, have)
            headers = {"Range": f"bytes={have}-"} if have else {}
            url = f"{base}/files/{quote(snap['commit_sha'])}/{quote(rel)}"
            with c.http.stream("GET", url, headers=headers) as response:
                if response.status_code >= 400:
                    response.read()
                    try:
                        _raise_problem(response)
                    except ApiError as exc:
                        _fail(f"{exc.title}: {exc.detail}")
                mode = "ab" if response.status_code == 206 else "wb"
                if mode == "wb" and have:
                    progress.advance(task, -have)
                with open(part, mode) as fh:
                    for block in response.iter_bytes(_READ):
                        fh.write(block)
                        progress.advance(task, len(block))
            if _sha256(part) != f["sha256"]:
                part.unlink()
                _fail(f"{rel} arrived corrupted (SHA-256 mismatch); pull again.")
            os.replace(part, out)
    signed = _save_manifest(c, org, project, asset, snap["commit_sha"], dest)
    _main().console.print(f"Pulled {snap['version']} of {target} ({len(files)} files) into {dest}."
                          + (" Check it any time with `releasewise verify " + str(dest) + "`." if signed else ""))


def _save_manifest(c: ApiClient, org: str, project: str, asset: str, commit: str, dest: Path) -> bool:
    """Keep the version's signed manifest beside the files, for `releasewise verify` later."""
    try:
        signed = c.get(f"/orgs/{org}/projects/{project}/assets/{asset}/manifest", revision=commit)
    except ApiError:
        return False  # versions published before signing existed have none
    folder = dest / ".releasewise"
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "manifest.json").write_text(json.dumps(signed, indent=2, sort_keys=True), encoding="utf-8")
    return True


def _sha256(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        while block := fh.read(_READ):
            h.update(block)
    return h.hexdigest()


# access ----------------------------------------------------------------------------------

def _parse_answers(values: list[str]) -> dict[str, str]:
    answers: dict[str, str] = {}
    for item in values:
        key, sep, value = item.partition("=")
        if not sep or not key.strip():
            _fail(f"--answer takes FIELD=VALUE, got '{item}'.")
        answers[key.strip()] = value
    return answers


@access_app.command("request")
def access_request(
    target: Annotated[str, typer.Argument(help="ORG/PROJECT/ASSET")],
    use: Annotated[str, typer.Option("--use", help="Your intended use.")],
    institution: Annotated[str, typer.Option(help="Your institution.")],
    answer: Annotated[list[str], typer.Option(help="A custom field: FIELD=VALUE (repeat).")] = [],  # noqa: B006
    accept: Annotated[bool, typer.Option("--accept", help="Accept the agreement shown (all its statements).")] = False,
    for_org: Annotated[str, typer.Option(help="Request for your whole organisation (its slug).")] = "",
    kind: Annotated[str, typer.Option(help="new, renewal or appeal.")] = "new",
    reason: Annotated[str, typer.Option(help="Why (needed to appeal or re-apply).")] = "",
    as_json: JsonFlag = False,
) -> None:
    """Request access to a gated asset: shows the agreement, then submits the form."""
    org, project, asset = _asset_path(target)
    path = f"/orgs/{org}/projects/{project}/assets/{asset}/access"
    form = _main().call(lambda c: c.get(path))
    agreement = form.get("agreement")
    checkboxes: list[str] = []
    if agreement:
        console = _main().console
        console.print(Markdown(f"# {agreement['title']} (version {agreement['version']})\n\n{agreement['body_md']}"))
        for box in agreement["checkboxes"]:
            console.print(f"  [ ] {box}", markup=False)
        if not accept:
            _fail("Read the agreement above and run again with --accept to accept all of its statements.")
        checkboxes = list(agreement["checkboxes"])
    body = {"intended_use": use, "institution": institution, "answers": _parse_answers(answer),
            "checkboxes": checkboxes, "for_org": for_org, "kind": kind, "reason": reason}
    result = _main().call(lambda c: c.post(path + "/requests", json=body))
    if as_json:
        _main().show(result, True, [])
        return
    _main().console.print(f"Request #{result['id']} is [bold]{result['status']}[/]"
                          + (f": {result['decision_reason']}" if result["decision_reason"] else "."))


@access_app.command("accept")
def access_accept(target: Annotated[str, typer.Argument(help="ORG/PROJECT/ASSET")],
                  yes: Annotated[bool, typer.Option("--yes", help="Accept without asking.")] = False) -> None:
    """Accept the current agreement (click-through, or again after it changed)."""
    org, project, asset = _asset_path(target)
    path = f"/orgs/{org}/projects/{project}/assets/{asset}/access"
    form = _main().call(lambda c: c.get(path))
    agreement = form.get("agreement")
    if not agreement:
        _fail("This project has no agreement to accept.")
    _main().console.print(Markdown(f"# {agreement['title']} (version {agreement['version']})\n\n{agreement['body_md']}"))
    if not yes and not typer.confirm("Accept every statement of this agreement?"):
        raise typer.Exit(1)
    body = {"checkboxes": agreement["checkboxes"], "version": agreement["version"]}
    _main().call(lambda c: c.post(path + "/agreement", json=body))
    _main().console.print(f"Accepted version {agreement['version']}.")


@access_app.command("mine")
def access_mine(as_json: JsonFlag = False) -> None:
    """Your access requests and their status."""
    _main().show(_main().call(lambda c: c.get("/access/requests")), as_json,
                 ["id", "org_slug", "project_slug", "asset_slug", "kind", "status", "decision_reason"])


@access_app.command("queue")
def access_queue(org: str, status: Annotated[str, typer.Option(help="pending, approved, rejected, all")] = "pending",
                 as_json: JsonFlag = False) -> None:
    """Requests waiting for a decision (oldest first, with waiting time)."""
    data = _main().call(lambda c: c.get(f"/orgs/{org}/access/requests", status=status))
    for row in data:
        row["waiting"] = f"{row['waiting_seconds'] / 3600:.1f} h"
    _main().show(data, as_json, ["id", "requester", "asset_slug", "for_org", "kind", "institution", "waiting", "status"])


def _decide(org: str, ids: list[int], approve: bool, reason: str, days: int | None, as_json: bool) -> None:
    body = {"request_ids": ids, "approve": approve, "reason": reason, "grant_days": days}
    data = _main().call(lambda c: c.post(f"/orgs/{org}/access/decisions", json=body))
    _main().show(data, as_json, ["id", "requester", "asset_slug", "status", "grant_id"])


@access_app.command("approve")
def access_approve(org: str, ids: Annotated[list[int], typer.Argument(help="Request ids.")],
                   reason: Annotated[str, typer.Option()] = "",
                   days: Annotated[int | None, typer.Option(help="Grant lifetime (default: policy).")] = None,
                   as_json: JsonFlag = False) -> None:
    """Approve one or many requests."""
    _decide(org, ids, True, reason, days, as_json)


@access_app.command("reject")
def access_reject(org: str, ids: Annotated[list[int], typer.Argument(help="Request ids.")],
                  reason: Annotated[str, typer.Option(help="Told to the requester.")],
                  as_json: JsonFlag = False) -> None:
    """Reject one or many requests, with a reason."""
    _decide(org, ids, False, reason, None, as_json)


@access_app.command("grants")
def access_grants(org: str, as_json: JsonFlag = False) -> None:
    _main().show(_main().call(lambda c: c.get(f"/orgs/{org}/access/grants")), as_json,
                 ["id", "asset_slug", "grantee", "expires_at", "status", "revoke_reason"])


@access_app.command("revoke")
def access_revoke(org: str, grant_id: int, reason: Annotated[str, typer.Option(help="Told to the grantee.")],
                  as_json: JsonFlag = False) -> None:
    """Revoke a grant now, telling the grantee why."""
    data = _main().call(lambda c: c.post(f"/orgs/{org}/access/grants/{grant_id}/revoke", json={"reason": reason}))
    _main().show(data, as_json, ["id", "grantee", "status", "revoke_reason"])


@access_app.command("downloads")
def access_downloads(org: str, csv_out: Annotated[Path | None, typer.Option("--csv", help="Write CSV here.")] = None,
                     limit: Annotated[int, typer.Option(min=1, max=10_000)] = 50, as_json: JsonFlag = False) -> None:
    """The download log (who, which grant, file, version, bytes, when)."""
    if csv_out is not None:
        def fetch(c: ApiClient) -> str:
            response = c.http.get(f"/api/v1/orgs/{org}/access/downloads.csv")
            if response.status_code >= 400:
                _raise_problem(response)
            return response.text

        csv_out.write_text(_main().call(fetch))
        _main().console.print(f"Wrote {csv_out}.")
        return
    _main().show(_main().call(lambda c: c.get(f"/orgs/{org}/access/downloads", limit=limit)), as_json,
                 ["at", "username", "asset", "version", "path", "bytes", "grant_id", "via"])


def _project_path(value: str) -> tuple[str, str]:
    org, project = _main().split_path(value, 2, "ORG/PROJECT")
    return org, project


def _parse_field(spec: str) -> dict[str, Any]:
    parts = [p.strip() for p in spec.split("|")]
    if len(parts) < 3:
        _fail(f"--field takes 'name|label|type[|option,option]' (append ? to the name if optional), got '{spec}'.")
    name = parts[0].rstrip("?")
    options = [o.strip() for o in parts[3].split(",")] if len(parts) > 3 else []
    return {"name": name, "label": parts[1], "type": parts[2], "required": not parts[0].endswith("?"),
            "options": options}


@access_app.command("policy")
def access_policy(
    target: Annotated[str, typer.Argument(help="ORG/PROJECT")],
    mode: Annotated[str | None, typer.Option(help="manual, automatic or rules (omit to show the policy).")] = None,
    domain: Annotated[list[str], typer.Option(help="Approve verified emails of this domain (rules; repeat).")] = [],  # noqa: B006
    trusted_org: Annotated[list[str], typer.Option(help="Approve members of this organisation (rules; repeat).")] = [],  # noqa: B006
    field: Annotated[list[str], typer.Option(help="Custom form field 'name|label|type[|options]' (repeat).")] = [],  # noqa: B006
    grant_days: Annotated[int | None, typer.Option(help="Grant lifetime (default: organisation's).")] = None,
    as_json: JsonFlag = False,
) -> None:
    """Show or set how a project's access requests are decided, and its request form."""
    org, project = _project_path(target)
    path = f"/orgs/{org}/projects/{project}/access/policy"
    if mode is None:
        data = _main().call(lambda c: c.get(path))
    else:
        body = {"approval_mode": mode, "email_domains": domain, "trusted_orgs": trusted_org,
                "form_fields": [_parse_field(f) for f in field], "grant_days": grant_days}
        data = _main().call(lambda c: c.request("PUT", path, json=body))
    if as_json:
        _main().show(data, True, [])
        return
    fields = ", ".join(f"{f['name']} ({f['type']})" for f in data["form_fields"]) or "none"
    _main().console.print(f"Approval: [bold]{data['approval_mode']}[/]; domains: {', '.join(data['email_domains']) or '—'}; "
                          f"trusted organisations: {', '.join(data['trusted_orgs']) or '—'}; fields: {fields}; "
                          f"grants last {data['grant_days']} days; agreement: "
                          + (f"version {data['agreement']['version']}" if data["agreement"] else "none"), markup=False)


@access_app.command("agreement")
def access_agreement(
    target: Annotated[str, typer.Argument(help="ORG/PROJECT")],
    title: Annotated[str, typer.Option(help="Agreement title.")],
    text_file: Annotated[Path, typer.Option("--file", help="Markdown file with the agreement's text.")],
    checkbox: Annotated[list[str], typer.Option(help="A statement everyone must tick (repeat).")] = [],  # noqa: B006
    as_json: JsonFlag = False,
) -> None:
    """Publish a new agreement version; grantees accept it again before their next download."""
    org, project = _project_path(target)
    if not text_file.is_file():
        _fail(f"{text_file} is not a file.")
    body = {"title": title, "body_md": text_file.read_text(), "checkboxes": checkbox}
    data = _main().call(lambda c: c.post(f"/orgs/{org}/projects/{project}/access/agreements", json=body))
    if as_json:
        _main().show(data, True, [])
        return
    _main().console.print(f"Published agreement version {data['version']} ({len(data['checkboxes'])} checkboxes).")


@access_app.command("withdraw")
def access_withdraw(request_id: int, as_json: JsonFlag = False) -> None:
    """Withdraw one of your pending requests."""
    _main().show(_main().call(lambda c: c.delete(f"/access/requests/{request_id}")), as_json,
                 ["id", "asset_slug", "status"])
