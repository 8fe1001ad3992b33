"""Coordinated disclosure under embargo (FRAMEWORK.md §4–5, issue 6).

A lab keeps a stakeholder registry (shared across the instance, plus private
entries), opens a case for a project with a Markdown briefing, attachments and an
exact embargo end, and invites parties. Parties are external people: each contact
acts through a secret link (only its SHA-256 is stored), without an account —
see docs/disclosure.md for why. Everything a party is told, by email or webhook,
is built from what that party may see.

Time-based effects (no response at the deadline, reminders, publication at lift,
webhook retries) run in :func:`reconcile`, idempotently.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import secrets
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import func, or_, select
from sqlalchemy.orm import Session

from releasewise.domain import disclosure as rules
from releasewise.domain.credentials import digest, new_secret
from releasewise.domain.disclosure import PartyState
from releasewise.domain.roles import Action, Role, explain
from releasewise.domain.validation import clean_email, clean_text
from releasewise.errors import Conflict, InvalidInput, NotFound
from releasewise.notify.webhooks import HttpWebhookSender, WebhookResult, WebhookSender
from releasewise.notify import pgp
from releasewise.services import outbox
from releasewise.services.audit import append_event, record
from releasewise.services.authz import authorize, load_membership
from releasewise.services.projects import load_project
from releasewise.services.registry import blobs
from releasewise.services.runtime import Actor, Runtime
from releasewise.store.models import Asset, Membership, Organization, Project, User
from releasewise.store.models_access import AssetVersion, DownloadEvent, VersionFile
from releasewise.store.models_disclosure import (
    CaseAttachment,
    CaseMessage,
    DisclosureCase,
    Party,
    PartyContact,
    Stakeholder,
    StakeholderContact,
    TimeRequest,
    WebhookDelivery,
    WebhookEndpoint,
)
from releasewise.store.models_plans import PlanStage, ReleasePlan

PARTY_LINK_PATH = "/disclosure/invitations/"  # logsafe redacts what follows "/invitations/"
MAX_CONTACTS = 10


# Views ---------------------------------------------------------------------------------------

@dataclass(frozen=True)
class ContactView:
    id: int
    name: str
    email: str
    has_pgp_key: bool


@dataclass(frozen=True)
class StakeholderView:
    id: int
    name: str
    type: str
    interests: tuple[str, ...]
    note: str
    shared: bool
    editable: bool
    contacts: tuple[ContactView, ...]


@dataclass(frozen=True)
class PartyView:
    id: int
    stakeholder_id: int
    name: str
    type: str
    state: str
    column: str
    respond_by: datetime
    invited_at: datetime
    state_changed_at: datetime
    contacts: tuple[str, ...]
    access_until: datetime | None = None  # access to the case's assets converted into a grant, until then


@dataclass(frozen=True)
class MessageView:
    id: int
    party_id: int | None
    party_name: str
    author_kind: str
    author_label: str
    body: str
    created_at: datetime
    shared: bool


@dataclass(frozen=True)
class TimeRequestView:
    id: int
    party_id: int
    party_name: str
    reason: str
    requested_until: datetime
    status: str
    created_at: datetime
    decision_note: str


@dataclass(frozen=True)
class AttachmentView:
    id: int
    filename: str
    content_type: str
    size: int
    sha256: str


@dataclass(frozen=True)
class CaseView:
    id: int
    org_slug: str
    org_name: str
    project_slug: str
    project_name: str
    title: str
    briefing_md: str
    embargo_ends_at: datetime
    stage_key: str | None
    assets: tuple[str, ...]
    status: str
    public_summary: str
    created_at: datetime
    published_at: datetime | None
    parties: tuple[PartyView, ...] = ()
    attachments: tuple[AttachmentView, ...] = ()
    messages: tuple[MessageView, ...] = ()
    time_requests: tuple[TimeRequestView, ...] = ()
    board: dict[str, list[str]] = field(default_factory=dict)


@dataclass(frozen=True)
class PartyCaseView:
    """What one party sees: never other parties, never other parties' private threads."""

    case_id: int
    party_id: int
    party_name: str
    contact_name: str
    org_name: str
    project_name: str
    title: str
    embargo_ends_at: datetime
    status: str
    state: str
    respond_by: datetime
    briefed: bool
    briefing_md: str | None
    assets: tuple[str, ...]
    attachments: tuple[AttachmentView, ...]
    messages: tuple[MessageView, ...]
    time_requests: tuple[TimeRequestView, ...]
    choices: tuple[str, ...]


@dataclass(frozen=True)
class PublicSummaryView:
    case_id: int
    org_name: str
    project_name: str
    title: str
    public_summary: str
    published_at: datetime


@dataclass(frozen=True)
class WebhookView:
    id: int
    url: str
    stakeholder: str | None
    created_at: datetime
    disabled: bool


@dataclass(frozen=True)
class DeliveryView:
    id: int
    endpoint_id: int
    url: str
    event_type: str
    idempotency_key: str
    status: str
    attempts: int
    last_status_code: int | None
    last_error: str
    created_at: datetime
    delivered_at: datetime | None
    next_attempt_at: datetime


# Helpers ----------------------------------------------------------------------------------------

def _contact_view(c: StakeholderContact) -> ContactView:
    return ContactView(c.id, c.name, c.email, bool(c.pgp_key))


def _stakeholder_view(s: Stakeholder, org_id: int) -> StakeholderView:
    return StakeholderView(s.id, s.name, s.type, tuple(s.interests), s.note, s.org_id is None,
                           s.owner_org_id == org_id, tuple(_contact_view(c) for c in s.contacts))


def _visible_stakeholder(session: Session, org: Organization, stakeholder_id: int) -> Stakeholder:
    """Shared entries and this organisation's private ones; others' private entries do not exist."""
    s = session.get(Stakeholder, stakeholder_id)
    if s is None or (s.org_id is not None and s.org_id != org.id):
        raise NotFound(f"No stakeholder #{stakeholder_id} in the registry you can see.")
    return s


def _load_case(session: Session, org: Organization, case_id: int) -> DisclosureCase:
    case = session.get(DisclosureCase, case_id)
    if case is None or case.org_id != org.id:
        raise NotFound(f"No disclosure case #{case_id} in {org.name}.")
    return case


def _authorize_case_view(session: Session, actor: Actor, org_slug: str) -> tuple[Organization, bool]:
    """Leads and researchers read open cases; every member reads published ones. Returns (org, may_see_open)."""
    org, membership = load_membership(session, actor, org_slug)
    allowed = explain(Role(membership.role), Action.disclosure_view, actor.scopes).allowed
    if not allowed:
        authorize(session, actor, org_slug, Action.org_view)
    return org, allowed


def _party_view(p: Party) -> PartyView:
    state = PartyState(p.state)
    return PartyView(p.id, p.stakeholder_id, p.stakeholder.name, p.stakeholder.type, p.state,
                     rules.board_column(state), p.respond_by, p.invited_at, p.state_changed_at,
                     tuple(c.email for c in p.contacts), p.access_until)


def _message_view(m: CaseMessage, names: dict[int, str]) -> MessageView:
    return MessageView(m.id, m.party_id, names.get(m.party_id or 0, ""), m.author_kind, m.author_label, m.body,
                       m.created_at, m.shared_at is not None)


