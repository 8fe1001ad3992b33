"""The private thread between an organisation's responders and the person who reported misuse (issue 9).

Responders often need one more detail (the exact time, another link, the original file) and the
reporter often wants to know what happened; both sides write into one thread per report.

* A responder's message reaches the reporter on their private follow-up page (while the link
  lasts) and, when the reporter left an address (signed-in reporters have one, anonymous ones
  may give a contact), by email through the outbox. The reporter sees the organisation's name,
  never which responder wrote.
* The reporter replies through the follow-up link (the API takes its secret in
  ``X-Report-Token``), with more evidence if they like, checked like evidence at filing. Replies
  name no one: whoever holds the link is "the reporter"; who filed the report stays visible only to
  responders, on the report. Every responder hears of a reply by email, without its text or files
  (those stay behind sign-in).
* Messages are audited (who sent which message, how many characters, files and emails; never the
  text, which may identify the reporter, nor the link secret, which is only ever stored as a digest).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from releasewise.domain import incidents as rules
from releasewise.domain.roles import ROLE_PERMISSIONS, Action
from releasewise.domain.validation import clean_text
from releasewise.errors import Conflict, InvalidInput, RateLimited
from releasewise.services import outbox
from releasewise.services.audit import append_event, record
from releasewise.services.authz import authorize
from releasewise.services.incidents import (
    EvidenceView, FollowupView, evidence_views, followup, load_report, report_for_link, store_evidence)
from releasewise.services.runtime import Actor, Runtime
from releasewise.store.models import Membership, Organization, Project, User
from releasewise.store.models_incidents import MisuseReport, ReportEvidence, ReportMessage

RESPONDER = "responder"
REPORTER = "reporter"
REPORTER_LABEL = "reporter (follow-up link)"
MAX_MESSAGE_CHARS = 5000


@dataclass(frozen=True)
class MessageView:
    id: int
    sender: str  # "responder" or "reporter"
    author: str  # responders see who wrote; the reporter sees the organisation's name or "you"
    body: str
    evidence: tuple[EvidenceView, ...]
    emailed: int
    created_at: datetime


@dataclass(frozen=True)
class ReporterThreadView:
    """What the follow-up page shows: the report's status and the thread."""

    report: FollowupView
    messages: tuple[MessageView, ...]
    evidence_left: int  # how many more evidence files the report may still take
    replies_left_today: int


def _evidence_by_id(session: Session, report_id: int) -> dict[int, EvidenceView]:
    return {e.id: e for e in evidence_views(session, report_id)}


def _messages(session: Session, report: MisuseReport, *, for_reporter: bool, org_name: str,
              ) -> tuple[MessageView, ...]:
    evidence = _evidence_by_id(session, report.id)
    rows = session.scalars(select(ReportMessage).where(ReportMessage.report_id == report.id)
                           .order_by(ReportMessage.id))
    views = []
    for m in rows:
        if for_reporter:
            author = org_name if m.sender == RESPONDER else "you"
        else:
            author = m.author_label if m.sender == RESPONDER else "reporter"
        views.append(MessageView(m.id, m.sender, author, m.body,
                                 tuple(evidence[i] for i in m.evidence_ids if i in evidence),
                                 0 if for_reporter else m.emailed, m.created_at))
    return tuple(views)


def _reporter_addresses(session: Session, report: MisuseReport) -> list[str]:
    """Where a responder's message may be emailed: the reporter's account address and the contact they gave."""
    addresses = []
    if report.reporter_user_id is not None:
        user = session.get(User, report.reporter_user_id)
        if user is not None and user.email:
            addresses.append(user.email.lower())
    if report.reporter_contact and report.reporter_contact.lower() not in addresses:
        addresses.append(report.reporter_contact.lower())
    return addresses


# Responders ----------------------------------------------------------------------------------------

def thread(rt: Runtime, actor: Actor, org_slug: str, report_id: int) -> tuple[MessageView, ...]:
    """The whole thread of a report, for its organisation's responders."""
    with rt.read() as session:
        org, _ = authorize(session, actor, org_slug, Action.report_view)
        report = load_report(session, org, report_id)
        return _messages(session, report, for_reporter=False, org_name=org.name)


def send_to_reporter(rt: Runtime, actor: Actor, org_slug: str, report_id: int, *, body: str) -> MessageView:
    """Write to the reporter: on their follow-up page while the link lasts, and by email where they left one.

    Refused (Conflict) when neither can reach them, so a responder never writes into the void.
    """
    body = clean_text(body, "Message", max_length=MAX_MESSAGE_CHARS)
    now = rt.clock.now()
    with rt.write() as session:
        org, _ = authorize(session, actor, org_slug, Action.report_message)
        report = load_report(session, org, report_id)
        link_open = report.followup_expires_at is not None and report.followup_expires_at > now
        addresses = _reporter_addresses(session, report)
        if not link_open and not addresses:
            raise Conflict(f"The reporter of #{report.id} cannot be reached: their follow-up link expired and "
                           "they left no email address.")
        message = ReportMessage(report_id=report.id, sender=RESPONDER, author_user_id=actor.user_id,
                                author_label=actor.username[:100], body=body, evidence_ids=[],
                                emailed=len(addresses), created_at=now)
        session.add(message)
        session.flush()
        project = session.get(Project, report.project_id)
        assert project is not None
        reply_hint = (f"Reply through the private follow-up link you received when you filed the report; it "
                      f"works until {report.followup_expires_at:%Y-%m-%d %H:%M} UTC."
                      if link_open and report.followup_expires_at else
                      "Your follow-up link has expired; to add anything, file a new report.")
        for n, address in enumerate(addresses):
            outbox.enqueue(session, rt, key=f"report-{report.id}-message-{message.id}-to-{n}", recipient=address,
                           subject=f"About your misuse report #{report.id} ({project.name}, {org.name})",
                           body=f"{org.name} wrote about the misuse report you filed on "
                                f"{report.created_at:%Y-%m-%d}:\n\n{body}\n\n{reply_hint}\n"
                                "We never send the link itself by email.\n")
        record(session, rt, actor, org.id, "report.message_sent", "misuse_report", report.id,
               {"message": message.id, "chars": len(body), "emailed": len(addresses), "on_followup_page": link_open})
        return _messages(session, report, for_reporter=False, org_name=org.name)[-1]


