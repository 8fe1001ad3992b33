"""Organisations, members, roles and invitations."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from releasewise.domain.credentials import digest, new_secret
from releasewise.domain.roles import Action, Role
from releasewise.domain.validation import clean_email, clean_slug, clean_text, slugify
from releasewise.errors import Conflict, InvalidInput, NotFound
from releasewise.services import outbox
from releasewise.services.audit import record
from releasewise.services.authz import authorize
from releasewise.services.runtime import Actor, Runtime
from releasewise.services.views import InvitationView, MemberView, OrgView
from releasewise.store.models import Invitation, Membership, Organization, User


def parse_role(value: str) -> Role:
    try:
        return Role((value or "").strip().lower())
    except ValueError:
        valid = ", ".join(r.value for r in Role)
        raise InvalidInput(f"Unknown role '{value}'. Choose one of: {valid}.", field="role") from None


def create_org(rt: Runtime, actor: Actor, *, name: str, slug: str = "", description: str = "") -> OrgView:
    """Any signed-in user may create an organisation and becomes its owner."""
    name = clean_text(name, "Organisation name", max_length=100)
    slug = clean_slug(slug or slugify(name), "Organisation slug")
    description = clean_text(description, "Description", max_length=2000, required=False)
    with rt.write() as session:
        if session.scalar(select(Organization.id).where(Organization.slug == slug)) is not None:
            raise Conflict(f"The name '{slug}' is taken by another organisation. Choose another slug.", field="slug")
        org = Organization(slug=slug, name=name, description=description, created_at=rt.clock.now())
        session.add(org)
        session.flush()
        session.add(Membership(org_id=org.id, user_id=actor.user_id, role=Role.owner.value, created_at=rt.clock.now()))
        record(session, rt, actor, org.id, "org.created", "organization", org.slug, {"name": name})
        record(session, rt, actor, org.id, "member.added", "user", actor.username, {"role": Role.owner.value})
        return OrgView.of(org, Role.owner.value)


def list_my_orgs(rt: Runtime, actor: Actor) -> list[OrgView]:
    with rt.read() as session:
        rows = session.execute(
            select(Organization, Membership.role)
            .join(Membership, Membership.org_id == Organization.id)
            .where(Membership.user_id == actor.user_id)
            .order_by(Organization.name)
        ).all()
        return [OrgView.of(org, role) for org, role in rows]


def get_org(rt: Runtime, actor: Actor, org_slug: str) -> OrgView:
    with rt.read() as session:
        org, membership = authorize(session, actor, org_slug, Action.org_view)
        return OrgView.of(org, membership.role)


def update_org(rt: Runtime, actor: Actor, org_slug: str, *, name: str | None = None,
               description: str | None = None) -> OrgView:
    with rt.write() as session:
        org, membership = authorize(session, actor, org_slug, Action.org_update)
        before = {"name": org.name, "description": org.description}
        if name is not None:
            org.name = clean_text(name, "Organisation name", max_length=100)
        if description is not None:
            org.description = clean_text(description, "Description", max_length=2000, required=False)
        after = {"name": org.name, "description": org.description}
        if after != before:
            record(session, rt, actor, org.id, "org.updated", "organization", org.slug,
                   {"before": before, "after": after})
        return OrgView.of(org, membership.role)


def list_members(rt: Runtime, actor: Actor, org_slug: str) -> list[MemberView]:
    with rt.read() as session:
        org, _ = authorize(session, actor, org_slug, Action.member_view)
        rows = session.execute(
            select(Membership, User).join(User, User.id == Membership.user_id)
            .where(Membership.org_id == org.id).order_by(User.username)
        ).all()
        return [MemberView(u.id, u.username, u.display_name, u.email, m.role, m.created_at) for m, u in rows]


def _invitation_status(row: Invitation, now: datetime) -> str:
    if row.accepted_at is not None:
        return "accepted"
    if row.revoked_at is not None:
        return "revoked"
    if row.expires_at <= now:
        return "expired"
    return "pending"


def _invitation_view(row: Invitation, now: datetime) -> InvitationView:
    return InvitationView(
        id=row.id, org_slug=row.org.slug, org_name=row.org.name, email=row.email, role=row.role,
        invited_by=row.invited_by.username, created_at=row.created_at, expires_at=row.expires_at,
        status=_invitation_status(row, now),
    )


def invite_member(rt: Runtime, actor: Actor, org_slug: str, *, email: str, role: str) -> tuple[InvitationView, str]:
    """Invite someone by email; returns the invitation and its one-time link.

    The link is emailed through the outbox and also returned so an owner
    without a mail server can pass it on by hand.
    """
    email = clean_email(email)
    parsed_role = parse_role(role)
    raw = new_secret()
    now = rt.clock.now()
    with rt.write() as session:
        org, _ = authorize(session, actor, org_slug, Action.member_invite)
        already = session.scalar(
            select(User.username).join(Membership, Membership.user_id == User.id)
            .where(Membership.org_id == org.id, User.email == email)
        )
        if already:
            raise Conflict(f"{email} is already a member of {org.name} (as '{already}').", field="email")
        pending = session.scalars(
            select(Invitation).where(
                Invitation.org_id == org.id, Invitation.email == email, Invitation.accepted_at.is_(None),
                Invitation.revoked_at.is_(None), Invitation.expires_at > now,
            )
        ).first()
        if pending is not None:
            raise Conflict(
                f"{email} already has a pending invitation. Revoke it first to send a new one.", field="email"
            )
        invitation = Invitation(
            org_id=org.id, email=email, role=parsed_role.value, token_digest=digest(raw),
            invited_by_id=actor.user_id, created_at=now,
            expires_at=now + timedelta(days=rt.settings.invitation_days),
        )
        session.add(invitation)
        session.flush()
        link = f"{rt.settings.base_url.rstrip('/')}/invitations/{raw}"
        outbox.enqueue(
            session, rt, key=f"invitation:{invitation.id}", recipient=email,
            subject=f"You are invited to join {org.name} on releasewise",
            body=(
                f"{actor.username} invited you to join {org.name} as {parsed_role.value}.\n\n"
                f"Accept the invitation (sign up first if you have no account, using this email address):\n{link}\n\n"
                f"The link expires on {invitation.expires_at:%Y-%m-%d %H:%M} UTC. "
                "If you did not expect this, ignore this email.\n"
            ),
        )
        record(session, rt, actor, org.id, "member.invited", "invitation", invitation.id,
               {"email": email, "role": parsed_role.value})
        session.refresh(invitation, ["org", "invited_by"])
        return _invitation_view(invitation, now), link


def list_invitations(rt: Runtime, actor: Actor, org_slug: str) -> list[InvitationView]:
    now = rt.clock.now()
    with rt.read() as session:
        org, _ = authorize(session, actor, org_slug, Action.member_invite)
        rows = session.scalars(
            select(Invitation).where(Invitation.org_id == org.id).order_by(Invitation.created_at.desc())
        ).all()
        return [_invitation_view(r, now) for r in rows]


def revoke_invitation(rt: Runtime, actor: Actor, org_slug: str, invitation_id: int) -> InvitationView:
    now = rt.clock.now()
    with rt.write() as session:
        org, _ = authorize(session, actor, org_slug, Action.member_invite)
        row = session.scalars(
            select(Invitation).where(Invitation.id == invitation_id, Invitation.org_id == org.id)
        ).first()
        if row is None:
            raise NotFound(f"No invitation #{invitation_id} in {org.name}.")
        if _invitation_status(row, now) != "pending":
            raise Conflict(f"Invitation #{invitation_id} is {_invitation_status(row, now)} and cannot be revoked.")
        row.revoked_at = now
        record(session, rt, actor, org.id, "member.invitation_revoked", "invitation", row.id, {"email": row.email})
        return _invitation_view(row, now)


def _usable_invitation(session: Session, raw: str, now: datetime) -> Invitation:
    row = session.scalars(select(Invitation).where(Invitation.token_digest == digest(raw or ""))).first()
    if row is None:
        raise NotFound("This invitation link is not valid. Ask the organisation owner for a new one.")
    status = _invitation_status(row, now)
    if status != "pending":
        raise Conflict(f"This invitation is {status}. Ask the organisation owner for a new one.")
    return row


def peek_invitation(rt: Runtime, raw: str) -> InvitationView:
    """What an invitation link offers, for the accept page (no actor: the link is the secret)."""
    now = rt.clock.now()
    with rt.read() as session:
        return _invitation_view(_usable_invitation(session, raw, now), now)


def accept_invitation(rt: Runtime, actor: Actor, raw: str) -> OrgView:
    """Join the organisation. The account's email must be the invited address."""
    now = rt.clock.now()
    with rt.write() as session:
        invitation = _usable_invitation(session, raw, now)
        user = session.get(User, actor.user_id)
        if user is None or user.email != invitation.email:
            raise InvalidInput(
                f"This invitation is for {invitation.email}, but you are signed in as "
                f"{user.email if user else 'unknown'}. Sign in with the invited address."
            )
        exists = session.scalar(
            select(Membership.id).where(Membership.org_id == invitation.org_id, Membership.user_id == actor.user_id)
        )
        if exists is not None:
            raise Conflict("You are already a member of this organisation.")
        session.add(Membership(org_id=invitation.org_id, user_id=actor.user_id, role=invitation.role, created_at=now))
        invitation.accepted_at = now
        invitation.accepted_by_id = actor.user_id
        record(session, rt, actor, invitation.org_id, "member.added", "user", actor.username,
               {"role": invitation.role, "invitation": invitation.id})
        return OrgView.of(invitation.org, invitation.role)


