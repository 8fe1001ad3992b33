"""The artifact registry: resumable uploads into asset versions, and access-checked downloads.

A version is a set of files. It is created in status ``uploading`` and becomes
visible to downloads only when every file has arrived and matched its SHA-256
(``complete``); an abandoned upload leaves every earlier version untouched.

Downloads are decided by the asset's *current* tier (domain/access.py): members
of the owning organisation always, organisations holding a grant from
``trusted_partners`` up, individual grantees who accepted the current agreement
from ``vetted_researchers`` up, anyone signed in who accepted the terms at
``registered``, and anyone at ``public``. Someone who may not download gets no
file name, size, revision or existence: assets they cannot even request are
"not found"; requestable ones answer "gated" before anything else is looked at.
"""

from __future__ import annotations

import secrets
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from sqlalchemy import bindparam, func, select
from sqlalchemy.orm import Session
from sqlalchemy.sql.elements import BindParameter

from releasewise.blobs import LocalBlobStore, blob_store_for
from releasewise.domain.access import AccessFacts, Admission, admits, clean_file_path, commit_sha, requestable
from releasewise.domain.roles import Action, Role, Scope, explain
from releasewise.domain.tiers import Tier
from releasewise.errors import Conflict, InvalidInput, NotFound, PermissionDenied
from releasewise.services.audit import append_event, record
from releasewise.services.authz import authorize
from releasewise.services.runtime import Actor, PendingAudit, Runtime
from releasewise.store.models import ApiToken, Asset, Membership, Organization, Project
from releasewise.store.models_access import (
    AccessAgreement,
    AccessGrant,
    AgreementAcceptance,
    AssetVersion,
    DownloadEvent,
    VersionFile,
)

MAX_FILES_PER_VERSION = 10_000
MAX_CHUNK_BYTES = 256 * 1024 * 1024


class AccessGated(PermissionDenied):
    """The asset exists and can be requested, but this person has no (current) access."""

    code = "gated"
    title = "Access required"

    def __init__(self, message: str, *, request_path: str, signed_in: bool) -> None:
        super().__init__(message)
        self.request_path = request_path
        self.status_code = 403 if signed_in else 401


class RevisionNotFound(NotFound):
    code = "revision_not_found"


class EntryNotFound(NotFound):
    code = "entry_not_found"


def blobs(rt: Runtime) -> LocalBlobStore:
    return blob_store_for(rt.settings.blob_dir or (rt.settings.data_dir / "blobs"),
                          direct_io=rt.settings.upload_direct_io)


# Views ---------------------------------------------------------------------

@dataclass(frozen=True)
class FileView:
    id: int
    path: str
    size: int
    sha256: str
    received_bytes: int
    completed: bool


@dataclass(frozen=True)
class VersionView:
    org_slug: str
    project_slug: str
    asset_slug: str
    number: int
    label: str
    status: str
    commit_sha: str | None
    upload_key: str
    created_at: datetime
    completed_at: datetime | None
    total_bytes: int
    file_count: int
    note: str
    files: tuple[FileView, ...]

    @property
    def repo_id(self) -> str:
        return f"{self.org_slug}/{self.project_slug}-{self.asset_slug}"


def _version_view(session: Session, version: AssetVersion, org: Organization, project: Project, asset: Asset,
                  *, with_files: bool = True) -> VersionView:
    files: tuple[FileView, ...] = ()
    if with_files:
        rows = session.scalars(select(VersionFile).where(VersionFile.version_id == version.id)
                               .order_by(VersionFile.path)).all()
        files = tuple(FileView(f.id, f.path, f.size, f.sha256, f.received_bytes, f.completed) for f in rows)
    return VersionView(org.slug, project.slug, asset.slug, version.number, f"v{version.number}", version.status,
                       version.commit_sha, version.upload_key, version.created_at, version.completed_at,
                       version.total_bytes, version.file_count, version.note, files)


