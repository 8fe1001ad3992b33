from __future__ import annotations

import pytest
from sqlalchemy import select

from releasewise.errors import Conflict, InvalidInput, NotFound, PermissionDenied
from releasewise.services import orgs, outbox
from releasewise.services.runtime import Runtime
from releasewise.store.models import AuditEvent, Invitation, Membership
from tests.conftest import World, make_user


def test_creator_becomes_owner_and_it_is_audited(rt: Runtime) -> None:
    alice = make_user(rt, "alice")
    org = orgs.create_org(rt, alice, name="Resonance Voice Lab")
    assert org.slug == "resonance-voice-lab" and org.my_role == "owner"
    with rt.db.unit_of_work(write=False) as s:
        actions = [e.action for e in s.scalars(select(AuditEvent).where(AuditEvent.org_id == org.id))]
    assert actions == ["org.created", "member.added"]


def test_duplicate_org_slug(rt: Runtime) -> None:
    alice = make_user(rt, "alice")
    orgs.create_org(rt, alice, name="Lab", slug="lab")
    with pytest.raises(Conflict, match="taken"):
        orgs.create_org(rt, alice, name="Another", slug="lab")
    assert len(orgs.list_my_orgs(rt, alice)) == 1


@pytest.mark.parametrize("name,slug", [("", ""), ("x" * 101, ""), ("Fine", "Not A Slug")])
def test_bad_org_input(rt: Runtime, name: str, slug: str) -> None:
    alice = make_user(rt, "alice")
    with pytest.raises(InvalidInput):
        orgs.create_org(rt, alice, name=name, slug=slug)
    assert orgs.list_my_orgs(rt, alice) == []


def test_invitation_email_and_accept(rt: Runtime) -> None:
    alice, bob = make_user(rt, "alice"), make_user(rt, "bobby")
    orgs.create_org(rt, alice, name="Lab", slug="lab")
    invitation, link = orgs.invite_member(rt, alice, "lab", email="bobby@example.org", role="reviewer")
    assert outbox.deliver_pending(rt) == 1
    mail = rt.mailer.sent[0]  # type: ignore[attr-defined]
    assert mail.recipient == "bobby@example.org" and link in mail.body and "reviewer" in mail.body
    token = link.rsplit("/", 1)[-1]
    with rt.db.unit_of_work(write=False) as s:
        assert token not in s.scalars(select(Invitation.token_digest)).one()
    org = orgs.accept_invitation(rt, bob, token)
    assert org.my_role == "reviewer"
    assert {m.username: m.role for m in orgs.list_members(rt, alice, "lab")} == {"alice": "owner", "bobby": "reviewer"}
    with pytest.raises(Conflict, match="accepted"):
        orgs.accept_invitation(rt, bob, token)
    assert outbox.deliver_pending(rt) == 0  # idempotent: nothing re-sent


def test_invitation_for_another_email_cannot_be_used(rt: Runtime) -> None:
    alice, mallory = make_user(rt, "alice"), make_user(rt, "mallory")
    orgs.create_org(rt, alice, name="Lab", slug="lab")
    _, link = orgs.invite_member(rt, alice, "lab", email="bobby@example.org", role="owner")
    with pytest.raises(InvalidInput, match="for bobby@example.org"):
        orgs.accept_invitation(rt, mallory, link.rsplit("/", 1)[-1])
    assert [m.username for m in orgs.list_members(rt, alice, "lab")] == ["alice"]


def test_expired_and_revoked_invitations(rt: Runtime) -> None:
    alice, bob = make_user(rt, "alice"), make_user(rt, "bobby")
    orgs.create_org(rt, alice, name="Lab", slug="lab")
    _, link = orgs.invite_member(rt, alice, "lab", email="bobby@example.org", role="viewer")
    rt.clock.advance(days=rt.settings.invitation_days + 1)  # type: ignore[attr-defined]
    with pytest.raises(Conflict, match="expired"):
        orgs.accept_invitation(rt, bob, link.rsplit("/", 1)[-1])
    invitation, link2 = orgs.invite_member(rt, alice, "lab", email="bobby@example.org", role="viewer")
    orgs.revoke_invitation(rt, alice, "lab", invitation.id)
    with pytest.raises(Conflict, match="revoked"):
        orgs.accept_invitation(rt, bob, link2.rsplit("/", 1)[-1])
    with pytest.raises(NotFound):
        orgs.accept_invitation(rt, bob, "no-such-token")


