"""Gated access: requests, rules, decisions, grants, agreements, expiry (SQLite and PostgreSQL)."""

from __future__ import annotations

from datetime import timedelta

import pytest

from releasewise.clock import FrozenClock
from releasewise.errors import Conflict, InvalidInput, NotFound, PermissionDenied
from releasewise.notify.mail import MemoryMailer
from releasewise.services import access, audit, orgs, outbox, projects, registry, tiers
from releasewise.services.registry import AccessGated
from releasewise.services.runtime import Actor
from tests.conftest import World, join, make_user
from tests.hfapi.support import gated_setup, publish, request_and_approve, set_tier

REPO = "echo-weights-1b"
BOXES = ["No impersonation", "Consent of speakers"]


def can_download(w: World, actor: Actor | None, repo: str = REPO) -> bool:
    try:
        registry.resolve_file(w.rt, actor, "lab-a", repo, "main", "w.bin")
    except (AccessGated, NotFound):
        return False
    return True


def advance(w: World, **delta: float) -> None:
    clock = w.rt.clock
    assert isinstance(clock, FrozenClock)
    clock.advance(**delta)


@pytest.fixture
def gated(world: World) -> World:
    publish(world.rt, world.researcher, {"w.bin": b"secret weights"})
    gated_setup(world.rt, world.lead)
    return world


def submit(w: World, who: Actor, **kw: object) -> access.RequestView:
    fields: dict[str, object] = {"intended_use": "Detector research", "institution": "Uni",
                                 "answers": {"country": "DE"}, "checkboxes": BOXES}
    fields.update(kw)
    return access.submit_request(w.rt, who, "lab-a", "echo", "weights-1b", **fields)  # type: ignore[arg-type]


def test_refusals_leak_no_file_name_size_or_existence(gated: World) -> None:
    """No token, another org's member, expired, revoked, other-asset grant, outdated agreement: all refused."""
    w = gated
    sam, tara, uma, val = (make_user(w.rt, n) for n in ("sam", "tara", "uma", "val"))
    projects.create_asset(w.rt, w.lead, "lab-a", "echo", name="Weights 7B", kind="weights")
    set_tier(w.rt, "vetted_researchers", asset_slug="weights-7b")
    publish(w.rt, w.researcher, {"w.bin": b"other asset"}, asset="weights-7b")
    grant_sam = request_and_approve(w.rt, sam, w.lead)  # revoked below
    request_and_approve(w.rt, tara, w.lead, )  # agreement changes below
    access.submit_request(w.rt, uma, "lab-a", "echo", "weights-7b", intended_use="x", institution="y",
                          answers={"country": "DE"}, checkboxes=BOXES)
    uma_req = access.list_requests(w.rt, w.lead, "lab-a")[0]
    access.decide(w.rt, w.lead, "lab-a", [uma_req.id], approve=True)  # grant for another asset
    request_and_approve(w.rt, val, w.lead, )
    assert all(can_download(w, a) for a in (sam, tara, val))
    access.revoke_grant(w.rt, w.lead, "lab-a", grant_sam, reason="Shared the weights publicly")
    access.publish_agreement(w.rt, w.lead, "lab-a", "echo", title="v2", body_md="New terms", checkboxes=["New"])
    advance(w, days=400)  # val's grant (365 days by default) has expired; so have the others
    for who in (None, w.outsider, sam, tara, uma, val):
        for call in (lambda a: registry.resolve_file(w.rt, a, "lab-a", REPO, "main", "w.bin"),
                     lambda a: registry.resolve_file(w.rt, a, "lab-a", REPO, "main", "nonexistent.bin"),
                     lambda a: registry.resolve_file(w.rt, a, "lab-a", REPO, "v99", "w.bin"),
                     lambda a: registry.snapshot(w.rt, a, "lab-a", REPO, "main")):
            with pytest.raises(AccessGated) as err:
                call(who)
            assert "w.bin" not in err.value.message and "14" not in err.value.message  # neither name nor size
            assert "nonexistent" not in err.value.message and "v99" not in err.value.message
    refused = audit.list_events(w.rt, w.lead, "lab-a", action_prefix="download.refused", limit=100)
    assert {e.actor for e in refused} >= {"sam", "tara", "uma", "val"}
    # The same refusal whether the file exists or not: nothing to probe.
    assert not can_download(w, uma)
    assert can_download(w, uma, "echo-weights-7b") is False  # expired too
    assert can_download(w, w.viewer)  # members of the owning organisation are not gated