def _attachments(session: Session, case: DisclosureCase) -> tuple[AttachmentView, ...]:
    rows = session.execute(select(CaseAttachment.id, CaseAttachment.filename, CaseAttachment.content_type,
                                  CaseAttachment.size, CaseAttachment.sha256)
                           .where(CaseAttachment.case_id == case.id).order_by(CaseAttachment.id)).all()
    return tuple(AttachmentView(*r) for r in rows)


def _asset_slugs(session: Session, case: DisclosureCase) -> tuple[str, ...]:
    if not case.asset_ids:
        return ()
    return tuple(session.scalars(select(Asset.slug).where(Asset.id.in_(case.asset_ids)).order_by(Asset.slug)))


def _parties(session: Session, case: DisclosureCase) -> list[Party]:
    return list(session.scalars(select(Party).where(Party.case_id == case.id).order_by(Party.id)))


def _case_view(session: Session, case: DisclosureCase, *, full: bool) -> CaseView:
    org = session.get(Organization, case.org_id)
    project = session.get(Project, case.project_id)
    assert org is not None and project is not None  # foreign keys
    base = dict(id=case.id, org_slug=org.slug, org_name=org.name, project_slug=project.slug,
                project_name=project.name, title=case.title, briefing_md=case.briefing_md,
                embargo_ends_at=case.embargo_ends_at, stage_key=case.stage_key,
                assets=_asset_slugs(session, case), status=case.status, public_summary=case.public_summary,
                created_at=case.created_at, published_at=case.published_at)
    if not full:
        return CaseView(**base)  # type: ignore[arg-type]
    parties = _parties(session, case)
    names = {p.id: p.stakeholder.name for p in parties}
    messages = session.scalars(select(CaseMessage).where(CaseMessage.case_id == case.id).order_by(CaseMessage.id))
    requests = session.scalars(select(TimeRequest).where(TimeRequest.case_id == case.id).order_by(TimeRequest.id))
    return CaseView(
        **base,  # type: ignore[arg-type]
        parties=tuple(_party_view(p) for p in parties),
        attachments=_attachments(session, case),
        messages=tuple(_message_view(m, names) for m in messages),
        time_requests=tuple(TimeRequestView(r.id, r.party_id, names.get(r.party_id, ""), r.reason, r.requested_until,
                                            r.status, r.created_at, r.decision_note) for r in requests),
        board=rules.board((p.stakeholder.name, PartyState(p.state)) for p in parties),
    )


def _base_url(rt: Runtime) -> str:
    return rt.settings.base_url.rstrip("/")


def _iso(value: datetime) -> str:
    return value.replace(tzinfo=UTC).isoformat().replace("+00:00", "Z")


# Notifications: each built from what its recipient may see -----------------------------------------

def webhook_secret(rt: Runtime, salt: str) -> str:
    """The signing secret of an endpoint, derived from the server key; never stored."""
    key = rt.settings.effective_secret_key().encode()
    return "whsec_" + hmac.new(key, f"webhook:{salt}".encode(), hashlib.sha256).hexdigest()


def _party_payload(case: DisclosureCase, org: Organization, party: Party) -> dict[str, Any]:
    return {"case": {"id": case.id, "lab": org.name, "title": case.title,
                     "embargo_ends_at": _iso(case.embargo_ends_at), "status": case.status},
            "party": {"name": party.stakeholder.name, "state": party.state, "respond_by": _iso(party.respond_by)}}


def _queue_webhooks(session: Session, rt: Runtime, org_id: int, stakeholder_id: int | None, key: str,
                    event_type: str, data: dict[str, Any]) -> None:
    """Queue an event for the lab's endpoints (``stakeholder_id`` None) or one partner's endpoints.

    Endpoints are owned by the lab that registered them, so a partner endpoint registered by
    another lab never receives this lab's events.
    """
    query = select(WebhookEndpoint).where(WebhookEndpoint.org_id == org_id, WebhookEndpoint.disabled_at.is_(None))
    query = query.where(WebhookEndpoint.stakeholder_id.is_(None) if stakeholder_id is None
                        else WebhookEndpoint.stakeholder_id == stakeholder_id)
    now = rt.clock.now()
    for endpoint in session.scalars(query):
        exists = session.scalar(select(WebhookDelivery.id).where(WebhookDelivery.endpoint_id == endpoint.id,
                                                                 WebhookDelivery.idempotency_key == key))
        if exists is not None:
            continue
        payload = {"id": key, "type": event_type, "occurred_at": _iso(now), **data}
        session.add(WebhookDelivery(endpoint_id=endpoint.id, idempotency_key=key, event_type=event_type,
                                    payload=payload, status="pending", attempts=0, next_attempt_at=now,
                                    created_at=now))
    session.flush()


def _tell_party(session: Session, rt: Runtime, case: DisclosureCase, org: Organization, party: Party, *,
                key: str, event_type: str, subject: str, body: str, extra: dict[str, Any] | None = None) -> int:
    """Email every contact of ``party`` and queue the party's webhooks; returns emails queued.

    Links are stored only as digests, so later emails point to the invitation email's link.
    """
    queued = 0
    for contact in party.contacts:
        queued += _mail_contact(session, rt, org, key=f"{key}:c{contact.id}", recipient=contact.email,
                                pgp_key=_contact_key(party, contact.email), subject=subject,
                                body=f"Hello {contact.name},\n\n{body}\n\n"
                                     "Open your private link from the invitation email to see the case.\n")
    _queue_webhooks(session, rt, org.id, party.stakeholder_id, key, event_type,
                    {**_party_payload(case, org, party), **(extra or {})})
    return queued


def _tell_lab(session: Session, rt: Runtime, case: DisclosureCase, org: Organization, *, key: str,
              event_type: str, subject: str, body: str, data: dict[str, Any]) -> None:
    # The lab side is emailed to the lead who opened the case, while they may still run it.
    creator = session.get(User, case.created_by_id)
    role = session.scalar(select(Membership.role).where(Membership.org_id == org.id,
                                                        Membership.user_id == case.created_by_id))
    if creator is not None and role in (Role.owner.value, Role.release_lead.value):
        outbox.enqueue(session, rt, key=f"{key}:lab", recipient=creator.email, subject=subject,
                       body=f"{body}\n\n{_base_url(rt)}/orgs/{org.slug}/disclosure/{case.id}\n")
    _queue_webhooks(session, rt, org.id, None, key, event_type,
                    {"case": {"id": case.id, "title": case.title, "embargo_ends_at": _iso(case.embargo_ends_at),
                              "status": case.status}, **data})


# Stakeholder registry -------------------------------------------------------------------------------

def _clean_contact(name: str, email: str, pgp_key: str = "") -> tuple[str, str, str]:
    key = rules.clean_pgp_key(pgp_key)
    if key:
        try:
            pgp.inspect(key)  # mail to this contact will be encrypted to it: it must work now, not at send time
        except pgp.PgpError as exc:
            raise InvalidInput(f"The PGP key for {email} cannot be used: {exc} Paste the contact's public key "
                               "(gpg --armor --export ADDRESS).", field="pgp_key") from None
    return (clean_text(name, "Contact name", max_length=100), clean_email(email), key)