def _owner_count(session: Session, org_id: int) -> int:
    return session.scalar(
        select(func.count()).select_from(Membership)
        .where(Membership.org_id == org_id, Membership.role == Role.owner.value)
    ) or 0


def _member(session: Session, org: Organization, username: str) -> Membership:
    row = session.scalars(
        select(Membership).join(User, User.id == Membership.user_id)
        .where(Membership.org_id == org.id, User.username == (username or "").strip().lower())
    ).first()
    if row is None:
        raise NotFound(f"'{username}' is not a member of {org.name}.")
    return row


def change_role(rt: Runtime, actor: Actor, org_slug: str, username: str, role: str) -> MemberView:
    new_role = parse_role(role)
    with rt.write() as session:
        org, _ = authorize(session, actor, org_slug, Action.member_change_role)
        member = _member(session, org, username)
        old_role = member.role
        if old_role == Role.owner.value and new_role != Role.owner and _owner_count(session, org.id) <= 1:
            raise Conflict(f"{username} is the last owner of {org.name}. Make someone else owner first.")
        if old_role != new_role.value:
            member.role = new_role.value
            record(session, rt, actor, org.id, "member.role_changed", "user", member.user.username,
                   {"before": old_role, "after": new_role.value})
        u = member.user
        return MemberView(u.id, u.username, u.display_name, u.email, member.role, member.created_at)


def remove_member(rt: Runtime, actor: Actor, org_slug: str, username: str) -> None:
    with rt.write() as session:
        org, _ = authorize(session, actor, org_slug, Action.member_remove)
        member = _member(session, org, username)
        if member.role == Role.owner.value and _owner_count(session, org.id) <= 1:
            raise Conflict(f"{username} is the last owner of {org.name}. Make someone else owner first.")
        record(session, rt, actor, org.id, "member.removed", "user", member.user.username, {"role": member.role})
        session.delete(member)