def test_narrow_tiers_hide_the_asset_entirely(gated: World) -> None:
    w = gated
    sam = make_user(w.rt, "sam")
    request_and_approve(w.rt, sam, w.lead)
    tiers.set_asset_tier(w.rt, w.lead, "lab-a", "echo", "weights-1b", "team", reason="incident")  # narrowing
    with pytest.raises(NotFound):
        registry.resolve_file(w.rt, sam, "lab-a", REPO, "main", "w.bin")
    with pytest.raises(NotFound):
        access.request_form(w.rt, sam, "lab-a", "echo", "weights-1b")
    with pytest.raises(NotFound):
        registry.resolve_file(w.rt, sam, "lab-a", "no-such-repo", "main", "w.bin")


def test_grants_never_outlive_their_expiry(gated: World) -> None:
    w = gated
    sam = make_user(w.rt, "sam")
    access.set_default_grant_days(w.rt, w.lead, "lab-a", 30)
    request_and_approve(w.rt, sam, w.lead)
    grant = access.list_grants(w.rt, w.lead, "lab-a")[0]
    assert grant.expires_at - grant.granted_at == timedelta(days=30)
    advance(w, days=30, seconds=-1)
    assert can_download(w, sam)
    advance(w, seconds=1)
    assert not can_download(w, sam)
    assert access.list_grants(w.rt, w.lead, "lab-a")[0].status == "expired"
    # Renewal: a new request of kind "renewal", approved with its own expiry.
    renewal = submit(w, sam, kind="renewal")
    access.decide(w.rt, w.lead, "lab-a", [renewal.id], approve=True, grant_days=7)
    assert can_download(w, sam)
    advance(w, days=7)
    assert not can_download(w, sam)


def test_agreement_change_requires_reacceptance(gated: World) -> None:
    w = gated
    sam = make_user(w.rt, "sam")
    request_and_approve(w.rt, sam, w.lead)
    access.publish_agreement(w.rt, w.lead, "lab-a", "echo", title="Licence v2", body_md="Stricter", checkboxes=["A", "B"])
    with pytest.raises(AccessGated, match="agreement changed"):
        registry.resolve_file(w.rt, sam, "lab-a", REPO, "main", "w.bin")
    assert access.request_form(w.rt, sam, "lab-a", "echo", "weights-1b").needs_reacceptance
    with pytest.raises(InvalidInput, match="missing: B"):
        access.accept_agreement(w.rt, sam, "lab-a", "echo", "weights-1b", checkboxes=["A"])
    with pytest.raises(Conflict, match="version 2"):
        access.accept_agreement(w.rt, sam, "lab-a", "echo", "weights-1b", checkboxes=["A", "B"], version=1)
    access.accept_agreement(w.rt, sam, "lab-a", "echo", "weights-1b", checkboxes=["A", "B"], version=2)
    assert can_download(w, sam)


def test_automatic_and_rule_based_approval(world: World) -> None:
    w = world
    publish(w.rt, w.researcher, {"w.bin": b"x"})
    gated_setup(w.rt, w.lead, mode="rules")
    accounts_domain = make_user(w.rt, "sam")  # sam@example.org: no rule matches
    assert submit(w, accounts_domain).status == "pending"
    from releasewise.services import accounts

    accounts.sign_up(w.rt, username="uni", email="uni@uni.example", password="correct horse battery staple",
                     display_name="Uni")
    uni = accounts.authenticate_password(w.rt, login="uni", password="correct horse battery staple", ip="x")
    req = submit(w, uni)
    assert req.status == "approved" and req.decided_automatically and "uni.example" in req.decision_reason
    # trusted partner organisation membership
    partner_owner = make_user(w.rt, "pia")
    orgs.create_org(w.rt, partner_owner, name="Detect Co", slug="detect-co")
    access.configure_policy(w.rt, w.lead, "lab-a", "echo", approval_mode="rules", trusted_orgs=["detect-co"],
                            form_fields=[{"name": "country", "label": "Country", "type": "country"}])
    assert submit(w, partner_owner).status == "approved"
    access.configure_policy(w.rt, w.lead, "lab-a", "echo", approval_mode="automatic",
                            form_fields=[{"name": "country", "label": "Country", "type": "country"}])
    assert submit(w, make_user(w.rt, "zed")).status == "approved"