def _mail_contact(session: Session, rt: Runtime, org: Organization, *, key: str, recipient: str, pgp_key: str,
                  subject: str, body: str) -> bool:
    """Queue mail to a disclosure contact, encrypted to their PGP key when they gave one.

    Encrypted mail gets a neutral subject (subjects travel in clear) and the body as an inline PGP message,
    so neither the case nor the private link is readable in the outbox or in transit. If encryption
    fails, nothing is queued and the lab is told: a contact who asked for encryption never gets clear text.
    """
    if pgp_key:
        try:
            body = pgp.encrypt(body, pgp_key)
        except pgp.PgpError as exc:
            raise Conflict(f"Mail to {recipient} must be PGP-encrypted, but encryption failed: {exc} Update the "
                           "contact's key in the stakeholder registry.") from None
        subject = f"Encrypted message from {org.name} (releasewise)"
    return outbox.enqueue(session, rt, key=key, recipient=recipient, subject=subject, body=body)


def _contact_key(party: Party, email: str) -> str:
    """The PGP key the stakeholder registry holds for this party contact (contacts are copied at invitation)."""
    return next((c.pgp_key for c in party.stakeholder.contacts if c.email == email and c.pgp_key), "")


def add_stakeholder(rt: Runtime, actor: Actor, org_slug: str, *, name: str, type: str,
                    interests: Sequence[str] = (), shared: bool = False, note: str = "",
                    contacts: Sequence[tuple[str, str, str]] = ()) -> StakeholderView:
    """Add a partner organisation; ``shared`` puts it in the instance-wide registry every lab can use."""
    name = clean_text(name, "Name", max_length=100)
    kind = rules.parse_type(type)
    cleaned_interests = rules.clean_interests(interests)
    note = clean_text(note, "Note", max_length=2000, required=False)
    cleaned = [_clean_contact(*c) for c in contacts]
    if len({c[1] for c in cleaned}) != len(cleaned):
        raise InvalidInput("The same contact email is listed twice.", field="contacts")
    if len(cleaned) > MAX_CONTACTS:
        raise InvalidInput(f"At most {MAX_CONTACTS} contacts per stakeholder.", field="contacts")
    with rt.write() as session:
        org, _ = authorize(session, actor, org_slug, Action.disclosure_manage)
        clash = session.scalar(select(Stakeholder.id).where(
            func.lower(Stakeholder.name) == name.lower(),
            or_(Stakeholder.org_id.is_(None), Stakeholder.org_id == org.id)))
        if clash is not None:
            raise Conflict(f"The registry already has '{name}' (#{clash}); add contacts to it instead.", field="name")
        s = Stakeholder(org_id=None if shared else org.id, owner_org_id=org.id, name=name, type=kind.value,
                        interests=cleaned_interests, note=note, created_at=rt.clock.now())
        s.contacts = [StakeholderContact(name=n, email=e, pgp_key=k) for n, e, k in cleaned]
        session.add(s)
        session.flush()
        record(session, rt, actor, org.id, "stakeholder.added", "stakeholder", s.id,
               {"name": name, "type": kind.value, "shared": shared, "contacts": [c[1] for c in cleaned]})
        return _stakeholder_view(s, org.id)


def add_contact(rt: Runtime, actor: Actor, org_slug: str, stakeholder_id: int, *, name: str, email: str,
                pgp_key: str = "") -> StakeholderView:
    n, e, k = _clean_contact(name, email, pgp_key)
    with rt.write() as session:
        org, _ = authorize(session, actor, org_slug, Action.disclosure_manage)
        s = _visible_stakeholder(session, org, stakeholder_id)
        if any(c.email == e for c in s.contacts):
            raise Conflict(f"{e} is already a contact of {s.name}.", field="email")
        if len(s.contacts) >= MAX_CONTACTS:
            raise InvalidInput(f"At most {MAX_CONTACTS} contacts per stakeholder.", field="email")
        s.contacts.append(StakeholderContact(name=n, email=e, pgp_key=k))
        session.flush()
        record(session, rt, actor, org.id, "stakeholder.contact_added", "stakeholder", s.id, {"email": e})
        return _stakeholder_view(s, org.id)


def list_stakeholders(rt: Runtime, actor: Actor, org_slug: str) -> list[StakeholderView]:
    with rt.read() as session:
        org, _ = authorize(session, actor, org_slug, Action.disclosure_view)
        rows = session.scalars(select(Stakeholder).where(or_(Stakeholder.org_id.is_(None),
                                                             Stakeholder.org_id == org.id))
                               .order_by(Stakeholder.name)).all()
        return [_stakeholder_view(s, org.id) for s in rows]


# Cases ---------------------------------------------------------------------------------------------------

def open_case(rt: Runtime, actor: Actor, org_slug: str, project_slug: str, *, title: str, briefing_md: str,
              embargo_ends_at: datetime, stage_key: str | None = None, assets: Sequence[str] = ()) -> CaseView:
    """Open a case. ``embargo_ends_at`` must carry a timezone (an exact instant) and lie in the future."""
    title = clean_text(title, "Title", max_length=200)
    briefing_md = clean_text(briefing_md, "Briefing", max_length=100_000)
    ends = rules.to_naive_utc(embargo_ends_at, "embargo_ends_at")
    rules.check_embargo_end(ends, rt.clock.now())
    stage = clean_text(stage_key, "Stage", max_length=60, required=False) or None
    with rt.write() as session:
        org, _ = authorize(session, actor, org_slug, Action.disclosure_manage)
        project = load_project(session, org, project_slug)
        asset_ids = []
        for slug in sorted({a.strip().lower() for a in assets if a and a.strip()}):
            asset_id = session.scalar(select(Asset.id).where(Asset.project_id == project.id, Asset.slug == slug))
            if asset_id is None:
                raise InvalidInput(f"{project.name} has no asset '{slug}'.", field="assets")
            asset_ids.append(asset_id)
        case = DisclosureCase(org_id=org.id, project_id=project.id, title=title, briefing_md=briefing_md,
                              embargo_ends_at=ends, stage_key=stage, asset_ids=asset_ids, status="open",
                              public_summary="", created_by_id=actor.user_id, created_at=rt.clock.now())
        session.add(case)
        session.flush()
        record(session, rt, actor, org.id, "disclosure.opened", "disclosure_case", case.id,
               {"project": project.slug, "embargo_ends_at": _iso(ends), "stage": stage, "assets": len(asset_ids)})
        return _case_view(session, case, full=True)


def list_cases(rt: Runtime, actor: Actor, org_slug: str) -> list[CaseView]:
    with rt.read() as session:
        org, may_see_open = _authorize_case_view(session, actor, org_slug)
        query = select(DisclosureCase).where(DisclosureCase.org_id == org.id)
        if not may_see_open:
            query = query.where(DisclosureCase.status == "published")
        return [_case_view(session, c, full=False) for c in session.scalars(query.order_by(DisclosureCase.id.desc()))]


def get_case(rt: Runtime, actor: Actor, org_slug: str, case_id: int) -> CaseView:
    """Leads and researchers see open cases; after publication every member does."""
    with rt.read() as session:
        org, may_see_open = _authorize_case_view(session, actor, org_slug)
        case = _load_case(session, org, case_id)
        if case.status != "published" and not may_see_open:
            raise NotFound(f"No disclosure case #{case_id} in {org.name}.")
        return _case_view(session, case, full=True)