def _load_asset(session: Session, org: Organization, project_slug: str, asset_slug: str) -> tuple[Project, Asset]:
    row = session.execute(
        select(Project, Asset).join(Asset, Asset.project_id == Project.id)
        .where(Project.org_id == org.id, Project.slug == (project_slug or "").strip().lower(),
               Asset.slug == (asset_slug or "").strip().lower())
    ).first()
    if row is None:
        raise NotFound(f"No asset '{project_slug}/{asset_slug}' in {org.name}. List the project's assets to find it.")
    return row[0], row[1]


# Uploads ---------------------------------------------------------------------

def _clean_manifest(rt: Runtime, files: Sequence[dict[str, Any]]) -> list[tuple[str, int, str]]:
    if not files:
        raise InvalidInput("Declare at least one file to upload.", field="files")
    if len(files) > MAX_FILES_PER_VERSION:
        raise InvalidInput(f"A version holds at most {MAX_FILES_PER_VERSION} files.", field="files")
    seen: set[str] = set()
    clean: list[tuple[str, int, str]] = []
    for item in files:
        path = clean_file_path(str(item.get("path", "")))
        if path in seen:
            raise InvalidInput(f"The file '{path}' is listed twice.", field="files")
        seen.add(path)
        size = item.get("size")
        if not isinstance(size, int) or isinstance(size, bool) or size < 0:
            raise InvalidInput(f"'{path}': size must be a whole number of bytes.", field="files")
        if size > rt.settings.max_upload_bytes:
            raise InvalidInput(f"'{path}' is {size} bytes; the largest file this server accepts is "
                               f"{rt.settings.max_upload_bytes} bytes (RELEASEWISE_MAX_UPLOAD_BYTES).", field="files")
        declared = str(item.get("sha256") or "").strip().lower()
        if declared and (len(declared) != 64 or any(c not in "0123456789abcdef" for c in declared)):
            raise InvalidInput(f"'{path}': sha256 must be 64 hexadecimal characters.", field="files")
        clean.append((path, size, declared))
    return clean


def start_upload(rt: Runtime, actor: Actor, org_slug: str, project_slug: str, asset_slug: str, *,
                 files: Sequence[dict[str, Any]], note: str = "") -> VersionView:
    """Open a new version in status ``uploading``; files whose content the server already holds
    (declared SHA-256 of a stored blob) and empty files are complete at once."""
    manifest = _clean_manifest(rt, files)
    note = (note or "").strip()[:200]
    store = blobs(rt)
    with rt.write() as session:
        org, _ = authorize(session, actor, org_slug, Action.asset_upload)
        project, asset = _load_asset(session, org, project_slug, asset_slug)
        number = (session.scalar(select(func.max(AssetVersion.number)).where(AssetVersion.asset_id == asset.id))
                  or 0) + 1
        version = AssetVersion(asset_id=asset.id, number=number, upload_key=secrets.token_hex(16),
                               status="uploading", created_by_id=actor.user_id, created_at=rt.clock.now(),
                               note=note)
        session.add(version)
        session.flush()
        reused = 0
        for path, size, declared in manifest:
            row = VersionFile(version_id=version.id, path=path, size=size, declared_sha256=declared,
                              received_bytes=0, completed=False)
            if size == 0:
                row.sha256, row.completed = store.put_empty(), True
            elif declared and store.exists(declared):
                row.sha256, row.completed, row.received_bytes = declared, True, size
                reused += 1
            session.add(row)
        session.flush()
        record(session, rt, actor, org.id, "upload.started", "asset_version", f"{project.slug}/{asset.slug}/v{number}",
               {"files": len(manifest), "bytes": sum(m[1] for m in manifest), "already_stored": reused})
        _finish_if_complete(session, rt, actor, org, project, asset, version)
        return _version_view(session, version, org, project, asset)


