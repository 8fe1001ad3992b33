"""Misuse reports, triage, incidents, actions, the plan gate and the AIID export (SQLite and PostgreSQL)."""

from __future__ import annotations

import csv
import io
import json
from datetime import timedelta, timezone
from typing import Any

import pytest
from sqlalchemy import func, select

from releasewise.clock import FrozenClock
from releasewise.domain import incidents as rules
from releasewise.errors import Conflict, InvalidInput, NotFound, PermissionDenied, RateLimited
from releasewise.services import access, audit, incidents, plans, projects
from releasewise.services.runtime import Actor, Runtime
from releasewise.store.models import AuditEvent, Project
from releasewise.store.models_incidents import Incident, MisuseReport, ReportEvidence
from tests.conftest import World, make_user
from tests.hfapi.support import gated_setup, publish, request_and_approve, set_tier

PNG = b"\x89PNG\r\n\x1a\n" + b"fake image bytes" * 10


def file_report(rt: Runtime, actor: Actor | None = None, *, ip: str = "203.0.113.5", project: str = "echo",
                org: str = "lab-a", **kw: Any) -> incidents.FiledView:
    c = incidents.challenge(rt)
    fields: dict[str, Any] = {"description": "A cloned voice of a bank CEO called customers.",
                              "harm_category": "fraud", "urls": ["https://video.example/watch?v=1"],
                              "evidence": [("call.png", "image/png", PNG)]}
    fields.update(kw)
    return incidents.submit_report(rt, actor, org, project, challenge=c.challenge,
                                   solution=rules.solve(c.challenge), ip=ip, **fields)


def advance(rt: Runtime, **delta: float) -> None:
    assert isinstance(rt.clock, FrozenClock)
    rt.clock.advance(**delta)


def counts(rt: Runtime) -> tuple[int, int, int]:
    with rt.read() as s:
        return (s.scalar(select(func.count()).select_from(MisuseReport)) or 0,
                s.scalar(select(func.count()).select_from(ReportEvidence)) or 0,
                s.scalar(select(func.count()).select_from(AuditEvent)) or 0)


def released(world: World) -> World:
    """Echo (lab-a) and Secret (lab-b) have each released an asset outside the lab; reports are easy to solve."""
    world.rt.settings.report_pow_bits = 6
    set_tier(world.rt, "vetted_researchers")
    projects.create_asset(world.rt, world.outsider, "lab-b", "secret", name="Demo", kind="demo")
    set_tier(world.rt, "public", asset_slug="demo")
    return world


@pytest.fixture
def w(world: World) -> World:
    return released(world)


def test_anonymous_report_gets_a_private_expiring_followup_link(w: World) -> None:
    filed = file_report(w.rt, contact="Whistle@Example.org")
    assert len(filed.followup_token) >= 40
    view = incidents.followup(w.rt, filed.followup_token)
    assert (view.status, view.project_name, view.evidence_files) == ("new", "Echo", 1)
    assert "olivia" not in repr(view) and "leo" not in repr(view)
    with w.rt.read() as s:  # only the digest is stored
        row = s.scalars(select(MisuseReport)).one()
        assert row.followup_digest != filed.followup_token and len(row.followup_digest or "") == 64
        assert filed.followup_token not in json.dumps([e.summary for e in s.scalars(select(AuditEvent))])
        assert row.ip_digest != "203.0.113.5"
    with pytest.raises(NotFound, match="not valid"):
        incidents.followup(w.rt, filed.followup_token[:-2] + "xx")
    advance(w.rt, days=w.rt.settings.report_followup_days + 1)
    with pytest.raises(NotFound, match="expired"):
        incidents.followup(w.rt, filed.followup_token)
    event = audit.list_events(w.rt, w.owner, "lab-a", action_prefix="report.filed")[0]
    assert event.actor == incidents.ANONYMOUS_LABEL and event.summary["anonymous"] is True