def add_attachment(rt: Runtime, actor: Actor, org_slug: str, case_id: int, *, filename: str, content_type: str,
                   data: bytes) -> AttachmentView:
    filename = clean_text(filename, "File name", max_length=200).replace("/", "_").replace("\\", "_")
    content_type = clean_text(content_type or "application/octet-stream", "Content type", max_length=100)
    if not data:
        raise InvalidInput("The attachment is empty.", field="file")
    if len(data) > rt.settings.disclosure_max_attachment_bytes:
        raise InvalidInput(f"Attachments are limited to {rt.settings.disclosure_max_attachment_bytes} bytes; "
                           "share large artifacts as assets through gated access.", field="file")
    with rt.write() as session:
        org, _ = authorize(session, actor, org_slug, Action.disclosure_manage)
        case = _load_case(session, org, case_id)
        row = CaseAttachment(case_id=case.id, filename=filename, content_type=content_type, size=len(data),
                             sha256=hashlib.sha256(data).hexdigest(), data=data, created_at=rt.clock.now())
        session.add(row)
        session.flush()
        record(session, rt, actor, org.id, "disclosure.attachment_added", "disclosure_case", case.id,
               {"file": filename, "size": len(data), "sha256": row.sha256})
        return AttachmentView(row.id, row.filename, row.content_type, row.size, row.sha256)


def get_attachment(rt: Runtime, actor: Actor, org_slug: str, case_id: int,
                   attachment_id: int) -> tuple[AttachmentView, bytes]:
    with rt.read() as session:
        org, may_see_open = _authorize_case_view(session, actor, org_slug)
        case = _load_case(session, org, case_id)
        if case.status != "published" and not may_see_open:
            raise NotFound(f"No disclosure case #{case_id} in {org.name}.")
        return _attachment(session, case, attachment_id)


def _attachment(session: Session, case: DisclosureCase, attachment_id: int) -> tuple[AttachmentView, bytes]:
    row = session.get(CaseAttachment, attachment_id)
    if row is None or row.case_id != case.id:
        raise NotFound(f"No attachment #{attachment_id} in this case.")
    return AttachmentView(row.id, row.filename, row.content_type, row.size, row.sha256), row.data


def invite(rt: Runtime, actor: Actor, org_slug: str, case_id: int, *, stakeholder_id: int,
           respond_by: datetime) -> tuple[PartyView, list[tuple[str, str]]]:
    """Invite a stakeholder: each of its contacts is emailed a private link.

    Returns the party and (email, link) pairs; the links are stored only as digests.
    """
    deadline = rules.to_naive_utc(respond_by, "respond_by")
    now = rt.clock.now()
    with rt.write() as session:
        org, _ = authorize(session, actor, org_slug, Action.disclosure_manage)
        case = _load_case(session, org, case_id)
        if case.status != "open":
            raise Conflict("This case is published; there is no embargo left to invite parties to.")
        rules.check_respond_by(deadline, now, case.embargo_ends_at)
        s = _visible_stakeholder(session, org, stakeholder_id)
        if not s.contacts:
            raise InvalidInput(f"{s.name} has no contacts; add a contact with an email address first.",
                               field="stakeholder_id")
        for c in s.contacts:  # entries made before validation tightened are re-checked at the door
            clean_email(c.email)
        if session.scalar(select(Party.id).where(Party.case_id == case.id, Party.stakeholder_id == s.id)):
            raise Conflict(f"{s.name} is already invited to this case.", field="stakeholder_id")
        party = Party(case_id=case.id, stakeholder_id=s.id, state=PartyState.invited.value, respond_by=deadline,
                      invited_at=now, state_changed_at=now)
        session.add(party)
        session.flush()
        links = []
        project = session.get(Project, case.project_id)
        for c in s.contacts:
            raw = new_secret()
            session.add(PartyContact(party_id=party.id, name=c.name, email=c.email, token_digest=digest(raw),
                                     created_at=now))
            link = f"{_base_url(rt)}{PARTY_LINK_PATH}{raw}"
            links.append((c.email, link))
            _mail_contact(
                session, rt, org, key=f"disclosure-invite:{party.id}:{c.email}", recipient=c.email,
                pgp_key=c.pgp_key, subject=f"Embargoed briefing from {org.name}: please respond by {deadline:%Y-%m-%d %H:%M} UTC",
                body=(f"Hello {c.name},\n\n{org.name} invites {s.name} to a coordinated disclosure under embargo:\n"
                      f"\"{case.title}\" ({project.name if project else ''}).\n\n"
                      f"The embargo ends {case.embargo_ends_at:%Y-%m-%d %H:%M} UTC. Please accept or decline by "
                      f"{deadline:%Y-%m-%d %H:%M} UTC. The briefing is shown after you accept the embargo.\n\n"
                      f"Your private link (it acts for {s.name}; do not forward it):\n{link}\n"))
        session.flush()
        session.refresh(party, ["contacts", "stakeholder"])
        _queue_webhooks(session, rt, org.id, s.id, f"disclosure.invited:{party.id}", "disclosure.invited",
                        _party_payload(case, org, party))
        _queue_webhooks(session, rt, org.id, None, f"disclosure.invited:{party.id}", "disclosure.party_invited",
                        {"case": {"id": case.id, "title": case.title}, "party": {"name": s.name,
                                                                                  "respond_by": _iso(deadline)}})
        record(session, rt, actor, org.id, "disclosure.invited", "disclosure_case", case.id,
               {"party": party.id, "stakeholder": s.name, "contacts": [c.email for c in s.contacts],
                "respond_by": _iso(deadline)})
        return _party_view(party), links


def _load_party(session: Session, case: DisclosureCase, party_id: int) -> Party:
    party = session.get(Party, party_id)
    if party is None or party.case_id != case.id:
        raise NotFound(f"No party #{party_id} in this case.")
    return party


def lab_message(rt: Runtime, actor: Actor, org_slug: str, case_id: int, *, party_id: int, body: str) -> MessageView:
    """Write in one party's private thread; only that party is told."""
    body = clean_text(body, "Message", max_length=20000)
    with rt.write() as session:
        org, _ = authorize(session, actor, org_slug, Action.disclosure_manage)
        case = _load_case(session, org, case_id)
        party = _load_party(session, case, party_id)
        msg = CaseMessage(case_id=case.id, party_id=party.id, author_kind="lab", author_label=f"{org.name}",
                          body=body, created_at=rt.clock.now(), shared_at=None)
        session.add(msg)
        session.flush()
        record(session, rt, actor, org.id, "disclosure.message_posted", "disclosure_case", case.id,
               {"party": party.id, "message": msg.id})
        if rules.may_read_briefing(PartyState(party.state)) or case.status == "published":
            _tell_party(session, rt, case, org, party, key=f"disclosure.message:{msg.id}",
                        event_type="disclosure.message", subject=f"New message from {org.name}: {case.title}",
                        body=f"{org.name} wrote:\n\n{body}", extra={"message": {"id": msg.id, "body": body}})
        return _message_view(msg, {party.id: party.stakeholder.name})