# The reporter (through the follow-up link) -----------------------------------------------------------

def _replies_today(session: Session, report_id: int, now: datetime) -> int:
    return session.scalar(select(func.count()).select_from(ReportMessage).where(
        ReportMessage.report_id == report_id, ReportMessage.sender == REPORTER,
        ReportMessage.created_at >= now - timedelta(days=1))) or 0


def _evidence_count(session: Session, report_id: int) -> int:
    return session.scalar(select(func.count()).select_from(ReportEvidence)
                          .where(ReportEvidence.report_id == report_id)) or 0


def reporter_thread(rt: Runtime, raw: str) -> ReporterThreadView:
    """The follow-up page: status and the thread, with responders shown as the organisation."""
    view = followup(rt, raw)  # NotFound when the link is unknown or expired
    now = rt.clock.now()
    with rt.read() as session:
        report = report_for_link(session, raw, now)
        org = session.get(Organization, report.org_id)
        assert org is not None
        return ReporterThreadView(
            view, _messages(session, report, for_reporter=True, org_name=org.name),
            max(0, rules.MAX_REPORT_EVIDENCE_FILES - _evidence_count(session, report.id)),
            max(0, rules.MAX_REPLIES_PER_DAY - _replies_today(session, report.id, now)))


def reply_as_reporter(rt: Runtime, raw: str, *, body: str, evidence: list[tuple[str, str, bytes]] | None = None,
                      ) -> MessageView:
    """The reporter answers (and may add evidence) until the link expires; every responder is told."""
    body = clean_text(body, "Message", max_length=MAX_MESSAGE_CHARS)
    files = rules.check_evidence(list(evidence or []), rt.settings.report_max_evidence_bytes)
    now = rt.clock.now()
    with rt.write() as session:
        report = report_for_link(session, raw, now)
        if _replies_today(session, report.id, now) >= rules.MAX_REPLIES_PER_DAY:
            raise RateLimited(f"At most {rules.MAX_REPLIES_PER_DAY} replies a day on one report; try again "
                              "tomorrow.", retry_after_seconds=3600)
        held = _evidence_count(session, report.id)
        if held + len(files) > rules.MAX_REPORT_EVIDENCE_FILES:
            raise InvalidInput(f"A report holds at most {rules.MAX_REPORT_EVIDENCE_FILES} evidence files; this one "
                               f"has {held}, so you can add {max(0, rules.MAX_REPORT_EVIDENCE_FILES - held)} more.",
                               field="evidence")
        evidence_ids = store_evidence(rt, session, report, files, now)
        message = ReportMessage(report_id=report.id, sender=REPORTER, author_user_id=None,
                                author_label=REPORTER_LABEL, body=body, evidence_ids=evidence_ids, emailed=0,
                                created_at=now)
        session.add(message)
        report.updated_at = now
        session.flush()
        org = session.get(Organization, report.org_id)
        project = session.get(Project, report.project_id)
        assert org is not None and project is not None
        message.emailed = _tell_responders(session, rt, org, project, report, message.id, len(evidence_ids))
        append_event(session, now, org_id=org.id, actor_user_id=None, actor_label=REPORTER_LABEL,
                     action="report.reporter_replied", target_type="misuse_report", target_id=report.id,
                     summary={"message": message.id, "chars": len(body), "evidence_files": len(evidence_ids)})
        return _messages(session, report, for_reporter=True, org_name=org.name)[-1]


def _tell_responders(session: Session, rt: Runtime, org: Organization, project: Project, report: MisuseReport,
                     message_id: int, files: int) -> int:
    """Email every responder that the reporter replied; the text and files stay behind sign-in."""
    responders = session.scalars(select(User).join(Membership, Membership.user_id == User.id).where(
        Membership.org_id == org.id,
        Membership.role.in_([r.value for r in ROLE_PERMISSIONS[Action.report_view]]))).all()
    link = f"{rt.settings.base_url.rstrip('/')}/orgs/{org.slug}/reports/{report.id}#thread"
    extra = f" and {files} new evidence file(s)" if files else ""
    for user in responders:
        outbox.enqueue(session, rt, key=f"report-{report.id}-reply-{message_id}-to-{user.id}", recipient=user.email,
                       subject=f"The reporter of misuse report #{report.id} replied ({project.name})",
                       body=f"The reporter of misuse report #{report.id} about {project.name} sent a message{extra}.\n"
                            f"Read it (signed in) at {link}\n")
    return len(responders)

