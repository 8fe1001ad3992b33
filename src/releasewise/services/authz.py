"""Permission checks every service runs before it reads or changes anything.

The rule: an organisation the actor does not belong to does not exist for
them (NotFound, never data, never "forbidden", so its existence does not leak);
inside their organisation, the permission table in domain/roles.py decides,
and a refusal is itself audited.
"""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from releasewise.domain.roles import Action, Role, explain
from releasewise.errors import NotFound, PermissionDenied
from releasewise.services.runtime import Actor, PendingAudit
from releasewise.store.models import Membership, Organization


def org_not_found(org_slug: str) -> NotFound:
    return NotFound(
        f"No organisation '{org_slug}' that you belong to. Check the name, or ask its owner to invite you."
    )


def load_membership(session: Session, actor: Actor, org_slug: str) -> tuple[Organization, Membership]:
    row = session.execute(
        select(Organization, Membership)
        .join(Membership, Membership.org_id == Organization.id)
        .where(Organization.slug == org_slug.lower(), Membership.user_id == actor.user_id)
    ).first()
    if row is None:
        raise org_not_found(org_slug)
    return row[0], row[1]


def authorize(session: Session, actor: Actor, org_slug: str, action: Action) -> tuple[Organization, Membership]:
    """Return the organisation and the actor's membership, or raise.

    Raises NotFound when the actor is not a member, PermissionDenied when the
    role or the token's scopes do not allow ``action``.
    """
    org, membership = load_membership(session, actor, org_slug)
    check = explain(Role(membership.role), action, actor.scopes)
    if not check.allowed:
        error = PermissionDenied(check.reason)
        error.pending_audit = PendingAudit(
            org_id=org.id,
            actor_user_id=actor.user_id,
            actor_label=actor.label,
            action="permission.denied",
            target_type="action",
            target_id=action.value,
            summary={"role": membership.role, "via": actor.via},
        )
        raise error
    return org, membership