def share_message(rt: Runtime, actor: Actor, org_slug: str, case_id: int, message_id: int) -> MessageView:
    """Share a message from a private thread with every party that may read the briefing."""
    with rt.write() as session:
        org, _ = authorize(session, actor, org_slug, Action.disclosure_manage)
        case = _load_case(session, org, case_id)
        msg = session.get(CaseMessage, message_id)
        if msg is None or msg.case_id != case.id:
            raise NotFound(f"No message #{message_id} in this case.")
        if msg.shared_at is not None:
            raise Conflict("This message is already shared with all parties.")
        msg.shared_at = rt.clock.now()
        record(session, rt, actor, org.id, "disclosure.message_shared", "disclosure_case", case.id,
               {"message": msg.id})
        for party in _parties(session, case):
            if party.id != msg.party_id and rules.may_read_briefing(PartyState(party.state)):
                _tell_party(session, rt, case, org, party, key=f"disclosure.shared:{msg.id}:{party.id}",
                            event_type="disclosure.message", subject=f"Update shared with all parties: {case.title}",
                            body=f"{org.name} shared this with all parties:\n\n{msg.body}",
                            extra={"message": {"id": msg.id, "body": msg.body}})
        names = {p.id: p.stakeholder.name for p in _parties(session, case)}
        return _message_view(msg, names)


def _extend(session: Session, rt: Runtime, actor: Actor, org: Organization, case: DisclosureCase,
            new_end: datetime, reason: str) -> None:
    rules.check_extension(case.embargo_ends_at, new_end, rt.clock.now())
    old = case.embargo_ends_at
    case.embargo_ends_at = new_end
    record(session, rt, actor, org.id, "disclosure.extended", "disclosure_case", case.id,
           {"from": _iso(old), "to": _iso(new_end), "reason": reason})
    key = f"disclosure.extended:{case.id}:{_iso(new_end)}"
    for party in _parties(session, case):
        if PartyState(party.state) is not PartyState.declined:
            _tell_party(session, rt, case, org, party, key=f"{key}:{party.id}", event_type="disclosure.extended",
                        subject=f"Embargo extended to {new_end:%Y-%m-%d %H:%M} UTC: {case.title}",
                        body=f"{org.name} extended the embargo from {old:%Y-%m-%d %H:%M} UTC to "
                             f"{new_end:%Y-%m-%d %H:%M} UTC.\nReason: {reason}")
    _tell_lab(session, rt, case, org, key=key, event_type="disclosure.extended",
              subject=f"Embargo extended: {case.title}", body=f"Embargo now ends {new_end:%Y-%m-%d %H:%M} UTC.",
              data={"from": _iso(old), "to": _iso(new_end)})


def extend_embargo(rt: Runtime, actor: Actor, org_slug: str, case_id: int, *, new_end: datetime,
                   reason: str) -> CaseView:
    """Move the embargo end later; every party that has not declined is told."""
    end = rules.to_naive_utc(new_end, "new_end")
    reason = clean_text(reason, "Reason", max_length=5000)
    with rt.write() as session:
        org, _ = authorize(session, actor, org_slug, Action.disclosure_manage)
        case = _load_case(session, org, case_id)
        if case.status != "open":
            raise Conflict("This case is already published; its embargo cannot be extended.")
        _extend(session, rt, actor, org, case, end, reason)
        return _case_view(session, case, full=True)


def decide_time_request(rt: Runtime, actor: Actor, org_slug: str, case_id: int, request_id: int, *,
                        extend: bool, note: str = "", new_end: datetime | None = None) -> CaseView:
    """Extend the embargo (to the requested instant unless ``new_end`` is given) or keep it."""
    note = clean_text(note, "Note", max_length=5000, required=not extend)
    end = rules.to_naive_utc(new_end, "new_end") if new_end is not None else None
    with rt.write() as session:
        org, _ = authorize(session, actor, org_slug, Action.disclosure_manage)
        case = _load_case(session, org, case_id)
        req = session.get(TimeRequest, request_id)
        if req is None or req.case_id != case.id:
            raise NotFound(f"No request for more time #{request_id} in this case.")
        if req.status != "pending":
            raise Conflict(f"This request was already answered ({req.status}).")
        if case.status != "open":
            raise Conflict("This case is already published.")
        party = _load_party(session, case, req.party_id)
        req.decided_at, req.decision_note = rt.clock.now(), note
        if extend:
            req.status = "extended"
            _extend(session, rt, actor, org, case, end or req.requested_until, note or f"Requested by {party.stakeholder.name}")
        else:
            req.status = "kept"
            record(session, rt, actor, org.id, "disclosure.time_request_declined", "disclosure_case", case.id,
                   {"request": req.id, "note": note})
            _tell_party(session, rt, case, org, party, key=f"disclosure.time_kept:{req.id}",
                        event_type="disclosure.time_request_answered",
                        subject=f"Embargo kept at {case.embargo_ends_at:%Y-%m-%d %H:%M} UTC: {case.title}",
                        body=f"{org.name} keeps the embargo end at {case.embargo_ends_at:%Y-%m-%d %H:%M} UTC.\n{note}")
        return _case_view(session, case, full=True)


def _publish(session: Session, rt: Runtime, actor: Actor | None, org: Organization, case: DisclosureCase,
             summary: str) -> None:
    now = rt.clock.now()
    case.status, case.published_at = "published", now
    if summary:
        case.public_summary = summary
    record(session, rt, actor, org.id, "disclosure.published", "disclosure_case", case.id,
           {"automatic": actor is None, "embargo_ends_at": _iso(case.embargo_ends_at),
            "assets": _asset_slugs(session, case)})
    for party in _parties(session, case):
        _tell_party(session, rt, case, org, party, key=f"disclosure.published:{case.id}:{party.id}",
                    event_type="disclosure.published", subject=f"Embargo lifted: {case.title}",
                    body=f"The embargo on \"{case.title}\" by {org.name} has lifted; the work is now public."
                         + (f"\n\nPublic summary:\n{case.public_summary}" if case.public_summary else ""))
    _tell_lab(session, rt, case, org, key=f"disclosure.published:{case.id}", event_type="disclosure.published",
              subject=f"Published: {case.title}", body="The embargo lifted and the case is published.",
              data={"public_summary": case.public_summary})


def publish(rt: Runtime, actor: Actor, org_slug: str, case_id: int, *, public_summary: str = "") -> CaseView:
    """Lift the embargo now (it also lifts by itself at the embargo end)."""
    summary = clean_text(public_summary, "Public summary", max_length=20000, required=False)
    with rt.write() as session:
        org, _ = authorize(session, actor, org_slug, Action.disclosure_manage)
        case = _load_case(session, org, case_id)
        if case.status == "published":
            raise Conflict("This case is already published.")
        _publish(session, rt, actor, org, case, summary)
        return _case_view(session, case, full=True)


def set_public_summary(rt: Runtime, actor: Actor, org_slug: str, case_id: int, *, public_summary: str) -> CaseView:
    summary = clean_text(public_summary, "Public summary", max_length=20000)
    with rt.write() as session:
        org, _ = authorize(session, actor, org_slug, Action.disclosure_manage)
        case = _load_case(session, org, case_id)
        case.public_summary = summary
        record(session, rt, actor, org.id, "disclosure.summary_set", "disclosure_case", case.id,
               {"published": case.status == "published"})
        return _case_view(session, case, full=True)


def public_summaries(rt: Runtime, org_slug: str, project_slug: str) -> list[PublicSummaryView]:
    """Published cases with a public summary, for anyone (no sign-in); open cases never appear."""
    with rt.read() as session:
        rows = session.execute(
            select(DisclosureCase, Organization, Project)
            .join(Organization, Organization.id == DisclosureCase.org_id)
            .join(Project, Project.id == DisclosureCase.project_id)
            .where(Organization.slug == org_slug.lower(), Project.slug == project_slug.lower(),
                   DisclosureCase.status == "published", DisclosureCase.public_summary != "")
            .order_by(DisclosureCase.published_at.desc())).all()
        return [PublicSummaryView(c.id, o.name, p.name, c.title, c.public_summary, c.published_at or c.created_at)
                for c, o, p in rows]