def test_duplicate_invitations_and_members(world: World) -> None:
    rt = world.rt
    orgs.invite_member(rt, world.owner, "lab-a", email="new@example.org", role="viewer")
    with pytest.raises(Conflict, match="pending invitation"):
        orgs.invite_member(rt, world.owner, "lab-a", email="new@example.org", role="viewer")
    with pytest.raises(Conflict, match="already a member"):
        orgs.invite_member(rt, world.owner, "lab-a", email="vic@example.org", role="viewer")
    with pytest.raises(InvalidInput, match="Unknown role"):
        orgs.invite_member(rt, world.owner, "lab-a", email="x@example.org", role="admin")


@pytest.mark.parametrize("who", ["lead", "researcher", "reviewer", "viewer"])
def test_only_owners_manage_members_and_refusals_are_audited(world: World, who: str) -> None:
    actor = getattr(world, who)
    rt = world.rt
    with pytest.raises(PermissionDenied, match="member.invite"):
        orgs.invite_member(rt, actor, "lab-a", email="x@example.org", role="owner")
    with pytest.raises(PermissionDenied):
        orgs.change_role(rt, actor, "lab-a", actor.username, "owner")
    with pytest.raises(PermissionDenied):
        orgs.remove_member(rt, actor, "lab-a", "olivia")
    with rt.db.unit_of_work(write=False) as s:
        denied = s.scalars(select(AuditEvent).where(AuditEvent.action == "permission.denied",
                                                    AuditEvent.actor_user_id == actor.user_id)).all()
        roles = {m.user_id: m.role for m in s.scalars(select(Membership))}
    assert [d.target_id for d in denied] == ["member.invite", "member.change_role", "member.remove"]
    assert roles[actor.user_id] != "owner"


def test_other_organisations_do_not_exist_for_outsiders(world: World) -> None:
    rt = world.rt
    for call in (
        lambda: orgs.get_org(rt, world.outsider, "lab-a"),
        lambda: orgs.list_members(rt, world.outsider, "lab-a"),
        lambda: orgs.invite_member(rt, world.outsider, "lab-a", email="x@example.org", role="owner"),
        lambda: orgs.change_role(rt, world.outsider, "lab-a", "oscar", "owner"),
    ):
        with pytest.raises(NotFound, match="No organisation 'lab-a' that you belong to"):
            call()
    with pytest.raises(NotFound) as missing:
        orgs.get_org(rt, world.outsider, "no-such-org")
    assert "lab-a" not in missing.value.message


def test_last_owner_cannot_leave_or_be_demoted(world: World) -> None:
    rt = world.rt
    with pytest.raises(Conflict, match="last owner"):
        orgs.change_role(rt, world.owner, "lab-a", "olivia", "viewer")
    with pytest.raises(Conflict, match="last owner"):
        orgs.remove_member(rt, world.owner, "lab-a", "olivia")
    orgs.change_role(rt, world.owner, "lab-a", "leo", "owner")
    orgs.change_role(rt, world.owner, "lab-a", "olivia", "viewer")
    assert {m.username: m.role for m in orgs.list_members(rt, world.lead, "lab-a")}["olivia"] == "viewer"


def test_remove_member_revokes_access(world: World) -> None:
    rt = world.rt
    orgs.remove_member(rt, world.owner, "lab-a", "vic")
    with pytest.raises(NotFound):
        orgs.get_org(rt, world.viewer, "lab-a")


def test_update_org_records_before_and_after(world: World) -> None:
    rt = world.rt
    orgs.update_org(rt, world.owner, "lab-a", name="Lab A (renamed)")
    with rt.db.unit_of_work(write=False) as s:
        ev = s.scalars(select(AuditEvent).where(AuditEvent.action == "org.updated")).one()
    assert ev.summary["before"]["name"] == "Lab A" and ev.summary["after"]["name"] == "Lab A (renamed)"
    with pytest.raises(PermissionDenied):
        orgs.update_org(rt, world.lead, "lab-a", name="Hijacked")