def _finish_if_complete(session: Session, rt: Runtime, actor: Actor, org: Organization, project: Project,
                        asset: Asset, version: AssetVersion) -> None:
    files = session.scalars(select(VersionFile).where(VersionFile.version_id == version.id)).all()
    if not all(f.completed for f in files):
        return
    version.status = "complete"
    version.completed_at = rt.clock.now()
    version.commit_sha = commit_sha(asset.id, version.number, [(f.path, f.sha256) for f in files])
    version.total_bytes = sum(f.size for f in files)
    version.file_count = len(files)
    blobs(rt).discard(version.upload_key)
    from releasewise.services.signing import sign_version  # signing reads versions through this module

    signature = sign_version(session, rt, org, project, asset, version)
    record(session, rt, actor, org.id, "version.published", "asset_version",
           f"{project.slug}/{asset.slug}/v{version.number}",
           {"files": len(files), "bytes": version.total_bytes, "commit": version.commit_sha,
            "signed_by_key": signature.key_id})


def _load_upload(session: Session, actor: Actor, upload_key: str,
                 ) -> tuple[AssetVersion, Organization, Project, Asset]:
    row = session.execute(
        select(AssetVersion, Asset, Project, Organization)
        .join(Asset, Asset.id == AssetVersion.asset_id).join(Project, Project.id == Asset.project_id)
        .join(Organization, Organization.id == Project.org_id)
        .where(AssetVersion.upload_key == (upload_key or "").strip())
    ).first()
    missing = NotFound("No upload with that key. Start the upload again with `releasewise push`.")
    if row is None:
        raise missing
    version, asset, project, org = row
    try:
        authorize(session, actor, org.slug, Action.asset_upload)
    except NotFound:
        raise missing from None
    return version, org, project, asset


def get_upload(rt: Runtime, actor: Actor, upload_key: str) -> VersionView:
    """Where an upload stands (bytes received per file), so a client can resume it."""
    with rt.read() as session:
        version, org, project, asset = _load_upload(session, actor, upload_key)
        return _version_view(session, version, org, project, asset)


def upload_chunk(rt: Runtime, actor: Actor, upload_key: str, file_id: int, *, offset: int, data: bytes,
                 running_sha256: str) -> FileView:
    """Store ``data`` at ``offset`` of one file. ``running_sha256`` is the SHA-256 of the file's bytes
    from the start through the end of this chunk; a mismatch rejects the chunk and stores nothing."""
    return upload_chunk_stream(rt, actor, upload_key, file_id, offset=offset, length=len(data), pieces=[data],
                               running_sha256=running_sha256)