def test_org_grants_admit_members_from_trusted_partners_up(gated: World) -> None:
    w = gated
    pia, pete = make_user(w.rt, "pia"), make_user(w.rt, "pete")
    orgs.create_org(w.rt, pia, name="Detect Co", slug="detect-co")
    join(w.rt, pia, "detect-co", pete, "viewer")
    req = submit(w, pia, for_org="detect-co")
    access.decide(w.rt, w.lead, "lab-a", [req.id], approve=True)
    assert access.list_grants(w.rt, w.lead, "lab-a")[0].grantee == "org:detect-co"
    tiers.set_asset_tier(w.rt, w.lead, "lab-a", "echo", "weights-1b", "trusted_partners", reason="embargo")
    assert can_download(w, pete) and can_download(w, pia)
    sam = make_user(w.rt, "sam")  # an individual grant does not reach the trusted_partners tier
    set_tier(w.rt, "vetted_researchers")
    request_and_approve(w.rt, sam, w.lead)
    tiers.set_asset_tier(w.rt, w.lead, "lab-a", "echo", "weights-1b", "trusted_partners", reason="embargo")
    assert not can_download(w, sam) and can_download(w, pete)
    with pytest.raises(NotFound):  # one cannot request for an organisation one does not belong to
        submit(w, sam, for_org="detect-co")


def test_registered_tier_is_click_through(gated: World) -> None:
    w = gated
    set_tier(w.rt, "registered")
    sam = make_user(w.rt, "sam")
    assert not can_download(w, sam) and not can_download(w, None)
    with pytest.raises(Conflict, match="accept it instead"):
        submit(w, sam)
    access.accept_agreement(w.rt, sam, "lab-a", "echo", "weights-1b", checkboxes=BOXES)
    assert can_download(w, sam) and not can_download(w, None)


def test_batch_decisions_are_all_or_nothing_and_rejections_need_reasons(gated: World) -> None:
    w = gated
    people = [make_user(w.rt, n) for n in ("sam", "tara", "uma")]
    ids = [submit(w, p).id for p in people]
    with pytest.raises(InvalidInput, match="Reason"):
        access.decide(w.rt, w.lead, "lab-a", ids, approve=False)
    access.decide(w.rt, w.lead, "lab-a", ids[:1], approve=False, reason="Not a research use")
    with pytest.raises(Conflict, match="already rejected"):
        access.decide(w.rt, w.lead, "lab-a", ids, approve=True)
    assert [r.id for r in access.list_requests(w.rt, w.lead, "lab-a")] == ids[1:]  # nothing changed
    decided = access.decide(w.rt, w.lead, "lab-a", ids[1:], approve=True, reason="ok")
    assert [d.status for d in decided] == ["approved", "approved"]
    for bad in ([99999], [2**70], [0]):
        with pytest.raises(NotFound):
            access.decide(w.rt, w.lead, "lab-a", bad, approve=True)
    # rejected: re-apply needs a reason; appeal needs a reason
    with pytest.raises(InvalidInput, match="say what changed"):
        submit(w, people[0])
    appeal = submit(w, people[0], kind="appeal", reason="I am a detection researcher")
    assert appeal.kind == "appeal" and appeal.status == "pending"


def test_requester_input_is_validated_and_changes_nothing(gated: World) -> None:
    w = gated
    sam = make_user(w.rt, "sam")
    cases = [
        ({"answers": {"country": "Atlantis"}}, "ISO country"),
        ({"answers": {}}, "Answer 'Country'"),
        ({"answers": {"country": "DE", "extra": "x"}}, "no field"),
        ({"checkboxes": BOXES[:1]}, "missing"),
        ({"intended_use": "  "}, "Intended use"),
        ({"kind": "bribe"}, "kind must be"),
        ({"kind": "renewal"}, "Renewal needs a grant"),
        ({"kind": "appeal", "reason": "x"}, "Only a rejected request"),
    ]
    for kw, message in cases:
        with pytest.raises((InvalidInput, Conflict), match=message):
            submit(w, sam, **kw)
    assert access.my_requests(w.rt, sam) == []
    assert access.request_form(w.rt, sam, "lab-a", "echo", "weights-1b").accepted_version is None
    submit(w, sam)
    with pytest.raises(Conflict, match="pending"):
        submit(w, sam)


def test_policy_configuration_is_validated(world: World) -> None:
    w = world
    bad = [
        ({"approval_mode": "vibes"}, "approval_mode"),
        ({"approval_mode": "rules"}, "allow-list"),
        ({"approval_mode": "rules", "email_domains": ["not a domain"]}, "email domain"),
        ({"approval_mode": "rules", "trusted_orgs": ["ghost-org"]}, "No organisation"),
        ({"approval_mode": "manual", "form_fields": [{"name": "Bad Name", "label": "x", "type": "text"}]}, "lowercase"),
        ({"approval_mode": "manual", "form_fields": [{"name": "c", "label": "C", "type": "select"}]}, "options"),
        ({"approval_mode": "manual", "form_fields": [{"name": "c", "label": "C", "type": "colour"}]}, "type must"),
        ({"approval_mode": "manual", "grant_days": 0}, "between 1 and 3650"),
    ]
    for kw, message in bad:
        with pytest.raises(InvalidInput, match=message):
            access.configure_policy(w.rt, w.lead, "lab-a", "echo", **kw)  # type: ignore[arg-type]
    assert access.get_policy(w.rt, w.lead, "lab-a", "echo").approval_mode == "manual"


