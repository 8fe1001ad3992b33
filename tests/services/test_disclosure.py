"""Disclosure cases end to end through the services, on SQLite and PostgreSQL."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import func, select, text

from releasewise.errors import Conflict, InvalidInput, NotFound, PermissionDenied
from releasewise.notify.mail import MemoryMailer
from releasewise.services import audit, outbox
from releasewise.services import disclosure as svc
from releasewise.services.runtime import Runtime
from releasewise.store.models import OutboxMessage, Project
from releasewise.store.models_disclosure import DisclosureCase, Party, Stakeholder
from tests.conftest import World

BRIEFING = "Echo clones voices from 3 s of audio. SECRET-DETAIL-7731 is the weak spot."


def aware(rt: Runtime, **delta: float) -> datetime:
    return (rt.clock.now() + timedelta(**delta)).replace(tzinfo=UTC)


@dataclass
class Case:
    id: int
    platform: int
    detector: int
    platform_link: str
    detector_link: str


def setup_case(world: World, *, invite: bool = True) -> Case:
    rt = world.rt
    platform = svc.add_stakeholder(rt, world.lead, "lab-a", name="Moderate Platform", type="platform",
                                   interests=["audio", "fraud"], shared=True,
                                   contacts=[("Tina", "tina@platform.example", "")])
    detector = svc.add_stakeholder(rt, world.lead, "lab-a", name="Detect Lab", type="detection_research",
                                   interests=["audio"], contacts=[("Dan", "dan@detect.example", "")])
    case = svc.open_case(rt, world.lead, "lab-a", "echo", title="Echo-1 voice cloning", briefing_md=BRIEFING,
                         embargo_ends_at=aware(rt, days=10), stage_key="stage-1", assets=["weights-1b"])
    links = {}
    if invite:
        for s in (platform, detector):
            _, pairs = svc.invite(rt, world.lead, "lab-a", case.id, stakeholder_id=s.id, respond_by=aware(rt, days=3))
            links[s.id] = pairs[0][1]
    return Case(case.id, platform.id, detector.id, links.get(platform.id, ""), links.get(detector.id, ""))


def token(link: str) -> str:
    return link.rsplit("/", 1)[-1]


def mails(rt: Runtime) -> list[tuple[str, str, str]]:
    outbox.deliver_pending(rt)
    assert isinstance(rt.mailer, MemoryMailer)
    return [(m.recipient, m.subject, m.body) for m in rt.mailer.sent]


def counts(rt: Runtime) -> tuple[int, ...]:
    with rt.read() as session:
        return tuple(int(session.scalar(select(func.count()).select_from(t)) or 0)
                     for t in (DisclosureCase, Party, Stakeholder, OutboxMessage))


def test_open_invite_accept_ready_and_the_board(world: World) -> None:
    rt = world.rt
    c = setup_case(world)
    sent = mails(rt)
    invitations = [m for m in sent if "Embargoed briefing" in m[1]]
    assert sorted(m[0] for m in invitations) == ["dan@detect.example", "tina@platform.example"]
    for to, _, body in invitations:
        # An invitation carries only what that party may see: no briefing, no other party.
        assert "SECRET-DETAIL-7731" not in body
        assert ("Detect Lab" in body) == (to == "dan@detect.example")
        assert ("Moderate Platform" in body) == (to == "tina@platform.example")
    assert c.platform_link in next(b for t, _, b in invitations if t == "tina@platform.example")

    before = svc.party_view(rt, token(c.platform_link))
    assert before.briefing_md is None and not before.briefed and before.choices == ("accepted", "declined")
    svc.party_set_state(rt, token(c.platform_link), "accepted")
    after = svc.party_set_state(rt, token(c.platform_link), "ready")
    assert after.briefing_md == BRIEFING and after.assets == ("weights-1b",) and after.state == "ready"
    svc.party_set_state(rt, token(c.detector_link), "declined")

    view = svc.get_case(rt, world.lead, "lab-a", c.id)
    assert view.board["ready"] == ["Moderate Platform"] and view.board["declined"] == ["Detect Lab"]
    with rt.read() as session:
        project_id = session.scalar(select(Project.id).where(Project.slug == "echo"))
        assert project_id is not None
        assert svc.acknowledged_count(session, project_id, None) == 1
        assert svc.acknowledged_count(session, project_id, "stage-1") == 1
        assert svc.acknowledged_count(session, project_id, "stage-2") == 0
    actions = [e.action for e in audit.list_events(rt, world.owner, "lab-a", action_prefix="disclosure.")]
    assert actions.count("disclosure.party_state") == 3
    assert {"disclosure.opened", "disclosure.invited"} <= set(actions)
    with pytest.raises(Conflict, match="cannot become"):
        svc.party_set_state(rt, token(c.detector_link), "accepted")  # declined is final


def test_bad_inputs_give_clear_errors_and_change_nothing(world: World) -> None:
    rt = world.rt
    c = setup_case(world, invite=False)
    svc.invite(rt, world.lead, "lab-a", c.id, stakeholder_id=c.platform, respond_by=aware(rt, days=2))
    before = counts(rt)
    attempts = [
        (InvalidInput, "not a valid email", lambda: svc.add_stakeholder(
            rt, world.lead, "lab-a", name="Newsroom", type="newsroom", contacts=[("Ned", "ned@@news", "")])),
        (InvalidInput, "no timezone", lambda: svc.open_case(
            rt, world.lead, "lab-a", "echo", title="t", briefing_md="b",
            embargo_ends_at=datetime(2030, 1, 1, 9, 0))),
        (InvalidInput, "in the past", lambda: svc.open_case(
            rt, world.lead, "lab-a", "echo", title="t", briefing_md="b", embargo_ends_at=aware(rt, hours=-1))),
        (InvalidInput, "no asset", lambda: svc.open_case(
            rt, world.lead, "lab-a", "echo", title="t", briefing_md="b", embargo_ends_at=aware(rt, days=1),
            assets=["nope"])),
        (Conflict, "already invited", lambda: svc.invite(
            rt, world.lead, "lab-a", c.id, stakeholder_id=c.platform, respond_by=aware(rt, days=2))),
        (InvalidInput, "before the embargo ends", lambda: svc.invite(
            rt, world.lead, "lab-a", c.id, stakeholder_id=c.detector, respond_by=aware(rt, days=20))),
        (InvalidInput, "no timezone", lambda: svc.invite(
            rt, world.lead, "lab-a", c.id, stakeholder_id=c.detector, respond_by=datetime(2030, 1, 1))),
        (Conflict, "already has", lambda: svc.add_stakeholder(
            rt, world.lead, "lab-a", name="moderate platform", type="platform")),
        (InvalidInput, "later than the current", lambda: svc.extend_embargo(
            rt, world.lead, "lab-a", c.id, new_end=aware(rt, days=5), reason="r")),
        (InvalidInput, "empty", lambda: svc.add_attachment(
            rt, world.lead, "lab-a", c.id, filename="a.txt", content_type="text/plain", data=b"")),
        (InvalidInput, "http", lambda: svc.add_webhook(rt, world.lead, "lab-a", url="javascript:alert(1)")),
        (NotFound, "not valid", lambda: svc.party_view(rt, "forged-token-xxxxxxxxxxxxxxxxxxxx")),
    ]
    for error, message, call in attempts:
        with pytest.raises(error, match=message):
            call()
    assert counts(rt) == before
    assert svc.get_case(rt, world.lead, "lab-a", c.id).embargo_ends_at == rt.clock.now() + timedelta(days=10)


def test_boundaries_between_roles_orgs_and_parties(world: World) -> None:
    rt = world.rt
    c = setup_case(world)
    # Inside the lab: researchers read, only leads act; viewers and reviewers do not see open cases.
    assert svc.get_case(rt, world.researcher, "lab-a", c.id).briefing_md == BRIEFING
    with pytest.raises(PermissionDenied):
        svc.publish(rt, world.researcher, "lab-a", c.id)
    for actor in (world.viewer, world.reviewer):
        with pytest.raises(NotFound):
            svc.get_case(rt, actor, "lab-a", c.id)
        assert svc.list_cases(rt, actor, "lab-a") == []
    # Another lab: no case, no private stakeholder, but the shared registry entry.
    with pytest.raises(NotFound):
        svc.get_case(rt, world.outsider, "lab-a", c.id)
    names = [s.name for s in svc.list_stakeholders(rt, world.outsider, "lab-b")]
    assert names == ["Moderate Platform"]
    with pytest.raises(NotFound):
        svc.add_webhook(rt, world.outsider, "lab-b", url="http://127.0.0.1:9/x", stakeholder_id=c.detector)
    # Parties: each sees only its own thread plus what the lab shares, never the other party's name.
    for link in (c.platform_link, c.detector_link):
        svc.party_set_state(rt, token(link), "accepted")
    svc.party_message(rt, token(c.platform_link), "PLATFORM-PRIVATE: our classifier misses phone audio")
    svc.party_message(rt, token(c.detector_link), "DETECTOR-PRIVATE: need 2 more weeks")
    lab_view = svc.get_case(rt, world.lead, "lab-a", c.id)
    assert len(lab_view.messages) == 2
    platform_msg = next(m for m in lab_view.messages if "PLATFORM-PRIVATE" in m.body)
    detector_side = svc.party_view(rt, token(c.detector_link))
    assert [m.body for m in detector_side.messages] == ["DETECTOR-PRIVATE: need 2 more weeks"]
    svc.share_message(rt, world.lead, "lab-a", c.id, platform_msg.id)
    detector_side = svc.party_view(rt, token(c.detector_link))
    shared = [m for m in detector_side.messages if m.shared]
    assert [m.author_label for m in shared] == ["Another party"]
    assert all("Moderate Platform" not in repr(m) for m in detector_side.messages)
    # Emails about the shared message went to the other party only, carrying only the shared text.
    shared_mails = [m for m in mails(rt) if "Update shared" in m[1]]
    assert [m[0] for m in shared_mails] == ["dan@detect.example"]
    assert "DETECTOR-PRIVATE" not in shared_mails[0][2]
    # No secret link in the database.
    with rt.read() as session:
        dump = " ".join(str(r) for r in session.execute(text("SELECT * FROM disclosure_party_contacts")).all())
    assert token(c.platform_link) not in dump and token(c.detector_link) not in dump


def test_deadline_reminders_late_acceptance_lift_and_publication(world: World) -> None:
    rt = world.rt
    c = setup_case(world)
    svc.party_set_state(rt, token(c.detector_link), "accepted")
    assert svc.public_summaries(rt, "lab-a", "echo") == []
    rt.clock.advance(days=1, hours=12)  # type: ignore[attr-defined]
    assert svc.reconcile(rt) >= 1
    svc.reconcile(rt)  # idempotent: a second pass sends nothing new
    reminders = [m for m in mails(rt) if m[1].startswith("Reminder: please respond")]
    assert [m[0] for m in reminders] == ["tina@platform.example"]
    rt.clock.advance(days=2)  # type: ignore[attr-defined]
    svc.reconcile(rt)
    view = svc.get_case(rt, world.lead, "lab-a", c.id)
    assert view.board["silent"] == ["Moderate Platform"] and view.board["not_relevant"] == []
    svc.party_set_state(rt, token(c.platform_link), "accepted")  # late acceptance re-opens it
    rt.clock.advance(days=5, hours=12)  # type: ignore[attr-defined]
    svc.reconcile(rt)
    lift = [m[0] for m in mails(rt) if m[1].startswith("Embargo lifts")]
    assert sorted(lift) == ["dan@detect.example", "tina@platform.example"]
    svc.set_public_summary(rt, world.lead, "lab-a", c.id, public_summary="Echo-1 released with a detector.")
    assert svc.public_summaries(rt, "lab-a", "echo") == []  # still embargoed
    with pytest.raises(NotFound):
        svc.get_case(rt, world.viewer, "lab-a", c.id)
    rt.clock.advance(days=1)  # type: ignore[attr-defined]
    svc.reconcile(rt)
    view = svc.get_case(rt, world.viewer, "lab-a", c.id)  # after publication every member sees it
    assert view.status == "published" and view.published_at == rt.clock.now()
    assert [s.title for s in svc.public_summaries(rt, "lab-a", "echo")] == ["Echo-1 voice cloning"]
    assert [m[0] for m in mails(rt) if m[1].startswith("Embargo lifted")].count("tina@platform.example") == 1
    with pytest.raises(Conflict, match="lifted"):
        svc.party_set_state(rt, token(c.platform_link), "ready")
    events = audit.list_events(rt, world.owner, "lab-a", action_prefix="disclosure.")
    assert {"disclosure.no_response", "disclosure.published"} <= {e.action for e in events}
    assert next(e for e in events if e.action == "disclosure.published").actor == "system"


def test_more_time_extension_and_keeping_the_embargo(world: World) -> None:
    rt = world.rt
    c = setup_case(world)
    for link in (c.platform_link, c.detector_link):
        svc.party_set_state(rt, token(link), "accepted")
    with pytest.raises(InvalidInput, match="no timezone"):
        svc.party_request_time(rt, token(c.detector_link), reason="r", until=datetime(2030, 1, 1))
    svc.party_request_time(rt, token(c.detector_link), reason="Retraining the detector", until=aware(rt, days=14))
    with pytest.raises(Conflict, match="still waiting"):
        svc.party_request_time(rt, token(c.detector_link), reason="again", until=aware(rt, days=15))
    request_id = svc.get_case(rt, world.lead, "lab-a", c.id).time_requests[0].id
    with pytest.raises(InvalidInput, match="Note"):
        svc.decide_time_request(rt, world.lead, "lab-a", c.id, request_id, extend=False)
    view = svc.decide_time_request(rt, world.lead, "lab-a", c.id, request_id, extend=True)
    assert view.embargo_ends_at == rt.clock.now() + timedelta(days=14)
    told = sorted(m[0] for m in mails(rt) if m[1].startswith("Embargo extended"))
    assert told == ["dan@detect.example", "leo@example.org", "tina@platform.example"]
    svc.party_request_time(rt, token(c.platform_link), reason="Holidays", until=aware(rt, days=20))
    second = svc.get_case(rt, world.lead, "lab-a", c.id).time_requests[1].id
    view = svc.decide_time_request(rt, world.lead, "lab-a", c.id, second, extend=False, note="Detector is ready.")
    assert view.embargo_ends_at == rt.clock.now() + timedelta(days=14)
    assert [m[0] for m in mails(rt) if m[1].startswith("Embargo kept")] == ["tina@platform.example"]


def test_demo_lab_has_an_open_case_with_four_parties_in_different_states(rt: Runtime) -> None:
    from releasewise.services import accounts, demo

    demo.seed_demo(rt)
    jonas = accounts.authenticate_password(rt, login="jonas", password=demo.DEMO_PASSWORD, ip="127.0.0.1")
    cases = svc.list_cases(rt, jonas, demo.DEMO_ORG_SLUG)
    assert [c.status for c in cases] == ["open"]
    case = svc.get_case(rt, jonas, demo.DEMO_ORG_SLUG, cases[0].id)
    assert sorted(p.state for p in case.parties) == ["concerns_raised", "invited", "ready", "reviewing"]
    assert [r.status for r in case.time_requests] == ["pending"]


def test_publication_when_the_tied_plan_stage_opens(world: World) -> None:
    from releasewise.store.models_plans import PlanStage, ReleasePlan

    rt = world.rt
    c = setup_case(world, invite=False)  # tied to stage "stage-1"
    now = rt.clock.now()
    with rt.write() as session:
        project_id = session.scalar(select(Project.id).where(Project.slug == "echo"))
        assert project_id is not None
        plan = ReleasePlan(org_id=session.scalar(select(DisclosureCase.org_id)), project_id=project_id,
                           status="active", created_by_id=world.lead.user_id, created_at=now, updated_at=now)
        session.add(plan)
        session.flush()
        session.add(PlanStage(plan_id=plan.id, position=0, key="stage-1", title="Stage 1", earliest_at=now,
                              steps=[], gates={}, opened_at=None))
    svc.reconcile(rt)
    assert svc.get_case(rt, world.lead, "lab-a", c.id).status == "open"
    with rt.write() as session:
        stage = session.scalars(select(PlanStage)).one()
        stage.opened_at = now
    svc.reconcile(rt)
    assert svc.get_case(rt, world.lead, "lab-a", c.id).status == "published"


def test_every_state_change_is_audited_and_late_parties_see_the_shared_thread(world: World) -> None:
    rt = world.rt
    c = setup_case(world)
    svc.add_contact(rt, world.lead, "lab-a", c.platform, name="Pat", email="pat@platform.example")
    svc.add_attachment(rt, world.lead, "lab-a", c.id, filename="eval.csv", content_type="text/csv", data=b"a,b\n")
    svc.party_set_state(rt, token(c.platform_link), "accepted")
    party_id = svc.party_view(rt, token(c.platform_link)).party_id
    svc.party_message(rt, token(c.platform_link), "question")
    msg = svc.lab_message(rt, world.lead, "lab-a", c.id, party_id=party_id, body="ANSWER-FOR-ALL")
    svc.share_message(rt, world.lead, "lab-a", c.id, msg.id)
    svc.party_request_time(rt, token(c.platform_link), reason="r", until=aware(rt, days=11))
    request_id = svc.get_case(rt, world.lead, "lab-a", c.id).time_requests[0].id
    svc.decide_time_request(rt, world.lead, "lab-a", c.id, request_id, extend=False, note="no")
    svc.extend_embargo(rt, world.lead, "lab-a", c.id, new_end=aware(rt, days=12), reason="r")
    webhook, _ = svc.add_webhook(rt, world.lead, "lab-a", url="http://127.0.0.1:9/x")
    svc.disable_webhook(rt, world.lead, "lab-a", webhook.id)
    # A party invited later sees the briefing and the shared thread once it accepts.
    late = svc.add_stakeholder(rt, world.lead, "lab-a", name="Late Newsroom", type="newsroom",
                               contacts=[("Nia", "nia@news.example", "")])
    _, pairs = svc.invite(rt, world.lead, "lab-a", c.id, stakeholder_id=late.id, respond_by=aware(rt, days=2))
    svc.party_set_state(rt, token(pairs[0][1]), "accepted")
    late_view = svc.party_view(rt, token(pairs[0][1]))
    assert [m.body for m in late_view.messages] == ["ANSWER-FOR-ALL"] and late_view.briefing_md == BRIEFING
    assert [a.filename for a in late_view.attachments] == ["eval.csv"]
    svc.set_public_summary(rt, world.lead, "lab-a", c.id, public_summary="s")
    svc.publish(rt, world.lead, "lab-a", c.id)
    actions = {e.action for e in audit.list_events(rt, world.owner, "lab-a", limit=500)}
    expected = {"stakeholder.added", "stakeholder.contact_added", "disclosure.opened", "disclosure.attachment_added",
                "disclosure.invited", "disclosure.party_state", "disclosure.party_message",
                "disclosure.message_posted", "disclosure.message_shared", "disclosure.time_requested",
                "disclosure.time_request_declined", "disclosure.extended", "disclosure.summary_set",
                "disclosure.published", "webhook.added", "webhook.disabled"}
    assert expected <= actions
    # Refusals are audited too.
    with pytest.raises(PermissionDenied):
        svc.open_case(rt, world.researcher, "lab-a", "echo", title="t", briefing_md="b",
                      embargo_ends_at=aware(rt, days=1))
    assert audit.list_events(rt, world.owner, "lab-a", limit=1)[0].action == "permission.denied"


def test_a_lead_demoted_to_viewer_stops_getting_embargoed_mail(world: World) -> None:
    from releasewise.services import orgs

    rt = world.rt
    c = setup_case(world)
    svc.party_set_state(rt, token(c.platform_link), "accepted")
    svc.party_message(rt, token(c.platform_link), "FIRST")
    orgs.change_role(rt, world.owner, "lab-a", "leo", "viewer")
    svc.party_message(rt, token(c.platform_link), "SECOND")
    to_leo = [m[2] for m in mails(rt) if m[0] == "leo@example.org"]
    assert any("FIRST" in b for b in to_leo) and not any("SECOND" in b for b in to_leo)