def test_reporters_and_evidence_are_seen_only_by_responders(w: World) -> None:
    filed = file_report(w.rt, w.outsider, contact="oscar@example.org")
    queue = incidents.list_reports(w.rt, w.lead, "lab-a")
    assert [(r.id, r.reporter, r.reporter_contact) for r in queue] == [
        (filed.report_id, "oscar", "oscar@example.org")]
    ev = queue[0].evidence[0]
    view, data = incidents.get_evidence(w.rt, w.owner, "lab-a", filed.report_id, ev.id)
    assert data == PNG and view.content_type == "image/png"
    # stored under <data dir>/evidence, apart from registry blobs
    assert (w.rt.settings.data_dir / "evidence").is_dir() and not (w.rt.settings.data_dir / "blobs").exists()
    for member in (w.researcher, w.reviewer, w.viewer):
        with pytest.raises(PermissionDenied):
            incidents.list_reports(w.rt, member, "lab-a")
        with pytest.raises(PermissionDenied):
            incidents.get_evidence(w.rt, member, "lab-a", filed.report_id, ev.id)
    # the reporter (a member of another org) cannot read the queue or the evidence back
    with pytest.raises(NotFound):
        incidents.get_report(w.rt, w.outsider, "lab-a", filed.report_id)
    with pytest.raises(NotFound):  # another org's responders never see it either
        incidents.get_report(w.rt, w.outsider, "lab-b", filed.report_id)
    with pytest.raises(NotFound):
        incidents.get_evidence(w.rt, w.lead, "lab-a", filed.report_id, ev.id + 99)
    assert audit.list_events(w.rt, w.owner, "lab-a", action_prefix="report.evidence_viewed")


def test_malformed_reports_and_oversized_evidence_change_nothing(w: World) -> None:
    before = counts(w.rt)
    too_big = b"x" * (w.rt.settings.report_max_evidence_bytes + 1)
    cases: list[tuple[dict[str, Any], type[Exception], str]] = [
        ({"description": "  "}, InvalidInput, "must not be empty"),
        ({"harm_category": "spam"}, InvalidInput, "Unknown harm category"),
        ({"urls": ["javascript:alert(1)"]}, InvalidInput, "not a web address"),
        ({"urls": [f"https://x.example/{i}" for i in range(21)]}, InvalidInput, "At most 20 URLs"),
        ({"evidence": [("big.png", "image/png", too_big)]}, rules.EvidenceTooLarge, "limit is"),
        ({"evidence": [("run.exe", "application/x-msdownload", b"MZ")]}, InvalidInput, "Windows executable"),
        ({"evidence": [("../x.png", "image/png", PNG)]}, InvalidInput, "without slashes"),
        ({"evidence": [("e.png", "image/png", b"")]}, InvalidInput, "empty"),
        ({"evidence": [(f"{i}.png", "image/png", PNG) for i in range(6)]}, InvalidInput, "At most 5"),
        ({"contact": "not-an-email"}, InvalidInput, "valid email"),
        ({"observed_at": w.rt.clock.now() + timedelta(days=3)}, InvalidInput, "future"),
        ({"project": "nope"}, NotFound, "nope"),
        ({"org": "no-such-org"}, NotFound, "accepts misuse reports"),
    ]
    for kw, error, message in cases:
        with pytest.raises(error, match=message):
            file_report(w.rt, **kw)
    assert rules.EvidenceTooLarge.status_code == 413
    c = incidents.challenge(w.rt)
    good = rules.solve(c.challenge)
    base: dict[str, Any] = {"description": "x", "harm_category": "fraud", "ip": "198.51.100.1"}
    bad_pow = [(c.challenge, str(int(good) + 1) if not rules.solves(c.challenge, str(int(good) + 1), c.bits)
                else "nope", "does not solve"),
               (c.challenge[:-4] + "0000", good, "not issued by this server"),
               ("1.2.3", "0", "Malformed")]
    for challenge, solution, message in bad_pow:
        with pytest.raises(InvalidInput, match=message):
            incidents.submit_report(w.rt, None, "lab-a", "echo", challenge=challenge, solution=solution, **base)
    advance(w.rt, minutes=11)
    with pytest.raises(InvalidInput, match="expired"):
        incidents.submit_report(w.rt, None, "lab-a", "echo", challenge=c.challenge, solution=good, **base)
    assert counts(w.rt) == before
    # a solved challenge is good for one report only
    c = incidents.challenge(w.rt)
    good = rules.solve(c.challenge)
    incidents.submit_report(w.rt, None, "lab-a", "echo", challenge=c.challenge, solution=good, **base)
    with pytest.raises(InvalidInput, match="already used"):
        incidents.submit_report(w.rt, None, "lab-a", "echo", challenge=c.challenge, solution=good, **base)
    assert counts(w.rt)[0] == before[0] + 1