# The party side (through the secret link) -------------------------------------------------------------

def _resolve(session: Session, raw: str) -> tuple[PartyContact, Party, DisclosureCase, Organization]:
    contact = session.scalar(select(PartyContact).where(PartyContact.token_digest == digest(raw or "")))
    if contact is None:
        raise NotFound("This disclosure link is not valid. Use the link from your latest invitation email, "
                       "or ask the lab to invite you again.")
    party = session.get(Party, contact.party_id)
    assert party is not None
    case = session.get(DisclosureCase, party.case_id)
    assert case is not None
    org = session.get(Organization, case.org_id)
    assert org is not None
    return contact, party, case, org


def _party_case_view(session: Session, contact: PartyContact, party: Party, case: DisclosureCase,
                     org: Organization) -> PartyCaseView:
    state = PartyState(party.state)
    briefed = rules.may_read_briefing(state) or case.status == "published"
    project = session.get(Project, case.project_id)
    name = party.stakeholder.name
    messages: list[MessageView] = []
    if briefed:
        rows = session.scalars(select(CaseMessage).where(
            CaseMessage.case_id == case.id,
            or_(CaseMessage.party_id == party.id, CaseMessage.shared_at.is_not(None))).order_by(CaseMessage.id))
        for m in rows:
            # A shared message from another party's thread is shown without that party's name.
            own = m.party_id == party.id
            label = m.author_label if (own or m.author_kind == "lab") else "Another party"
            messages.append(MessageView(m.id, party.id if own else None, name if own else "", m.author_kind, label,
                                        m.body, m.created_at, m.shared_at is not None))
    requests = session.scalars(select(TimeRequest).where(TimeRequest.party_id == party.id).order_by(TimeRequest.id))
    open_case_ = case.status == "open"
    choices = tuple(s.value for s in PartyState if s in rules.TRANSITIONS[state] and s in rules.PARTY_CHOSEN) \
        if open_case_ else ()
    return PartyCaseView(
        case.id, party.id, name, contact.name, org.name, project.name if project else "", case.title,
        case.embargo_ends_at, case.status, party.state, party.respond_by, briefed,
        case.briefing_md if briefed else None, _asset_slugs(session, case) if briefed else (),
        _attachments(session, case) if briefed else (), tuple(messages),
        tuple(TimeRequestView(r.id, r.party_id, name, r.reason, r.requested_until, r.status, r.created_at,
                              r.decision_note) for r in requests),
        choices)


def party_view(rt: Runtime, raw: str) -> PartyCaseView:
    with rt.read() as session:
        return _party_case_view(session, *_resolve(session, raw))


def party_attachment(rt: Runtime, raw: str, attachment_id: int) -> tuple[AttachmentView, bytes]:
    with rt.read() as session:
        _, party, case, _ = _resolve(session, raw)
        if not (rules.may_read_briefing(PartyState(party.state)) or case.status == "published"):
            raise NotFound("Accept the embargo to see the briefing and its attachments.")
        return _attachment(session, case, attachment_id)


@dataclass(frozen=True)
class PartyFile:
    """A file of an asset shared with a party under the embargo."""

    asset: str
    version: int
    path: str
    size: int
    sha256: str


def _shared_files(session: Session, case: DisclosureCase, party: Party,
                  now: datetime) -> list[tuple[PartyFile, int, int]]:
    """The latest complete version's files of each named asset, while the party may have them.

    This is the case's temporary trusted-partner access: it starts when the party accepts the embargo and
    ends when the case is published — unless the lab converted it into a grant (``grant_party_access``),
    which lasts until ``access_until``.
    """
    briefed = rules.may_read_briefing(PartyState(party.state))
    granted = party.access_until is not None and now < party.access_until
    if not briefed or not case.asset_ids or not (case.status == "open" or granted):
        return []
    files: list[tuple[PartyFile, int, int]] = []
    for asset in session.scalars(select(Asset).where(Asset.id.in_(case.asset_ids)).order_by(Asset.slug)):
        version = session.scalars(select(AssetVersion).where(AssetVersion.asset_id == asset.id,
                                                             AssetVersion.status == "complete")
                                  .order_by(AssetVersion.number.desc())).first()
        if version is None:
            continue
        for f in session.scalars(select(VersionFile).where(VersionFile.version_id == version.id)
                                 .order_by(VersionFile.path)):
            files.append((PartyFile(asset.slug, version.number, f.path, f.size, f.sha256), asset.id, version.id))
    return files


def party_files(rt: Runtime, raw: str) -> list[PartyFile]:
    with rt.read() as session:
        _, party, case, _ = _resolve(session, raw)
        return [f for f, _, _ in _shared_files(session, case, party, rt.clock.now())]


def party_file(rt: Runtime, raw: str, asset_slug: str, path: str) -> tuple[PartyFile, Path]:
    """One shared file for download; logged in the lab's download log and audited."""
    with rt.write() as session:
        contact, party, case, org = _resolve(session, raw)
        match = next(((f, asset_id, version_id) for f, asset_id, version_id in _shared_files(session, case, party,
                                                                                         rt.clock.now())
                      if f.asset == asset_slug and f.path == path), None)
        if match is None:
            raise NotFound("No such file is shared with you under this embargo (it may have ended). "
                           "Ask the lab for access.")
        shared, asset_id, version_id = match
        label = f"party:{party.stakeholder.name}"[:32]
        session.add(DownloadEvent(org_id=org.id, asset_id=asset_id, version_id=version_id, user_id=None,
                                  username=label, grant_id=None, basis="disclosure", path=shared.path,
                                  bytes=shared.size, range_start=0, via="disclosure", ip="", at=rt.clock.now()))
        record(session, rt, None, org.id, "disclosure.party_downloaded", "disclosure_case", case.id,
               {"party": party.stakeholder.name, "contact": contact.email, "asset": shared.asset,
                "version": shared.version, "path": shared.path})
        return shared, blobs(rt).path(shared.sha256)


def grant_party_access(rt: Runtime, actor: Actor, org_slug: str, case_id: int, party_id: int, *,
                       until: datetime) -> PartyView:
    """Convert a party's temporary access to the case's assets into a grant that lasts until ``until``.

    Without it, access ends when the case is published. ``until`` in the past ends a grant early.
    """
    end = rules.to_naive_utc(until, "until")
    with rt.write() as session:
        org, _ = authorize(session, actor, org_slug, Action.disclosure_manage)
        case = _load_case(session, org, case_id)
        party = _load_party(session, case, party_id)
        if not rules.may_read_briefing(PartyState(party.state)):
            raise Conflict("This party has not accepted the embargo; it has no access to convert.")
        if not case.asset_ids:
            raise Conflict("This case names no assets to share.")
        before = party.access_until
        party.access_until = end
        record(session, rt, actor, org.id, "disclosure.party_access_granted", "disclosure_party", party.id,
               {"case": case.id, "party": party.stakeholder.name, "before": str(before or "case duration"),
                "until": end.isoformat()})
        return _party_view(party)


