"""`releasewise credential …`, `releasewise detection …` and `releasewise detect --api`: content credentials,
server-side marking, and the detection service.

``detect --api PATH`` sends one file or every image/WAV file under a folder to the server's detection
service, with a progress bar; on 429 it waits as long as the server asks and carries on.
"""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from releasewise.cli import config as cli_config
from releasewise.cli.client import ApiClient, ApiError
from releasewise.cli.output import JsonFlag, call, client, console, fail, show, split_path

credential_app = typer.Typer(help="Content credentials (C2PA): sign generated media, read a file's credential.",
                             no_args_is_help=True)
detection_app = typer.Typer(help="The detection service: who may trace your marks, partners, keys, the check log.",
                            no_args_is_help=True)

DETECTABLE = {".jpg", ".jpeg", ".png", ".webp", ".wav", ".mp3", ".ogg", ".opus", ".flac"}
MAX_WAITS = 5


# -- credential ---------------------------------------------------------------------------------------------
@credential_app.command("sign")
def sign(
    file: Annotated[Path, typer.Argument(help="Generated image (JPEG, PNG, WebP) or WAV clip.")],
    project: Annotated[str, typer.Option("--project", help="ORG/PROJECT the model belongs to.")],
    model: Annotated[str, typer.Option("--model", help="The model: slug of one of the project's assets.")],
    release: Annotated[str, typer.Option("--release", help="Release label, e.g. v3 or api-2026-11.")],
    output: Annotated[Path, typer.Option("--out", "-o", help="Where to write the marked, signed file.")],
    grant: Annotated[int, typer.Option("--grant", help="Grant id of the holder who generated it (hosted access).")]
    = 0,
    watermark: Annotated[bool, typer.Option("--watermark/--no-watermark", help="Embed the model's watermark.")]
    = True,
) -> None:
    """Watermark FILE on the server and attach the organisation's signed content credential."""
    org, proj = split_path(project, 2, "ORG/PROJECT")
    try:
        data = file.read_bytes()
    except OSError as exc:
        fail(f"{file}: {exc.strerror or exc}.")
    params: dict[str, Any] = {"model": model, "release": release, "grant": grant,
                              "watermark": str(watermark).lower()}
    response = call(lambda api: api.send("POST", f"/orgs/{org}/projects/{proj}/outputs", params=params,
                                         content=data, headers={"Content-Type": "application/octet-stream"}))
    try:
        output.write_bytes(response.content)
    except OSError as exc:
        fail(f"{output}: {exc.strerror or exc}.")
    key = response.headers.get("x-releasewise-watermark-key")
    console.print(f"Signed {file} → {output} ({org}/{proj}, model {model}, release {release}"
                  + (f", grant {grant}" if grant else "") + (f", watermark key {key}" if key else ", no watermark")
                  + ")", highlight=False)


def _trust(trust: Path | None, url: str | None) -> str | None:
    if trust is not None:
        try:
            return trust.read_text()
        except OSError as exc:
            fail(f"{trust}: {exc.strerror or exc}.")
    creds = cli_config.load()
    base = url or (creds.url if creds else None)
    if base is None:
        return None
    try:
        return str(ApiClient(base).send("GET", "/credentials/trust-anchors").text)
    except ApiError as exc:
        fail(f"Cannot fetch the server's trust anchors: {exc.detail}")


