"""The two-way thread between responders and reporters (SQLite and PostgreSQL)."""

from __future__ import annotations

import json

import pytest
from sqlalchemy import select

from releasewise.domain import incidents as rules
from releasewise.errors import Conflict, InvalidInput, NotFound, PermissionDenied, RateLimited
from releasewise.notify.mail import MemoryMailer
from releasewise.services import audit, incidents, outbox
from releasewise.services import report_messages as msgs
from releasewise.store.models import AuditEvent
from releasewise.store.models_incidents import ReportMessage
from tests.conftest import World
from tests.services.test_incidents import PNG, advance, file_report, released

WAV = b"RIFF\x24\x00\x00\x00WAVEfmt more audio"


@pytest.fixture
def w(world: World) -> World:
    return released(world)


def sent(w: World) -> list[tuple[str, str, str]]:
    outbox.deliver_pending(w.rt)
    mailer = w.rt.mailer
    assert isinstance(mailer, MemoryMailer)
    return [(m.recipient, m.subject, m.body) for m in mailer.sent]


def test_an_anonymous_reporter_and_the_responders_talk_through_the_followup_link(w: World) -> None:
    filed = file_report(w.rt)
    token = filed.followup_token
    asked = msgs.send_to_reporter(w.rt, w.lead, "lab-a", filed.report_id,
                                  body="Which phone number called you, and when?")
    assert (asked.sender, asked.author, asked.emailed) == ("responder", "leo", 0)  # no address to email
    seen = msgs.reporter_thread(w.rt, token)
    assert [(m.sender, m.author, m.body) for m in seen.messages] == [
        ("responder", "Lab A", "Which phone number called you, and when?")]  # the org, never the responder
    assert "leo" not in repr(seen) and "olivia" not in repr(seen)
    assert seen.evidence_left == rules.MAX_REPORT_EVIDENCE_FILES - 1 and seen.report.status == "new"

    before = len(sent(w))
    reply = msgs.reply_as_reporter(w.rt, token, body="+1 555 0100, at 09:12 UTC. The recording is attached.",
                                   evidence=[("call-2.wav", "application/octet-stream", WAV)])
    assert (reply.sender, reply.author) == ("reporter", "you") and reply.evidence[0].content_type == "audio/wav"
    thread = msgs.thread(w.rt, w.owner, "lab-a", filed.report_id)
    assert [(m.sender, m.author) for m in thread] == [("responder", "leo"), ("reporter", "reporter")]
    # the reply's evidence joins the report, for responders only, and the responders are told (without the text)
    report = incidents.get_report(w.rt, w.lead, "lab-a", filed.report_id)
    assert [e.filename for e in report.evidence] == ["call.png", "call-2.wav"]
    _, data = incidents.get_evidence(w.rt, w.lead, "lab-a", filed.report_id, thread[1].evidence[0].id)
    assert data == WAV
    told = sent(w)[before:]
    assert {r for r, _, _ in told} == {"olivia@example.org", "leo@example.org"}
    assert all("replied" in s and "555" not in b and f"/reports/{filed.report_id}" in b for _, s, b in told)

    # audited without the text or the link secret
    events = audit.list_events(w.rt, w.owner, "lab-a", action_prefix="report.")
    actions = {e.action: e for e in events}
    assert actions["report.message_sent"].summary["chars"] == len("Which phone number called you, and when?")
    assert actions["report.reporter_replied"].actor == msgs.REPORTER_LABEL
    assert actions["report.reporter_replied"].summary["evidence_files"] == 1
    with w.rt.read() as s:
        chain = json.dumps([e.summary for e in s.scalars(select(AuditEvent))])
    assert token not in chain and "555 0100" not in chain and "phone number" not in chain


def test_signed_in_reporters_and_given_contacts_also_get_the_message_by_email(w: World) -> None:
    filed = file_report(w.rt, w.outsider, contact="oscar.private@example.net")
    message = msgs.send_to_reporter(w.rt, w.lead, "lab-a", filed.report_id, body="Thank you; we revoked access.")
    assert message.emailed == 2
    mails = [m for m in sent(w) if "About your misuse report" in m[1]]
    assert {r for r, _, _ in mails} == {"oscar@example.org", "oscar.private@example.net"}
    body = mails[0][2]
    assert "Thank you; we revoked access." in body and "Lab A" in body and "leo" not in body
    assert filed.followup_token not in body  # the link is never emailed
    # once the link expired, email still reaches a signed-in reporter; without any address, nothing is sent
    advance(w.rt, days=w.rt.settings.report_followup_days + 1)
    assert msgs.send_to_reporter(w.rt, w.lead, "lab-a", filed.report_id, body="Resolved.").emailed == 2
    anonymous = file_report(w.rt, ip="198.51.100.7")
    advance(w.rt, days=w.rt.settings.report_followup_days + 1)
    with pytest.raises(Conflict, match="cannot be reached"):
        msgs.send_to_reporter(w.rt, w.lead, "lab-a", anonymous.report_id, body="Hello?")