def upload_chunk_stream(rt: Runtime, actor: Actor, upload_key: str, file_id: int, *, offset: int, length: int,
                        pieces: Iterable[bytes], running_sha256: str) -> FileView:
    """``upload_chunk`` for a chunk of ``length`` bytes that is still arriving: hashed and written as it comes."""
    if length > MAX_CHUNK_BYTES:
        raise InvalidInput(f"Chunks are at most {MAX_CHUNK_BYTES} bytes; send smaller chunks.")
    running_sha256 = (running_sha256 or "").strip().lower()
    if len(running_sha256) != 64 or any(c not in "0123456789abcdef" for c in running_sha256):
        raise InvalidInput("The chunk's running digest must be a SHA-256 digest: 64 hexadecimal characters.",
                           field="X-Running-SHA256")
    with rt.read() as session:
        version, org, project, asset = _load_upload(session, actor, upload_key)
        row = session.get(VersionFile, file_id)
        if row is None or row.version_id != version.id:
            raise NotFound("This upload has no such file.")
        if version.status != "uploading":
            raise Conflict(f"This upload is {version.status}; start a new one to change the files.")
        if row.completed:
            raise Conflict(f"'{row.path}' is already complete.")
        if offset != row.received_bytes:
            raise Conflict(f"'{row.path}' continues at byte {row.received_bytes}, not {offset}; "
                           f"resume from {row.received_bytes}.")
        end = offset + length
        if end > row.size or length <= 0:
            raise InvalidInput(f"'{row.path}' was declared as {row.size} bytes; this chunk would end at byte {end}.")
        declared = row.declared_sha256
        target = f"{project.slug}/{asset.slug}/v{version.number}"
        org_id = org.id
    if end == row.size and declared and running_sha256 != declared:
        raise InvalidInput(f"'{row.path}' does not match the SHA-256 declared for it; nothing was stored.")
    try:
        state = blobs(rt).append_stream(upload_key, file_id, offset, pieces, running_sha256, length)
    except InvalidInput:
        with rt.write() as session:  # the refusal is audited; the upload itself is unchanged
            record(session, rt, actor, org_id, "upload.chunk_rejected", "asset_version", target,
                   {"path": row.path, "offset": offset, "bytes": length})
        raise
    with rt.write() as session:
        version, org, project, asset = _load_upload(session, actor, upload_key)
        row = session.get(VersionFile, file_id, populate_existing=True)
        if row is None or row.received_bytes != offset or version.status != "uploading":
            raise Conflict("Another client is uploading this file at the same time; resume from the server's offset.")
        row.received_bytes = state.offset
        if state.offset == row.size:
            blobs(rt).commit(upload_key, file_id, state.sha256)
            row.sha256, row.completed = state.sha256, True
            session.flush()
            _finish_if_complete(session, rt, actor, org, project, asset, version)
        return FileView(row.id, row.path, row.size, row.sha256, row.received_bytes, row.completed)


def abort_upload(rt: Runtime, actor: Actor, upload_key: str) -> VersionView:
    with rt.write() as session:
        version, org, project, asset = _load_upload(session, actor, upload_key)
        if version.status != "uploading":
            raise Conflict(f"This upload is already {version.status}.")
        version.status = "aborted"
        record(session, rt, actor, org.id, "upload.aborted", "asset_version",
               f"{project.slug}/{asset.slug}/v{version.number}", {})
        view = _version_view(session, version, org, project, asset)
    blobs(rt).discard(upload_key)
    return view


def list_versions(rt: Runtime, actor: Actor, org_slug: str, project_slug: str, asset_slug: str) -> list[VersionView]:
    """Every version of an asset, uploads in progress included (members only)."""
    with rt.read() as session:
        org, _ = authorize(session, actor, org_slug, Action.asset_view)
        project, asset = _load_asset(session, org, project_slug, asset_slug)
        rows = session.scalars(select(AssetVersion).where(AssetVersion.asset_id == asset.id)
                               .order_by(AssetVersion.number.desc())).all()
        return [_version_view(session, v, org, project, asset, with_files=v.status == "complete") for v in rows]


# Downloads -------------------------------------------------------------------

@dataclass(frozen=True)
class AccessContext:
    org_id: int
    org_slug: str
    project_id: int
    project_slug: str
    asset_id: int
    asset_slug: str
    asset_name: str
    tier: str
    admission: Admission

    @property
    def repo_id(self) -> str:
        return f"{self.org_slug}/{self.project_slug}-{self.asset_slug}"

    @property
    def request_path(self) -> str:
        return f"/orgs/{self.org_slug}/projects/{self.project_slug}/assets/{self.asset_slug}/access"


@dataclass(frozen=True)
class Snapshot:
    """A complete version as a download client sees it."""

    context: AccessContext
    version_id: int
    number: int
    commit_sha: str
    completed_at: datetime
    files: tuple[FileView, ...]


@dataclass(frozen=True)
class FileTicket:
    """Permission to send one file, with what the response headers need."""

    context: AccessContext
    version_id: int
    commit_sha: str
    path: str
    size: int
    sha256: str
    blob_path: Path
    blob_relative_path: str


def repo_not_found(repo_id: str) -> NotFound:
    return NotFound(f"Repository '{repo_id}' not found, or you may not see it. Check the name "
                    "(ORG/PROJECT-ASSET) and that you are signed in with a token.")