def test_roles_and_org_boundaries(gated: World) -> None:
    w = gated
    sam = make_user(w.rt, "sam")
    req = submit(w, sam)
    for actor in (w.researcher, w.reviewer, w.viewer):
        with pytest.raises(PermissionDenied):
            access.decide(w.rt, actor, "lab-a", [req.id], approve=True)
        with pytest.raises(PermissionDenied):
            access.publish_agreement(w.rt, actor, "lab-a", "echo", title="t", body_md="b", checkboxes=[])
        with pytest.raises(PermissionDenied):
            access.downloads(w.rt, actor, "lab-a")
    for call in (lambda: access.list_requests(w.rt, w.outsider, "lab-a"),
                 lambda: access.decide(w.rt, w.outsider, "lab-a", [req.id], approve=True),
                 lambda: access.downloads_csv(w.rt, w.outsider, "lab-a"),
                 lambda: access.revoke_grant(w.rt, w.outsider, "lab-a", 1, reason="x")):
        with pytest.raises(NotFound):
            call()
    # a lead of Lab B cannot decide Lab A's request through Lab B
    with pytest.raises(NotFound):
        access.decide(w.rt, w.outsider, "lab-b", [req.id], approve=True)
    assert access.list_requests(w.rt, w.lead, "lab-a")[0].status == "pending"
    denied = audit.list_events(w.rt, w.lead, "lab-a", action_prefix="permission.denied")
    assert len(denied) >= 9


def test_revocation_reason_reaches_the_grantee_and_everything_is_audited(gated: World) -> None:
    w = gated
    sam = make_user(w.rt, "sam")
    grant_id = request_and_approve(w.rt, sam, w.lead)
    access.revoke_grant(w.rt, w.lead, "lab-a", grant_id, reason="Weights were re-shared")
    with pytest.raises(Conflict):
        access.revoke_grant(w.rt, w.lead, "lab-a", grant_id, reason="again")
    with pytest.raises(InvalidInput):
        access.revoke_grant(w.rt, w.lead, "lab-a", grant_id, reason=" ")
    outbox.deliver_pending(w.rt)
    mailer = w.rt.mailer
    assert isinstance(mailer, MemoryMailer)
    told = {m.recipient for m in mailer.sent if m.subject.startswith("Access request #")}
    assert told == {"olivia@example.org", "leo@example.org"}  # the approvers (owner, release lead), no one else
    revoked = [m for m in mailer.sent if m.recipient == "sam@example.org" and "revoked" in m.subject]
    assert revoked and "Weights were re-shared" in revoked[0].body
    form = access.request_form(w.rt, sam, "lab-a", "echo", "weights-1b")
    assert form.my_grants[0].status == "revoked" and form.my_grants[0].revoke_reason == "Weights were re-shared"
    actions = {e.action for e in audit.list_events(w.rt, w.lead, "lab-a", limit=100)}
    assert {"agreement.published", "access.policy_changed", "agreement.accepted", "access.requested",
            "access.approved", "access.revoked", "upload.started", "version.published"} <= actions


def test_queue_waiting_time_and_latency_median_p90(gated: World) -> None:
    w = gated
    people = [make_user(w.rt, f"user{i}") for i in range(10)]
    for i, person in enumerate(people):
        req = submit(w, person)
        advance(w, hours=i + 1)  # request i waits i+1 hours
        access.decide(w.rt, w.lead, "lab-a", [req.id], approve=True)
    waiting = submit(w, make_user(w.rt, "late"))
    advance(w, hours=5)
    queue = access.list_requests(w.rt, w.lead, "lab-a")
    assert [q.id for q in queue] == [waiting.id] and queue[0].waiting_seconds == 5 * 3600
    stats = access.latency(w.rt, w.lead, "lab-a")
    assert stats.decided == 10 and stats.pending == 1
    assert stats.median_seconds == 5.5 * 3600 and stats.p90_seconds == 9 * 3600
    assert stats.oldest_waiting_seconds == 5 * 3600