def test_unreleased_projects_do_not_exist_for_reporters(world: World) -> None:
    """A project that never left the lab answers exactly like one that does not exist."""
    world.rt.settings.report_pow_bits = 6
    messages = []
    for org, project in (("lab-a", "echo"), ("lab-a", "nope"), ("nope", "echo")):
        with pytest.raises(NotFound) as caught:
            incidents.report_target(world.rt, org, project)
        messages.append(caught.value.message.replace(f"'{org}/{project}'", "X"))
        with pytest.raises(NotFound):
            file_report(world.rt, org=org, project=project)
    assert len(set(messages)) == 1 and "Lab A" not in messages[0] and "Echo" not in messages[0]
    set_tier(world.rt, "trusted_partners")
    assert incidents.report_target(world.rt, "lab-a", "echo").project_name == "Echo"
    set_tier(world.rt, "team")  # narrowed again: reports about what already left the lab still come in
    with world.rt.write() as s:
        from sqlalchemy import update

        from releasewise.store.models import Asset
        s.execute(update(Asset).values(high_water_tier="trusted_partners"))
    assert file_report(world.rt).report_id


def test_reports_are_rate_limited_per_ip(w: World) -> None:
    limit = w.rt.settings.report_max_per_ip_per_hour
    for _ in range(limit):
        file_report(w.rt, evidence=[])
    with pytest.raises(RateLimited):
        file_report(w.rt, evidence=[])
    refused = audit.list_events(w.rt, w.owner, "lab-a", action_prefix="report.rate_limited")
    assert [(e.actor, e.target_id) for e in refused] == [(incidents.ANONYMOUS_LABEL, "echo")]
    file_report(w.rt, evidence=[], ip="192.0.2.77")  # another address is not held back
    advance(w.rt, minutes=61)
    file_report(w.rt, evidence=[])
    assert counts(w.rt)[0] == limit + 2


def _plan(w: World) -> None:
    at = (w.rt.clock.now() + timedelta(days=1)).replace(tzinfo=timezone.utc).isoformat()
    plans.apply_plan(w.rt, w.lead, "lab-a", "echo", {"stages": [
        {"key": "wide", "title": "Weights to researchers", "earliest": at,
         "steps": ["weights-1b:registered"], "gates": {"max_open_incident_severity": 3}}]})