# The download checks run on every HEAD and GET of a file: their statements are built once, with
# bound parameters, so a request pays for execution only (SQLAlchemy caches the compiled SQL).
_ASSET_BY_REPO = (
    select(Organization, Project, Asset).join(Project, Project.org_id == Organization.id)
    .join(Asset, Asset.project_id == Project.id)
    .where(Organization.slug == bindparam("org_slug"), Project.slug.in_(bindparam("projects", expanding=True)),
           Asset.slug.in_(bindparam("assets", expanding=True)))
)


def _facts_statement() -> Any:
    live = (AccessGrant.asset_id == bindparam("asset_id"), AccessGrant.revoked_at.is_(None),
            AccessGrant.expires_at > bindparam("now"))
    user_id: BindParameter[int] = bindparam("user_id")
    my_orgs = select(Membership.org_id).where(Membership.user_id == user_id)
    return select(
        select(Membership.role).where(Membership.org_id == bindparam("org_id"), Membership.user_id == user_id)
        .scalar_subquery(),
        select(AccessGrant.id).where(*live, AccessGrant.grantee_org_id.in_(my_orgs))
        .order_by(AccessGrant.expires_at.desc()).limit(1).scalar_subquery(),
        select(AccessGrant.id).where(*live, AccessGrant.user_id == user_id)
        .order_by(AccessGrant.expires_at.desc()).limit(1).scalar_subquery(),
        select(func.max(AccessAgreement.version)).where(AccessAgreement.project_id == bindparam("project_id"))
        .scalar_subquery(),
        select(func.max(AgreementAcceptance.version)).where(
            AgreementAcceptance.project_id == bindparam("project_id"), AgreementAcceptance.user_id == user_id)
        .scalar_subquery(),
    )


_FACTS = _facts_statement()


def _find_asset(session: Session, org_slug: str, repo_name: str) -> tuple[Organization, Project, Asset] | None:
    """``PROJECT-ASSET``: project and asset slugs may contain '-', so try every split."""
    name = (repo_name or "").strip().lower()
    candidates: list[tuple[str, str]] = [(name[:i], name[i + 1:]) for i, c in enumerate(name) if c == "-"]
    if not candidates:
        return None
    rows = session.execute(_ASSET_BY_REPO, {"org_slug": (org_slug or "").strip().lower(),
                                            "projects": [p for p, _ in candidates],
                                            "assets": [a for _, a in candidates]}).all()
    for org, project, asset in rows:
        if f"{project.slug}-{asset.slug}" == name:
            return org, project, asset
    return None


def _facts(session: Session, rt: Runtime, actor: Actor | None, org: Organization, project: Project,
           asset: Asset) -> AccessFacts:
    if actor is None or Scope.read not in actor.scopes:
        return AccessFacts(signed_in=False)
    role, org_grant, user_grant, current, accepted = session.execute(_FACTS, {
        "asset_id": asset.id, "now": rt.clock.now(), "user_id": actor.user_id, "org_id": org.id,
        "project_id": project.id}).one()
    is_member = role is not None and explain(Role(role), Action.asset_download, actor.scopes).allowed
    return AccessFacts(True, is_member, org_grant, user_grant, current, accepted)