@credential_app.command("read")
def read(
    file: Annotated[Path, typer.Argument(help="Image or audio file to inspect.")],
    trust: Annotated[Path | None, typer.Option("--trust", help="PEM file of trusted certificate authorities.")]
    = None,
    url: Annotated[str | None, typer.Option("--url", help="Server whose trust anchors to use (default: login).")]
    = None,
    as_json: JsonFlag = False,
) -> None:
    """Read and validate FILE's content credential locally. Exit 0 trusted, 2 absent/untrusted, 1 invalid."""
    try:
        from releasewise.domain.detection import sniff
        from releasewise.provenance import ProvenanceError
        from releasewise.provenance import c2pa as credentials
    except ImportError as exc:
        fail(f"This command needs the provenance extra ({exc.name} is missing): pip install 'releasewise[provenance]'.")
    try:
        data = file.read_bytes()
    except OSError as exc:
        fail(f"{file}: {exc.strerror or exc}.")
    media_type = sniff(data)
    if media_type is None:
        fail(f"{file}: not a JPEG, PNG, WebP image or WAV clip.")
    try:
        report = credentials.read(data, media_type, trust_anchors=_trust(trust, url))
    except ProvenanceError as exc:
        fail(str(exc))
    if as_json:
        sys.stdout.write(json.dumps(report.as_dict(), indent=2) + "\n")
    else:
        colour = {"trusted": "green", "untrusted": "yellow", "invalid": "red"}.get(report.status, "dim")
        console.print(f"[{colour}]{report.status.upper()}[/] {file}", highlight=False)
        if report.present:
            console.print(f"  signer: {report.signer} (issuer {report.issuer})", highlight=False)
            if report.generator:
                g = report.generator
                console.print(f"  generator: {g.get('organisation_name', g.get('organisation'))} / "
                              f"{g.get('model')} / {g.get('release')}", highlight=False)
            if report.digital_source_type:
                console.print(f"  source: {report.digital_source_type.rsplit('/', 1)[-1]}", highlight=False)
        for problem in report.problems:
            console.print(f"  [red]problem:[/] {problem}", highlight=False)
    raise typer.Exit({"trusted": 0, "invalid": 1}.get(report.status, 2))


# -- detect --api ----------------------------------------------------------------------------------------------
def _files(path: Path) -> list[Path]:
    if path.is_file():
        return [path]
    if path.is_dir():
        return sorted(p for p in path.rglob("*") if p.is_file() and p.suffix.lower() in DETECTABLE)
    fail(f"{path}: no such file or folder.")


def _check(api: ApiClient, file: Path, progress: Progress, task: Any) -> dict[str, Any]:
    data = file.read_bytes()
    for _ in range(MAX_WAITS):
        try:
            result: dict[str, Any] = api.send("POST", "/detect", content=data, params={"filename": file.name},
                                              headers={"Content-Type": "application/octet-stream"}).json()
            return result
        except ApiError as exc:
            if exc.status != 429:
                return {"error": f"{exc.title}: {exc.detail}"}
            wait = int(exc.retry_after or 60)
            progress.update(task, description=f"rate limited, waiting {wait} s")
            time.sleep(wait)
            progress.update(task, description="checking")
    return {"error": "still rate limited after several waits; try again later"}


def detect_via_api(path: Path, as_json: bool) -> None:
    """Check PATH (a file or a folder) with the server's detection service."""
    files = _files(path)
    if not files:
        fail(f"{path}: no JPEG, PNG, WebP, WAV, MP3, Ogg or FLAC files to check.")
    api = client()
    results: list[dict[str, Any]] = []
    with Progress(TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(),
                  console=console, transient=True, disable=as_json) as progress:
        task = progress.add_task("checking", total=len(files))
        for file in files:
            results.append({"file": str(file), **_check(api, file, progress, task)})
            progress.advance(task)
    if as_json:
        sys.stdout.write(json.dumps(results, indent=2) + "\n")
    else:
        table = Table(title=f"Detection: {len(files)} file(s) under {path}" if path.is_dir()
                      else f"Detection: {path}")
        for column in ("file", "credential", "watermark", "traced to"):
            table.add_column(column)
        for r in results:
            name = str(Path(r["file"]).relative_to(path)) if path.is_dir() else Path(r["file"]).name
            if "error" in r:
                table.add_row(name, "[red]error[/]", "", r["error"])
                continue
            w = r["watermark"]
            traced = " / ".join(x for x in (w.get("organisation_name") or w.get("organisation"), w.get("project"),
                                             w.get("model"), w.get("release")) if x)
            if w.get("grant"):
                traced += f", grant #{w['grant']['id']} ({w['grant']['grantee']})"
            table.add_row(name, r["credential"]["status"], "detected" if w["detected"] else "—", traced or "—")
        console.print(table)
    errors = sum("error" in r for r in results)
    found = sum(bool(r.get("watermark", {}).get("detected")) for r in results)
    if errors == len(results):
        raise typer.Exit(1)
    raise typer.Exit(0 if found else 2)