def test_only_responders_write_and_read_the_thread(w: World) -> None:
    filed = file_report(w.rt, w.outsider)
    for member in (w.researcher, w.reviewer, w.viewer):
        with pytest.raises(PermissionDenied):
            msgs.send_to_reporter(w.rt, member, "lab-a", filed.report_id, body="hi")
        with pytest.raises(PermissionDenied):
            msgs.thread(w.rt, member, "lab-a", filed.report_id)
    with pytest.raises(NotFound):  # the reporter's own account does not open the thread, nor another org
        msgs.thread(w.rt, w.outsider, "lab-a", filed.report_id)
    with pytest.raises(NotFound):
        msgs.send_to_reporter(w.rt, w.outsider, "lab-b", filed.report_id, body="hi")
    with pytest.raises(InvalidInput):
        msgs.send_to_reporter(w.rt, w.lead, "lab-a", filed.report_id, body="   ")
    with pytest.raises(NotFound):
        msgs.send_to_reporter(w.rt, w.lead, "lab-a", filed.report_id + 99, body="hi")


def test_replies_keep_the_evidence_rules_and_stop_when_the_link_expires(w: World) -> None:
    filed = file_report(w.rt)
    token = filed.followup_token
    with pytest.raises(InvalidInput, match="Windows executable"):
        msgs.reply_as_reporter(w.rt, token, body="see file", evidence=[("x.png", "image/png", b"MZ\x90\x00")])
    with pytest.raises(InvalidInput, match="sent as image/jpeg"):
        msgs.reply_as_reporter(w.rt, token, body="see file", evidence=[("x.jpg", "image/jpeg", PNG)])
    with pytest.raises(rules.EvidenceTooLarge):
        msgs.reply_as_reporter(w.rt, token, body="big", evidence=[
            ("x.png", "image/png", PNG + b"0" * w.rt.settings.report_max_evidence_bytes)])
    with pytest.raises(InvalidInput, match="At most 5"):
        msgs.reply_as_reporter(w.rt, token, body="many", evidence=[(f"{i}.png", "image/png", PNG) for i in range(6)])
    with pytest.raises(NotFound, match="not valid"):
        msgs.reply_as_reporter(w.rt, token[:-3] + "abc", body="guess")
    with w.rt.read() as s:
        assert s.scalars(select(ReportMessage)).all() == []  # nothing was stored
    # the report as a whole holds at most MAX_REPORT_EVIDENCE_FILES files
    for _ in range(3):
        msgs.reply_as_reporter(w.rt, token, body="more", evidence=[(f"{i}.png", "image/png", PNG + bytes([i]))
                                                                   for i in range(5)])
    msgs.reply_as_reporter(w.rt, token, body="last ones", evidence=[(f"{i}.png", "image/png", PNG + b"x" + bytes([i]))
                                                                    for i in range(3)])
    assert msgs.reporter_thread(w.rt, token).evidence_left == 1
    with pytest.raises(InvalidInput, match="you can add 1 more"):
        msgs.reply_as_reporter(w.rt, token, body="more", evidence=[("a.png", "image/png", PNG), ("b.png", "image/png",
                                                                                              PNG + b"b")])
    for _ in range(rules.MAX_REPLIES_PER_DAY - 4):
        msgs.reply_as_reporter(w.rt, token, body="still here")
    with pytest.raises(RateLimited):
        msgs.reply_as_reporter(w.rt, token, body="one too many")
    advance(w.rt, days=w.rt.settings.report_followup_days + 1)
    with pytest.raises(NotFound, match="expired"):
        msgs.reply_as_reporter(w.rt, token, body="late")
    with pytest.raises(NotFound, match="expired"):
        msgs.reporter_thread(w.rt, token)