def test_triage_merge_incident_actions_and_the_plan_gate(w: World) -> None:
    publish(w.rt, w.researcher, {"w.bin": b"weights"})
    gated_setup(w.rt, w.lead)
    grantee = make_user(w.rt, "gina")
    grant_id = request_and_approve(w.rt, grantee, w.lead)
    _plan(w)
    first, second, third = (file_report(w.rt, ip=f"192.0.2.{i}") for i in range(3))
    # the state machine, with clear refusals
    r = incidents.triage(w.rt, w.lead, "lab-a", first.report_id, status="triaged", severity=4)
    assert (r.status, r.severity, r.next_statuses) == ("triaged", 4, ("confirmed", "not_misuse", "duplicate"))
    with pytest.raises(Conflict, match="cannot become resolved"):
        incidents.triage(w.rt, w.lead, "lab-a", first.report_id, status="resolved")
    for bad in ({"severity": 0}, {"severity": 6}, {"status": "closed"}, {}):
        with pytest.raises(InvalidInput):
            incidents.triage(w.rt, w.lead, "lab-a", first.report_id, **bad)  # type: ignore[arg-type]
    with pytest.raises(PermissionDenied):
        incidents.triage(w.rt, w.researcher, "lab-a", first.report_id, status="triaged")
    # one incident from a report; a duplicate merged into it follows; a second report is linked
    incident = incidents.open_incident(w.rt, w.lead, "lab-a", report_ids=[first.report_id],
                                       title="Voice clone scam calls", severity=4, description="Bank CEO clone.")
    merged = incidents.merge_duplicate(w.rt, w.lead, "lab-a", second.report_id, duplicate_of=first.report_id)
    assert (merged.status, merged.duplicate_of_id, merged.incident_id) == ("duplicate", first.report_id, incident.id)
    with pytest.raises(InvalidInput, match="itself"):
        incidents.merge_duplicate(w.rt, w.lead, "lab-a", first.report_id, duplicate_of=first.report_id)
    incident = incidents.link_report(w.rt, w.lead, "lab-a", incident.id, third.report_id)
    assert [(r.id, r.status) for r in incident.reports] == [
        (first.report_id, "confirmed"), (second.report_id, "duplicate"), (third.report_id, "confirmed")]
    with pytest.raises(Conflict, match="already part"):
        incidents.link_report(w.rt, w.lead, "lab-a", incident.id, third.report_id)
    # the plan gate reads open incidents
    with w.rt.read() as s:
        project_id = s.scalar(select(Project.id).where(Project.slug == "echo"))
        assert project_id is not None
        assert plans.open_incident_severities(s, project_id) == [4]
    stage = plans.get_plan(w.rt, w.lead, "lab-a", "echo").stages[0]
    assert any("severity ≥ 3" in g.detail for g in stage.holding_gates), stage.gate_results
    # one-click actions, each through the owning service, each recorded and audited
    choices = incidents.action_choices(w.rt, w.lead, "lab-a", incident.id)
    assert [g.id for g in choices.grants] == [grant_id] and choices.plan_status == "active"
    assert ("weights-1b", "vetted_researchers", ("team", "reviewers", "trusted_partners")) in choices.assets
    with pytest.raises(InvalidInput, match="only narrow"):
        incidents.narrow_tier(w.rt, w.lead, "lab-a", incident.id, "weights-1b", "public", reason="x")
    incidents.narrow_tier(w.rt, w.lead, "lab-a", incident.id, "weights-1b", "trusted_partners", reason="Contain.")
    incidents.revoke_grant(w.rt, w.lead, "lab-a", incident.id, grant_id, reason="Watermark traced to this grant.")
    incident = incidents.pause_plan(w.rt, w.lead, "lab-a", incident.id, reason="Hold the next stage.")
    assert [a.kind for a in incident.actions] == ["tier_narrowed", "grant_revoked", "plan_paused"]
    assert incident.actions[0].target == "weights-1b: vetted_researchers → trusted_partners"
    assert {g.id: g.status for g in access.list_grants(w.rt, w.lead, "lab-a")}[grant_id] == "revoked"
    assert plans.get_plan(w.rt, w.lead, "lab-a", "echo").status == "paused"
    assert [a.current_tier for a in projects.list_assets(w.rt, w.lead, "lab-a", "echo")] == ["trusted_partners"]
    with pytest.raises(NotFound):
        incidents.revoke_grant(w.rt, w.lead, "lab-a", incident.id, grant_id + 1000, reason="x")
    with pytest.raises(PermissionDenied):
        incidents.pause_plan(w.rt, w.researcher, "lab-a", incident.id, reason="x")
    actions = {e.action for e in audit.list_events(w.rt, w.owner, "lab-a", limit=200)}
    assert {"report.triaged", "report.merged", "incident.opened", "incident.report_linked", "incident.action",
            "asset.tier_narrowed", "access.revoked", "plan.paused"} <= actions
    # resolving closes the gate input and resolves its reports
    incident = incidents.update_incident(w.rt, w.lead, "lab-a", incident.id, resolve=True, note="Contained.")
    assert incident.status == "resolved" and {r.status for r in incident.reports} == {"resolved"}
    with w.rt.read() as s:
        assert plans.open_incident_severities(s, project_id) == []
    with pytest.raises(Conflict, match="resolved"):
        incidents.pause_plan(w.rt, w.lead, "lab-a", incident.id, reason="x")