def access_context(session: Session, rt: Runtime, actor: Actor | None, org_slug: str, repo_name: str,
                   ) -> AccessContext:
    """Resolve ``ORG/PROJECT-ASSET`` and decide whether ``actor`` may download from it.

    Raises NotFound when the asset does not exist or is not even requestable for this person, and
    AccessGated when it is requestable but they lack a current grant or agreement.
    """
    repo_id = f"{org_slug}/{repo_name}"
    found = _find_asset(session, org_slug, repo_name)
    if found is None:
        raise repo_not_found(repo_id)
    org, project, asset = found
    tier = Tier(asset.current_tier)
    facts = _facts(session, rt, actor, org, project, asset)
    admission = admits(tier, facts)
    context = AccessContext(org.id, org.slug, project.id, project.slug, asset.id, asset.slug, asset.name,
                            tier.value, admission)
    if admission.allowed:
        return context
    if not requestable(tier):
        raise repo_not_found(repo_id)
    url = rt.settings.base_url.rstrip("/") + context.request_path
    if not facts.signed_in:
        message = (f"Access to {repo_id} is restricted. Sign in with a releasewise token "
                   f"(HF_TOKEN / token=...) and request access at {url}")
    elif admission.needs_agreement:
        message = (f"Access to {repo_id} is restricted: the agreement changed (or was never accepted). "
                   f"Accept the current agreement at {url}")
    else:
        message = f"Access to {repo_id} is restricted and you have no current grant. Request access at {url}"
    refusal = AccessGated(message, request_path=context.request_path, signed_in=facts.signed_in)
    if actor is not None and facts.signed_in:
        # Token holders who are refused leave a trace (anonymous probes would only flood the chain).
        refusal.pending_audit = PendingAudit(
            org.id, actor.user_id, actor.label, "download.refused", "asset", f"{project.slug}/{asset.slug}",
            {"tier": tier.value, "why": "agreement" if admission.needs_agreement else "no current grant"})
    raise refusal


def _revision_filter(revision: str) -> tuple[Any, ...] | None:
    """Conditions on AssetVersion for a revision; None when it cannot name a version."""
    rev = (revision or "main").strip()
    if rev == "main":
        return ()
    if len(rev) == 40 and all(c in "0123456789abcdef" for c in rev):
        return (AssetVersion.commit_sha == rev,)
    digits = rev[1:] if rev[:1] in ("v", "V") else rev
    if digits.isdigit() and len(digits) < 10:
        return (AssetVersion.number == int(digits),)
    return None


def _revision_not_found(revision: str) -> RevisionNotFound:
    return RevisionNotFound(f"No complete version '{revision}'. Revisions are 'main' (the newest), v1, v2, ... "
                            "or a version's commit id.")


def _resolve_version(session: Session, asset_id: int, revision: str) -> AssetVersion:
    conditions = _revision_filter(revision)
    version = None
    if conditions is not None:
        version = session.scalars(
            select(AssetVersion).where(AssetVersion.asset_id == asset_id, AssetVersion.status == "complete",
                                       *conditions).order_by(AssetVersion.number.desc()).limit(1)).first()
    if version is None:
        raise _revision_not_found(revision)
    return version


def snapshot(rt: Runtime, actor: Actor | None, org_slug: str, repo_name: str, revision: str = "main") -> Snapshot:
    with rt.read() as session:
        context = access_context(session, rt, actor, org_slug, repo_name)
        version = _resolve_version(session, context.asset_id, revision)
        rows = session.scalars(select(VersionFile).where(VersionFile.version_id == version.id)
                               .order_by(VersionFile.path)).all()
        files = tuple(FileView(f.id, f.path, f.size, f.sha256, f.received_bytes, f.completed) for f in rows)
        assert version.commit_sha is not None and version.completed_at is not None  # complete versions have both
        return Snapshot(context, version.id, version.number, version.commit_sha, version.completed_at, files)


def _file_statement(condition: Any) -> Any:
    newest = (select(AssetVersion.id).where(AssetVersion.asset_id == bindparam("asset_id"),
                                            AssetVersion.status == "complete", *condition)
              .order_by(AssetVersion.number.desc()).limit(1).scalar_subquery())
    return (select(AssetVersion.id, AssetVersion.commit_sha, VersionFile.path, VersionFile.size, VersionFile.sha256)
            .join(VersionFile, VersionFile.version_id == AssetVersion.id)
            .where(AssetVersion.id == newest, VersionFile.path == bindparam("path")))