def party_set_state(rt: Runtime, raw: str, state: str) -> PartyCaseView:
    """The party answers (accepted / declined) or reports its review (reviewing / ready / ...)."""
    new = rules.parse_state(state)
    if new not in rules.PARTY_CHOSEN:
        raise InvalidInput(f"A party cannot set itself to '{new.value}'.", field="state")
    with rt.write() as session:
        contact, party, case, org = _resolve(session, raw)
        if case.status != "open":
            raise Conflict("The embargo has lifted; this case is closed.")
        old = PartyState(party.state)
        rules.transition(old, new)
        party.state, party.state_changed_at = new.value, rt.clock.now()
        label = f"{contact.name} ({party.stakeholder.name})"
        append_event(session, rt.clock.now(), org_id=org.id, actor_user_id=None, actor_label=label[:100],
                     action="disclosure.party_state", target_type="disclosure_party", target_id=party.id,
                     summary={"case": case.id, "from": old.value, "to": new.value, "contact": contact.email})
        _tell_lab(session, rt, case, org, key=f"disclosure.state:{party.id}:{new.value}:{_iso(rt.clock.now())}",
                  event_type="disclosure.party_state", subject=f"{party.stakeholder.name} is now {new.value}: {case.title}",
                  body=f"{label} changed {party.stakeholder.name}'s state from {old.value} to {new.value}.",
                  data={"party": {"name": party.stakeholder.name, "from": old.value, "to": new.value}})
        _queue_webhooks(session, rt, org.id, party.stakeholder_id,
                        f"disclosure.state:{party.id}:{new.value}:{_iso(rt.clock.now())}", "disclosure.party_state",
                        _party_payload(case, org, party))
        return _party_case_view(session, contact, party, case, org)


def party_message(rt: Runtime, raw: str, body: str) -> PartyCaseView:
    body = clean_text(body, "Message", max_length=20000)
    with rt.write() as session:
        contact, party, case, org = _resolve(session, raw)
        if not rules.may_read_briefing(PartyState(party.state)):
            raise Conflict("Accept the embargo before writing to the lab.")
        label = f"{contact.name} ({party.stakeholder.name})"
        msg = CaseMessage(case_id=case.id, party_id=party.id, author_kind="party", author_label=label[:200],
                          body=body, created_at=rt.clock.now(), shared_at=None)
        session.add(msg)
        session.flush()
        append_event(session, rt.clock.now(), org_id=org.id, actor_user_id=None, actor_label=label[:100],
                     action="disclosure.party_message", target_type="disclosure_party", target_id=party.id,
                     summary={"case": case.id, "message": msg.id})
        _tell_lab(session, rt, case, org, key=f"disclosure.party_message:{msg.id}", event_type="disclosure.message",
                  subject=f"Message from {party.stakeholder.name}: {case.title}", body=f"{label} wrote:\n\n{body}",
                  data={"party": {"name": party.stakeholder.name}, "message": {"id": msg.id, "body": body}})
        return _party_case_view(session, contact, party, case, org)


def party_request_time(rt: Runtime, raw: str, *, reason: str, until: datetime) -> PartyCaseView:
    reason = clean_text(reason, "Reason", max_length=5000)
    wanted = rules.to_naive_utc(until, "until")
    with rt.write() as session:
        contact, party, case, org = _resolve(session, raw)
        if case.status != "open":
            raise Conflict("The embargo has lifted; this case is closed.")
        if not rules.may_read_briefing(PartyState(party.state)):
            raise Conflict("Accept the embargo before asking for more time.")
        rules.check_extension(case.embargo_ends_at, wanted, rt.clock.now())
        if session.scalar(select(TimeRequest.id).where(TimeRequest.party_id == party.id,
                                                       TimeRequest.status == "pending")):
            raise Conflict("Your earlier request for more time is still waiting for the lab's answer.")
        req = TimeRequest(case_id=case.id, party_id=party.id, reason=reason, requested_until=wanted,
                          status="pending", created_at=rt.clock.now())
        session.add(req)
        session.flush()
        label = f"{contact.name} ({party.stakeholder.name})"
        append_event(session, rt.clock.now(), org_id=org.id, actor_user_id=None, actor_label=label[:100],
                     action="disclosure.time_requested", target_type="disclosure_party", target_id=party.id,
                     summary={"case": case.id, "until": _iso(wanted), "reason": reason})
        _tell_lab(session, rt, case, org, key=f"disclosure.time_requested:{req.id}",
                  event_type="disclosure.time_requested", subject=f"{party.stakeholder.name} asks for more time",
                  body=f"{label} asks to extend the embargo to {wanted:%Y-%m-%d %H:%M} UTC.\nReason: {reason}",
                  data={"party": {"name": party.stakeholder.name}, "until": _iso(wanted), "reason": reason})
        return _party_case_view(session, contact, party, case, org)


# Queries for other capabilities -----------------------------------------------------------------------------

def acknowledged_count(session: Session, project_id: int, stage_key: str | None) -> int:
    """Parties that acknowledged (accepted, reviewing, ready) across the project's cases (of one stage)."""
    query = (select(func.count(Party.id)).join(DisclosureCase, DisclosureCase.id == Party.case_id)
             .where(DisclosureCase.project_id == project_id,
                    Party.state.in_([s.value for s in rules.ACKNOWLEDGED])))
    if stage_key is not None:
        query = query.where(DisclosureCase.stage_key == stage_key)
    return int(session.scalar(query) or 0)


# Webhooks -----------------------------------------------------------------------------------------------

def add_webhook(rt: Runtime, actor: Actor, org_slug: str, *, url: str,
                stakeholder_id: int | None = None) -> tuple[WebhookView, str]:
    """Register an endpoint for the lab (all of its case events) or for one partner (only what it may see).

    Returns the signing secret, shown once; it is derived from the server key and never stored.
    """
    url = rules.clean_webhook_url(url)
    with rt.write() as session:
        org, _ = authorize(session, actor, org_slug, Action.webhook_manage)
        name = None
        if stakeholder_id is not None:
            name = _visible_stakeholder(session, org, stakeholder_id).name
        salt = secrets.token_hex(16)
        endpoint = WebhookEndpoint(org_id=org.id, stakeholder_id=stakeholder_id, url=url, secret_salt=salt,
                                   created_at=rt.clock.now(), disabled_at=None)
        session.add(endpoint)
        session.flush()
        record(session, rt, actor, org.id, "webhook.added", "webhook", endpoint.id,
               {"url": url, "stakeholder": name})
        return WebhookView(endpoint.id, url, name, endpoint.created_at, False), webhook_secret(rt, salt)


def disable_webhook(rt: Runtime, actor: Actor, org_slug: str, endpoint_id: int) -> WebhookView:
    with rt.write() as session:
        org, _ = authorize(session, actor, org_slug, Action.webhook_manage)
        endpoint = session.get(WebhookEndpoint, endpoint_id)
        if endpoint is None or endpoint.org_id != org.id:
            raise NotFound(f"No webhook #{endpoint_id} in {org.name}.")
        if endpoint.disabled_at is not None:
            raise Conflict("This webhook is already disabled.")
        endpoint.disabled_at = rt.clock.now()
        record(session, rt, actor, org.id, "webhook.disabled", "webhook", endpoint.id, {"url": endpoint.url})
        return _webhook_view(session, endpoint)


def _webhook_view(session: Session, e: WebhookEndpoint) -> WebhookView:
    name = session.get(Stakeholder, e.stakeholder_id).name if e.stakeholder_id else None  # type: ignore[union-attr]
    return WebhookView(e.id, e.url, name, e.created_at, e.disabled_at is not None)