# -- detection settings -------------------------------------------------------------------------------------
@detection_app.command("show")
def show_settings(org: Annotated[str, typer.Argument(help="Organisation.")], as_json: JsonFlag = False) -> None:
    """Detection per project, retention of matched uploads, and partners."""
    data = call(lambda api: api.get(f"/orgs/{org}/detection"))
    if as_json:
        show(data, True, [])
        return
    console.print(f"Matched uploads kept for {data['retention_days']} day(s) (0: never).", highlight=False)
    show(data["projects"], False, ["slug", "name", "mode", "keys"], title="Projects")
    show(data["partners"], False, ["username", "email", "note", "added_at"], title="Detection partners")


@detection_app.command("mode")
def set_mode(project: Annotated[str, typer.Argument(help="ORG/PROJECT.")],
             mode: Annotated[str, typer.Argument(help="public, partners or off.")]) -> None:
    """Choose who may trace the project's marks."""
    org, proj = split_path(project, 2, "ORG/PROJECT")
    result = call(lambda api: api.request("PUT", f"/orgs/{org}/projects/{proj}/detection", json={"mode": mode}))
    console.print(f"Detection for {org}/{proj}: {result['mode']}.", highlight=False)


@detection_app.command("retention")
def set_retention(org: Annotated[str, typer.Argument(help="Organisation.")],
                  days: Annotated[int, typer.Argument(help="Days to keep uploads that matched (0: never).")]) -> None:
    """How long uploads that matched your marks are kept."""
    result = call(lambda api: api.request("PUT", f"/orgs/{org}/detection/retention", json={"days": days}))
    console.print(f"Matched uploads are kept for {result['days']} day(s).", highlight=False)


@detection_app.command("partner-add")
def partner_add(org: Annotated[str, typer.Argument(help="Organisation.")],
                user: Annotated[str, typer.Argument(help="Username or email of an account on this instance.")],
                note: Annotated[str, typer.Option("--note", help="Who they are, e.g. 'VideoShare trust & safety'.")]
                = "") -> None:
    """Let someone outside the organisation trace its partners-only marks."""
    result = call(lambda api: api.post(f"/orgs/{org}/detection/partners", json={"user": user, "note": note}))
    console.print(f"{result['username']} is now a detection partner of {org}.", highlight=False)


@detection_app.command("partner-remove")
def partner_remove(org: Annotated[str, typer.Argument(help="Organisation.")],
                   user: Annotated[str, typer.Argument(help="Username.")]) -> None:
    """Stop a partner from tracing the organisation's partners-only marks."""
    call(lambda api: api.delete(f"/orgs/{org}/detection/partners/{user}"))
    console.print(f"{user} is no longer a detection partner of {org}.", highlight=False)


@detection_app.command("checks")
def checks(org: Annotated[str, typer.Argument(help="Organisation.")],
           limit: Annotated[int, typer.Option("--limit", min=1, max=1000)] = 50, as_json: JsonFlag = False) -> None:
    """Checks that matched the organisation's marks: who traced them and what they were told."""
    data = call(lambda api: api.get(f"/orgs/{org}/detection/checks", limit=limit))
    show(data, as_json, ["id", "created_at", "caller", "visibility", "media_type", "summary"])


@detection_app.command("keys")
def keys(project: Annotated[str, typer.Argument(help="ORG/PROJECT.")], as_json: JsonFlag = False) -> None:
    """The project's server-side watermark keys (fingerprints only)."""
    org, proj = split_path(project, 2, "ORG/PROJECT")
    data = call(lambda api: api.get(f"/orgs/{org}/projects/{proj}/watermark-keys"))
    show(data, as_json, ["model", "key_ref", "generation", "fingerprint", "created_at", "retired_at"])


@detection_app.command("rotate-key")
def rotate_key(project: Annotated[str, typer.Argument(help="ORG/PROJECT.")],
               model: Annotated[str, typer.Argument(help="The model (asset slug).")]) -> None:
    """Retire the model's watermark key and start a new one; old marks are still traced."""
    org, proj = split_path(project, 2, "ORG/PROJECT")
    result = call(lambda api: api.post(f"/orgs/{org}/projects/{proj}/watermark-keys/{model}/rotate"))
    console.print(f"New watermark key {result['key_ref']} (generation {result['generation']}) for {model}.",
                  highlight=False)