_FILE_AT_MAIN = _file_statement(())
_FILE_AT_COMMIT = _file_statement((AssetVersion.commit_sha == bindparam("commit"),))
_FILE_AT_NUMBER = _file_statement((AssetVersion.number == bindparam("number"),))


def resolve_file(rt: Runtime, actor: Actor | None, org_slug: str, repo_name: str, revision: str,
                 path: str) -> FileTicket:
    with rt.read() as session:
        context = access_context(session, rt, actor, org_slug, repo_name)
        rev = (revision or "main").strip()
        params: dict[str, Any] = {"asset_id": context.asset_id, "path": path}
        digits = rev[1:] if rev[:1] in ("v", "V") else rev
        if rev == "main":
            statement = _FILE_AT_MAIN
        elif len(rev) == 40 and all(c in "0123456789abcdef" for c in rev):
            statement, params["commit"] = _FILE_AT_COMMIT, rev
        elif digits.isdigit() and len(digits) < 10:
            statement, params["number"] = _FILE_AT_NUMBER, int(digits)
        else:
            raise _revision_not_found(revision)
        row = session.execute(statement, params).first()
        if row is None:
            version = _resolve_version(session, context.asset_id, revision)  # RevisionNotFound if that is why
            raise EntryNotFound(f"Version v{version.number} of {context.repo_id} has no file '{path}'.")
        version_id, commit, file_path, size, sha256 = row
        store = blobs(rt)
        return FileTicket(context, version_id, commit or "", file_path, size, sha256, store.path(sha256),
                          store.relative_path(sha256))


def log_download(rt: Runtime, actor: Actor | None, ticket: FileTicket, *, sent_bytes: int, range_start: int,
                 via: str, ip: str) -> None:
    """Append to the download log (who, which grant, file, version, bytes, when)."""
    with rt.write() as session:
        session.add(DownloadEvent(
            org_id=ticket.context.org_id, asset_id=ticket.context.asset_id, version_id=ticket.version_id,
            user_id=actor.user_id if actor else None, username=actor.username if actor else "",
            grant_id=ticket.context.admission.grant_id, basis=ticket.context.admission.basis, path=ticket.path,
            bytes=sent_bytes, range_start=range_start, via=via[:20], ip=ip[:64], at=rt.clock.now()))


def still_admitted(rt: Runtime, actor: Actor | None, ticket: FileTicket) -> bool:
    """Whether ``actor`` may still download ``ticket``'s file, asked again mid-transfer.

    The same decision as at the start of the request (tier, membership, grant, agreement), so a
    revoked grant or a narrowed tier also stops a download already under way.
    """
    ctx = ticket.context
    try:
        with rt.read() as session:
            if not _token_still_valid(session, rt, actor):
                return False
            access_context(session, rt, actor, ctx.org_slug, f"{ctx.project_slug}-{ctx.asset_slug}")
    except (AccessGated, NotFound):
        return False
    return True


def _token_still_valid(session: Session, rt: Runtime, actor: Actor | None) -> bool:
    """A download made with an API token ends when the token is revoked or expires, like any later request."""
    if actor is None or actor.token_id is None:
        return True
    token = session.get(ApiToken, actor.token_id)
    return token is not None and token.revoked_at is None and (
        token.expires_at is None or token.expires_at > rt.clock.now())


def record_stopped_download(rt: Runtime, actor: Actor | None, ticket: FileTicket, *, sent_bytes: int) -> None:
    """Audit a download cut off mid-transfer because access ended while it ran."""
    ctx = ticket.context
    with rt.write() as session:
        append_event(session, rt.clock.now(), org_id=ctx.org_id, actor_user_id=actor.user_id if actor else None,
                     actor_label=actor.label if actor else "anonymous", action="download.stopped",
                     target_type="asset", target_id=f"{ctx.project_slug}/{ctx.asset_slug}",
                     summary={"file": ticket.path, "sent_bytes": sent_bytes, "grant": ctx.admission.grant_id,
                              "why": "access ended during the download"})