def list_webhooks(rt: Runtime, actor: Actor, org_slug: str) -> list[WebhookView]:
    with rt.read() as session:
        org, _ = authorize(session, actor, org_slug, Action.webhook_manage)
        rows = session.scalars(select(WebhookEndpoint).where(WebhookEndpoint.org_id == org.id)
                               .order_by(WebhookEndpoint.id)).all()
        return [_webhook_view(session, e) for e in rows]


def list_deliveries(rt: Runtime, actor: Actor, org_slug: str, *, limit: int = 200) -> list[DeliveryView]:
    with rt.read() as session:
        org, _ = authorize(session, actor, org_slug, Action.webhook_manage)
        rows = session.execute(select(WebhookDelivery, WebhookEndpoint.url)
                               .join(WebhookEndpoint, WebhookEndpoint.id == WebhookDelivery.endpoint_id)
                               .where(WebhookEndpoint.org_id == org.id)
                               .order_by(WebhookDelivery.id.desc()).limit(max(1, min(limit, 1000)))).all()
        return [DeliveryView(d.id, d.endpoint_id, url, d.event_type, d.idempotency_key, d.status, d.attempts,
                             d.last_status_code, d.last_error, d.created_at, d.delivered_at, d.next_attempt_at)
                for d, url in rows]


LEASE_MINUTES = 5
SEND_WORKERS = 8


def deliver_webhooks(rt: Runtime, *, sender: WebhookSender | None = None, limit: int = 50) -> int:
    """Send due deliveries; returns how many were delivered.

    Rows are claimed in a short transaction (pushed ahead by a lease so another process skips
    them), sent with no transaction open — a slow or dead endpoint holds no lock — and the
    outcome is written in a second transaction: delivered, retried with backoff, or failed.
    """
    sender = sender or HttpWebhookSender(rt.settings.webhook_timeout_seconds)
    now = rt.clock.now()
    with rt.write() as session:
        query = (select(WebhookDelivery, WebhookEndpoint)
                 .join(WebhookEndpoint, WebhookEndpoint.id == WebhookDelivery.endpoint_id)
                 .where(WebhookDelivery.status == "pending", WebhookDelivery.next_attempt_at <= now)
                 .order_by(WebhookDelivery.id).limit(limit))
        if rt.db.is_postgresql:
            query = query.with_for_update(skip_locked=True, of=WebhookDelivery)
        claimed = []
        for delivery, endpoint in session.execute(query).all():
            delivery.next_attempt_at = now + timedelta(minutes=LEASE_MINUTES)
            claimed.append((delivery.id, endpoint.url, endpoint.secret_salt, delivery.idempotency_key,
                            delivery.event_type, dict(delivery.payload)))
    timestamp = int(now.replace(tzinfo=UTC).timestamp())

    def send(item: tuple[int, str, str, str, str, dict[str, Any]]) -> tuple[int, WebhookResult]:
        delivery_id, url, salt, key, event_type, payload = item
        body = json.dumps(payload, sort_keys=True, separators=(",", ":")).encode()
        headers = {rules.SIGNATURE_HEADER: rules.sign(webhook_secret(rt, salt), timestamp, body),
                   "Idempotency-Key": key, "X-Releasewise-Event": event_type}
        return delivery_id, sender.post(url, body, headers)

    # In parallel, so a few slow endpoints cost one timeout per pass, not one per delivery.
    with ThreadPoolExecutor(max_workers=SEND_WORKERS) as pool:
        results = list(pool.map(send, claimed))
    delivered = 0
    with rt.write() as session:
        for delivery_id, result in results:
            row = session.get(WebhookDelivery, delivery_id)
            if row is None:
                continue
            row.attempts += 1
            row.last_status_code, row.last_error = result.status_code, result.error
            if result.ok:
                row.status, row.delivered_at = "delivered", now
                delivered += 1
            elif row.attempts >= rt.settings.webhook_max_attempts:
                row.status = "failed"
            else:
                row.next_attempt_at = now + rules.retry_delay(row.attempts)
    return delivered


# Time-based effects ------------------------------------------------------------------------------------------

def _stage_opened(session: Session, case: DisclosureCase) -> bool:
    """Has the release-plan stage this case is tied to opened? (Its opening lifts the embargo.)"""
    if not case.stage_key:
        return False
    opened = session.scalar(select(PlanStage.opened_at).join(ReleasePlan, ReleasePlan.id == PlanStage.plan_id)
                            .where(ReleasePlan.project_id == case.project_id, PlanStage.key == case.stage_key))
    return opened is not None


def reconcile(rt: Runtime, *, sender: WebhookSender | None = None) -> int:
    """Deadlines → no_response, reminders, publication at lift (or when the tied plan stage opened),
    then webhook delivery. Idempotent.

    Returns how many changes or messages it produced.
    """
    now = rt.clock.now()
    produced = 0
    with rt.write() as session:
        query = select(DisclosureCase).where(DisclosureCase.status == "open").order_by(DisclosureCase.id)
        if rt.db.is_postgresql:
            query = query.with_for_update(skip_locked=True)
        for case in session.scalars(query).all():
            org = session.get(Organization, case.org_id)
            assert org is not None
            if case.embargo_ends_at <= now or _stage_opened(session, case):
                _publish(session, rt, None, org, case, "")
                produced += 1
                continue
            for party in _parties(session, case):
                state = PartyState(party.state)
                if state is PartyState.invited and party.respond_by <= now:
                    party.state, party.state_changed_at = PartyState.no_response.value, now
                    record(session, rt, None, org.id, "disclosure.no_response", "disclosure_party", party.id,
                           {"case": case.id, "respond_by": _iso(party.respond_by)})
                    _tell_party(session, rt, case, org, party, key=f"disclosure.no_response:{party.id}",
                                event_type="disclosure.no_response",
                                subject=f"No response recorded: {case.title}",
                                body=f"{party.stakeholder.name} did not answer by {party.respond_by:%Y-%m-%d %H:%M} UTC. "
                                     "You can still accept through your private link.")
                    produced += 1
                elif state is PartyState.invited and party.respond_by - rules.REMIND_BEFORE_DEADLINE <= now:
                    key = f"disclosure.remind_respond:{party.id}:{_iso(party.respond_by)}"
                    produced += _tell_party(session, rt, case, org, party, key=key, event_type="disclosure.reminder",
                                subject=f"Reminder: please respond by {party.respond_by:%Y-%m-%d %H:%M} UTC",
                                body=f"{org.name} is waiting for {party.stakeholder.name}'s answer to an embargoed "
                                     f"briefing invitation (\"{case.title}\").")
                if rules.may_read_briefing(state) and case.embargo_ends_at - rules.REMIND_BEFORE_LIFT <= now:
                    key = f"disclosure.remind_lift:{party.id}:{_iso(case.embargo_ends_at)}"
                    produced += _tell_party(session, rt, case, org, party, key=key, event_type="disclosure.reminder",
                                subject=f"Embargo lifts {case.embargo_ends_at:%Y-%m-%d %H:%M} UTC: {case.title}",
                                body=f"The embargo on \"{case.title}\" lifts at {case.embargo_ends_at:%Y-%m-%d %H:%M} "
                                     f"UTC. Your state is '{party.state}'.")
    produced += deliver_webhooks(rt, sender=sender)
    return produced