def test_incidents_are_invisible_across_orgs_and_roles(w: World) -> None:
    filed = file_report(w.rt)
    incident = incidents.open_incident(w.rt, w.lead, "lab-a", report_ids=[filed.report_id], title="T", severity=2)
    other = file_report(w.rt, org="lab-b", project="secret", ip="192.0.2.200")
    for call in (lambda: incidents.get_incident(w.rt, w.outsider, "lab-a", incident.id),
                 lambda: incidents.get_incident(w.rt, w.outsider, "lab-b", incident.id),
                 lambda: incidents.link_report(w.rt, w.lead, "lab-a", incident.id, other.report_id),
                 lambda: incidents.open_incident(w.rt, w.outsider, "lab-b", report_ids=[filed.report_id],
                                                 title="x", severity=1)):
        with pytest.raises(NotFound):
            call()
    for member in (w.researcher, w.reviewer, w.viewer):
        with pytest.raises(PermissionDenied):
            incidents.get_incident(w.rt, member, "lab-a", incident.id)
    with pytest.raises(InvalidInput):
        incidents.open_incident(w.rt, w.lead, "lab-a", report_ids=[], title="x", severity=1)
    with w.rt.read() as s:
        assert s.scalar(select(func.count()).select_from(Incident)) == 1


def test_export_to_aiid_fields_without_reporters(w: World) -> None:
    filed = file_report(w.rt, w.outsider, contact="oscar@example.org",
                        urls=["https://video.example/a", "https://social.example/b"])
    incidents.open_incident(w.rt, w.lead, "lab-a", report_ids=[filed.report_id], title="=HYPERLINK scam",
                            severity=3, description="Cloned voice used in calls.")
    kind, body = incidents.export(w.rt, w.lead, "lab-a", "json")
    rows = json.loads(body)
    assert kind == "application/json" and len(rows) == 1 and set(rows[0]) == set(incidents.AIID_FIELDS)
    assert rows[0]["url"] == "https://video.example/a" and rows[0]["source_domain"] == "video.example"
    assert rows[0]["developers"] == "Lab A" and rows[0]["implicated_systems"] == "Echo"
    kind, body = incidents.export(w.rt, w.lead, "lab-a", "csv")
    parsed = list(csv.DictReader(io.StringIO(body)))
    assert parsed[0]["title"] == "'=HYPERLINK scam"  # no formula injection in spreadsheets
    for text in (body, json.dumps(rows)):
        assert "oscar" not in text and "PNG" not in text
    with pytest.raises(InvalidInput):
        incidents.export(w.rt, w.lead, "lab-a", "xml")
    with pytest.raises(PermissionDenied):
        incidents.export(w.rt, w.viewer, "lab-a", "json")
    dash = incidents.dashboard(w.rt, w.lead, "lab-a")
    assert dash.open_reports_by_age["under 1 day"] == 1 and dash.open_incidents_by_severity[3] == 1


def test_disclosure_partners_are_notified_without_reporter_details(w: World) -> None:
    from tests.services.test_disclosure import mails, setup_case, token
    from releasewise.services import disclosure

    filed = file_report(w.rt, w.outsider, contact="oscar@example.org")
    incident = incidents.open_incident(w.rt, w.lead, "lab-a", report_ids=[filed.report_id], title="Clone scam",
                                       severity=4)
    with pytest.raises(Conflict, match="no disclosure partners"):
        incidents.notify_partners(w.rt, w.lead, "lab-a", incident.id, message="Watch for cloned CEO voices.")
    case = setup_case(w)
    disclosure.party_set_state(w.rt, token(case.platform_link), "accepted")
    with pytest.raises(InvalidInput):
        incidents.notify_partners(w.rt, w.lead, "lab-a", incident.id, message=" ")
    with pytest.raises(PermissionDenied):
        incidents.notify_partners(w.rt, w.researcher, "lab-a", incident.id, message="x")
    view = incidents.notify_partners(w.rt, w.lead, "lab-a", incident.id, message="Watch for cloned CEO voices.")
    assert view.actions[-1].kind == "partners_notified" and view.actions[-1].target == "2 parties in 1 disclosure case(s)"
    sent = [m for m in mails(w.rt) if "Misuse incident" in m[2]]
    assert [m[0] for m in sent] == ["tina@platform.example"]  # the party that accepted the embargo is emailed
    assert "Clone scam" in sent[0][2] and "severity 4/5" in sent[0][2]
    assert "oscar" not in sent[0][2]
    party = disclosure.party_view(w.rt, token(case.detector_link))  # the other sees it in its private thread
    assert party.state == "invited"
