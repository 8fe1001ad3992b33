"""`releasewise verify` and `releasewise signing-keys`: check downloads against the lab's signed manifest."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Annotated, Any

import typer
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

from releasewise.cli import config as cli_config
from releasewise.cli.client import ApiClient, ApiError
from releasewise.cli.output import JsonFlag, call, console, err_console, fail, show
from releasewise.domain import signing as rules
from releasewise.errors import InvalidInput

signing_app = typer.Typer(help="The organisation's release-signing keys.", no_args_is_help=True)


READ_CHUNK = 4 * 1024 * 1024


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as fh:
        while chunk := fh.read(READ_CHUNK):
            digest.update(chunk)
    return digest.hexdigest()


def compare_folder(manifest: Mapping[str, Any], folder: Path, *,
                   ignore: Sequence[str] = (".releasewise",)) -> rules.FolderReport:
    """Which files differ from the manifest (size or SHA-256), are missing, or were added."""
    expected = {f["path"]: f for f in manifest.get("files", [])}
    present = {p.relative_to(folder).as_posix() for p in folder.rglob("*")
               if p.is_file() and not any(part in ignore for part in p.relative_to(folder).parts)}
    changed = []
    for path, entry in sorted(expected.items()):
        file = folder / path
        if path not in present:
            continue
        if file.stat().st_size != entry["size"] or _sha256(file) != entry["sha256"]:
            changed.append(path)
    return rules.FolderReport(tuple(changed), tuple(sorted(set(expected) - present)), tuple(sorted(present - set(expected))))


def _published_keys(org: str, keys_file: Path | None, url: str | None) -> dict[str, Ed25519PublicKey]:
    if keys_file is not None:
        try:
            entries = json.loads(keys_file.read_text(encoding="utf-8"))
        except (OSError, ValueError) as exc:
            fail(f"Cannot read keys from {keys_file}: {exc}.")
    else:
        creds = cli_config.load()
        base = url or (creds.url if creds else None)
        if base is None:
            fail("Give the server with --url (or log in), or the organisation's public keys with --keys FILE.")
        try:
            entries = ApiClient(base).get(f"/orgs/{org}/signing-keys")
        except ApiError as exc:
            fail(f"Could not fetch the public keys of {org}: {exc.title}: {exc.detail}")
    try:
        return {e["key_id"]: rules.load_public_key(e["public_key"]) for e in entries}
    except (KeyError, TypeError, InvalidInput) as exc:
        fail(f"The public keys are malformed: {exc}.")


def verify_command(
    folder: Annotated[Path, typer.Argument(help="A folder written by `releasewise pull`.")],
    keys: Annotated[Path | None, typer.Option("--keys", help="The organisation's public keys (JSON from "
                                              "/api/v1/orgs/ORG/signing-keys), to verify offline.")] = None,
    url: Annotated[str | None, typer.Option(help="Server to fetch the public keys from.")] = None,
    as_json: JsonFlag = False,
) -> None:
    """Check downloaded files against the lab's signed manifest; exit 2 naming any changed, missing or extra file."""
    manifest_file = folder / ".releasewise" / "manifest.json"
    try:
        data = json.loads(manifest_file.read_text(encoding="utf-8"))
        signed = rules.SignedManifest(data["manifest"], data["key_id"], data["signature"])
    except (OSError, ValueError, KeyError, TypeError):
        fail(f"{manifest_file} is missing or unreadable. Pull the folder with `releasewise pull` first.")
    org = str(signed.manifest.get("org", ""))
    try:
        key_id = rules.verify(signed, _published_keys(org, keys, url))
    except InvalidInput as exc:
        fail(exc.message)
    report = compare_folder(signed.manifest, folder)
    m = signed.manifest
    if as_json:
        console.print(json.dumps({"intact": report.intact, "key_id": key_id, "changed": report.changed,
                                  "missing": report.missing, "extra": report.extra}))
    elif report.intact:
        console.print(f"[green]✔ {folder}: {len(m['files'])} files match {m['org']}/{m['project']}/{m['asset']} "
                      f"v{m['version']}[/], signed by key {key_id}.")
    else:
        err_console.print(f"[bold red]✘ {folder} does not match the signed manifest of "
                          f"{m['org']}/{m['project']}/{m['asset']} v{m['version']}[/]")
        for label, paths in (("changed", report.changed), ("missing", report.missing), ("extra", report.extra)):
            for path in paths:
                err_console.print(f"  {label}: {path}", highlight=False, markup=False)
    if not report.intact:
        raise typer.Exit(2)


@signing_app.command("list")
def keys_list(org: str, as_json: JsonFlag = False) -> None:
    """Public keys, active and retired."""
    show(call(lambda c: c.get(f"/orgs/{org}/signing-keys")), as_json, ["key_id", "created_at", "retired_at"])


@signing_app.command("rotate")
def keys_rotate(org: str, as_json: JsonFlag = False) -> None:
    """Owners: retire the active key and start a new one (old signatures stay verifiable)."""
    show(call(lambda c: c.post(f"/orgs/{org}/signing-keys/rotate")), as_json, ["key_id", "created_at"])
