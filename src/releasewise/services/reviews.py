"""Expert review (FRAMEWORK.md §5, §7.1): the reviewer pool, review requests,
conflict-of-interest declarations, votes, and closing a review with a decision."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from releasewise.domain import decisions as rules
from releasewise.domain.roles import Action, Role
from releasewise.domain.validation import clean_email, clean_text
from releasewise.errors import Conflict, InvalidInput, NotFound, PermissionDenied
from releasewise.services import orgs, outbox
from releasewise.services.assessments import load_policy
from releasewise.services.audit import record
from releasewise.services.authz import authorize, load_membership
from releasewise.services.projects import asset_slugs, load_project
from releasewise.services.runtime import Actor, Runtime
from releasewise.store.models import Membership, Organization, Project, User
from releasewise.store.models_assessment import (
    AssessmentRow,
    AssessmentVersion,
    DecisionRow,
    ReviewAssignment,
    ReviewerPoolEntry,
    ReviewRequest,
)

EXPERTISE_TAGS = ("security", "fraud", "disinformation", "child_safety", "privacy", "harassment", "elections",
                  "law", "ethics", "audio", "image", "video", "text", "ml")
# Which expertise a scenario's goal calls for (used to suggest reviewers).
GOAL_EXPERTISE = {
    "fraud": {"fraud", "security"}, "impersonation": {"fraud", "security", "privacy"},
    "harassment": {"harassment", "child_safety"}, "non_consensual_imagery": {"child_safety", "privacy", "harassment"},
    "disinformation": {"disinformation", "elections"}, "extremist_content": {"disinformation"},
    "privacy_violation": {"privacy"}, "other": set(),
}
REMIND_BEFORE = timedelta(hours=48)


def clean_tags(tags: Sequence[str]) -> list[str]:
    cleaned = sorted({t.strip().lower().replace(" ", "_") for t in tags if t and t.strip()})
    unknown = [t for t in cleaned if t not in EXPERTISE_TAGS]
    if unknown:
        raise InvalidInput(f"Unknown expertise tag(s): {', '.join(unknown)}. Use: {', '.join(EXPERTISE_TAGS)}.",
                           field="expertise")
    if not cleaned:
        raise InvalidInput("Give the reviewer at least one expertise tag.", field="expertise")
    return cleaned


# Views ------------------------------------------------------------------------

@dataclass(frozen=True)
class PoolEntryView:
    id: int
    email: str
    username: str | None
    display_name: str
    expertise: tuple[str, ...]
    note: str
    status: str  # active | invited


@dataclass(frozen=True)
class Suggestion:
    username: str
    display_name: str
    expertise: tuple[str, ...]
    matches: tuple[str, ...]
    excluded_reason: str | None


@dataclass(frozen=True)
class AssignmentView:
    reviewer: str
    display_name: str
    conflict: str | None
    conflict_note: str
    vote: str | None
    conditions: tuple[str, ...]
    comments: str
    stances: dict[str, int]
    voted_at: datetime | None
    public_credit: bool = False


@dataclass(frozen=True)
class ReviewView:
    id: int
    org_slug: str
    project_slug: str
    project_name: str
    version: int
    steps: tuple[str, ...]
    requested_by: str
    requested_at: datetime
    due_at: datetime
    closed_at: datetime | None
    note: str
    status: str  # open | overdue | closed
    assignments: tuple[AssignmentView, ...]
    decision_id: int | None


def _pool_view(entry: ReviewerPoolEntry) -> PoolEntryView:
    user = entry.user
    return PoolEntryView(entry.id, entry.email, user.username if user else None,
                         user.display_name if user else entry.email, tuple(entry.expertise), entry.note,
                         "active" if user else "invited")


def _link_pending(session: Session, org: Organization) -> None:
    """Connect invited experts who have since joined the organisation."""
    pending = session.scalars(select(ReviewerPoolEntry).where(ReviewerPoolEntry.org_id == org.id,
                                                              ReviewerPoolEntry.user_id.is_(None))).all()
    for entry in pending:
        user_id = session.scalar(select(User.id).join(Membership, Membership.user_id == User.id)
                                 .where(Membership.org_id == org.id, User.email == entry.email))
        if user_id is not None:
            entry.user_id = user_id


# The reviewer pool ---------------------------------------------------------------

def add_reviewer(rt: Runtime, actor: Actor, org_slug: str, *, email: str, expertise: Sequence[str],
                 note: str = "") -> tuple[PoolEntryView, str | None]:
    """Add a member to the pool, or invite an external expert by email (as a ``reviewer`` member).

    Returns the entry and, for an invited expert, the invitation link.
    """
    email = clean_email(email)
    tags = clean_tags(expertise)
    note = clean_text(note, "Note", max_length=1000, required=False)
    link: str | None = None
    with rt.read() as session:
        org, _ = authorize(session, actor, org_slug, Action.reviewer_pool_manage)
        if session.scalar(select(ReviewerPoolEntry.id).where(ReviewerPoolEntry.org_id == org.id,
                                                             ReviewerPoolEntry.email == email)) is not None:
            raise Conflict(f"{email} is already in the reviewer pool.", field="email")
        member = session.scalar(select(User).join(Membership, Membership.user_id == User.id)
                                .where(Membership.org_id == org.id, User.email == email))
        member_id = member.id if member else None
    if member_id is None:
        # Owners invite; a release lead's request goes out under the same rules via orgs.invite_member.
        _, link = orgs.invite_member(rt, actor, org_slug, email=email, role=Role.reviewer.value)
    with rt.write() as session:
        org, _ = authorize(session, actor, org_slug, Action.reviewer_pool_manage)
        if session.scalar(select(ReviewerPoolEntry.id).where(ReviewerPoolEntry.org_id == org.id,
                                                             ReviewerPoolEntry.email == email)) is not None:
            raise Conflict(f"{email} is already in the reviewer pool.", field="email")
        entry = ReviewerPoolEntry(org_id=org.id, email=email, user_id=member_id, expertise=tags, note=note,
                                  added_at=rt.clock.now())
        session.add(entry)
        session.flush()
        record(session, rt, actor, org.id, "reviewer_pool.added", "reviewer", email,
               {"expertise": tags, "invited": member_id is None})
        session.refresh(entry, ["user"])
        return _pool_view(entry), link


def list_pool(rt: Runtime, actor: Actor, org_slug: str) -> list[PoolEntryView]:
    with rt.write() as session:
        org, _ = authorize(session, actor, org_slug, Action.reviewer_pool_manage)
        _link_pending(session, org)
        rows = session.scalars(select(ReviewerPoolEntry).where(ReviewerPoolEntry.org_id == org.id)
                               .order_by(ReviewerPoolEntry.email)).all()
        return [_pool_view(r) for r in rows]


def remove_reviewer(rt: Runtime, actor: Actor, org_slug: str, email: str) -> None:
    with rt.write() as session:
        org, _ = authorize(session, actor, org_slug, Action.reviewer_pool_manage)
        entry = session.scalars(select(ReviewerPoolEntry).where(ReviewerPoolEntry.org_id == org.id,
                                                                ReviewerPoolEntry.email == email.lower())).first()
        if entry is None:
            raise NotFound(f"{email} is not in the reviewer pool.")
        session.delete(entry)
        record(session, rt, actor, org.id, "reviewer_pool.removed", "reviewer", email)


def _authors(session: Session, project: Project) -> set[int]:
    """People who wrote the assessment or created the project: they do not review their own work."""
    ids = {project.created_by_id}
    row = session.scalars(select(AssessmentRow).where(AssessmentRow.project_id == project.id)).first()
    if row is not None:
        ids.add(row.created_by_id)
        ids.add(row.draft_updated_by_id)
        ids.update(session.scalars(select(AssessmentVersion.submitted_by_id)
                                   .where(AssessmentVersion.assessment_id == row.id)))
    return ids


def suggest_reviewers(rt: Runtime, actor: Actor, org_slug: str, project_slug: str, version: int) -> list[Suggestion]:
    """Pool members ranked by how well their expertise matches the assessment's scenarios and modality."""
    with rt.write() as session:
        org, _ = authorize(session, actor, org_slug, Action.review_request)
        project = load_project(session, org, project_slug)
        version_row = _version(session, project, version)
        wanted = set()
        for scenario in version_row.document.get("scenarios", []):
            wanted |= GOAL_EXPERTISE.get(scenario.get("goal", "other"), set())
        if project.modality:
            wanted.add(project.modality)
        _link_pending(session, org)
        _, policy = load_policy(session, org)
        authors = set() if policy and policy.allow_author_review else _authors(session, project)
        suggestions = []
        for entry in session.scalars(select(ReviewerPoolEntry).where(ReviewerPoolEntry.org_id == org.id)).all():
            if entry.user is None:
                continue
            matches = tuple(sorted(wanted & set(entry.expertise)))
            reason = "author of this project" if entry.user_id in authors else None
            suggestions.append(Suggestion(entry.user.username, entry.user.display_name, tuple(entry.expertise),
                                          matches, reason))
        suggestions.sort(key=lambda s: (s.excluded_reason is not None, -len(s.matches), s.username))
        return suggestions


# Review requests --------------------------------------------------------------------

def _version(session: Session, project: Project, number: int) -> AssessmentVersion:
    version = session.scalars(
        select(AssessmentVersion).join(AssessmentRow, AssessmentRow.id == AssessmentVersion.assessment_id)
        .where(AssessmentRow.project_id == project.id, AssessmentVersion.number == number)
    ).first()
    if version is None:
        raise NotFound(f"{project.name} has no submitted assessment version {number}. "
                       "Only submitted versions can be reviewed; submit the draft first.")
    return version


def request_review(rt: Runtime, actor: Actor, org_slug: str, project_slug: str, *, version: int,
                   reviewers: Sequence[str], steps: Any, due_at: datetime, note: str = "") -> ReviewView:
    """Ask pool members to review a submitted version and decide the proposed widening steps."""
    note = clean_text(note, "Note", max_length=4000, required=False)
    now = rt.clock.now()
    if due_at <= now:
        raise InvalidInput("The due date must be in the future.", field="due_at")
    if due_at > now + timedelta(days=180):
        raise InvalidInput("The due date must be within 180 days.", field="due_at")
    usernames = sorted({u.strip().lower() for u in reviewers if u and u.strip()})
    if not usernames:
        raise InvalidInput("Pick at least one reviewer.", field="reviewers")
    with rt.write() as session:
        org, _ = authorize(session, actor, org_slug, Action.review_request)
        project = load_project(session, org, project_slug)
        version_row = _version(session, project, version)
        parsed_steps = rules.parse_steps(steps, asset_slugs(session, project))
        _link_pending(session, org)
        _, policy = load_policy(session, org)
        authors = set() if policy and policy.allow_author_review else _authors(session, project)
        pool = {e.user.username: e for e in session.scalars(
            select(ReviewerPoolEntry).where(ReviewerPoolEntry.org_id == org.id)).all() if e.user is not None}
        request = ReviewRequest(org_id=org.id, version_id=version_row.id, steps=rules.steps_to_json(parsed_steps),
                                requested_by_id=actor.user_id, requested_at=now, due_at=due_at, note=note)
        session.add(request)
        session.flush()
        for username in usernames:
            entry = pool.get(username)
            if entry is None:
                raise InvalidInput(f"'{username}' is not in the reviewer pool. Add them to the pool first.",
                                   field="reviewers")
            if entry.user_id in authors:
                raise InvalidInput(f"'{username}' is an author of this project and cannot review it "
                                   "(an owner can allow author review in the organisation's policy).",
                                   field="reviewers")
            session.add(ReviewAssignment(request_id=request.id, reviewer_id=entry.user_id, assigned_at=now,
                                         conditions=[], stances={}))
            outbox.enqueue(
                session, rt, key=f"review-assigned:{request.id}:{entry.user_id}", recipient=entry.email,
                subject=f"Review requested: {project.name} (assessment v{version_row.number})",
                body=(f"{actor.username} asks you to review the release assessment of {project.name} "
                      f"in {org.name}, due {due_at:%Y-%m-%d %H:%M} UTC.\n\n"
                      f"Proposed steps: {', '.join(s.label() for s in parsed_steps)}.\n\n"
                      f"Declare any conflict of interest, then vote:\n"
                      f"{rt.settings.base_url.rstrip('/')}/orgs/{org.slug}/reviews/{request.id}\n"),
            )
        record(session, rt, actor, org.id, "review.requested", "review", request.id,
               {"project": project.slug, "version": version_row.number, "reviewers": usernames,
                "steps": [s.label() for s in parsed_steps], "due_at": due_at.isoformat()})
        return _review_view(session, request, org, project, now)


def _review_status(request: ReviewRequest, now: datetime) -> str:
    if request.closed_at is not None:
        return "closed"
    return "overdue" if request.due_at <= now else "open"


def _review_view(session: Session, request: ReviewRequest, org: Organization, project: Project,
                 now: datetime) -> ReviewView:
    assignments = session.scalars(select(ReviewAssignment).where(ReviewAssignment.request_id == request.id)
                                  .order_by(ReviewAssignment.id)).all()
    decision_id = session.scalar(select(DecisionRow.id).where(DecisionRow.request_id == request.id))
    return ReviewView(
        request.id, org.slug, project.slug, project.name, request.version.number,
        tuple(s.label() for s in rules.steps_from_json(request.steps)), request.requested_by.username,
        request.requested_at, request.due_at, request.closed_at, request.note, _review_status(request, now),
        tuple(AssignmentView(a.reviewer.username, a.reviewer.display_name, a.conflict, a.conflict_note, a.vote,
                             tuple(a.conditions or ()), a.comments, dict(a.stances or {}), a.voted_at,
                             a.public_credit)
              for a in assignments),
        decision_id,
    )


def _load_review(session: Session, actor: Actor, org_slug: str, review_id: int,
                 ) -> tuple[Organization, Project, ReviewRequest, ReviewAssignment | None, bool]:
    """The review, the actor's assignment (if any) and whether they lead it; NotFound for everyone else."""
    org, membership = load_membership(session, actor, org_slug)
    request = session.scalars(select(ReviewRequest).where(ReviewRequest.id == review_id,
                                                          ReviewRequest.org_id == org.id)).first()
    assignment = None
    if request is not None:
        assignment = session.scalars(select(ReviewAssignment).where(
            ReviewAssignment.request_id == request.id, ReviewAssignment.reviewer_id == actor.user_id)).first()
    is_lead = membership.role in (Role.owner.value, Role.release_lead.value)
    if request is None or (assignment is None and not is_lead):
        raise NotFound(f"No review #{review_id} that you lead or were asked to do.")
    project = session.get(Project, request.version.assessment.project_id)
    if project is None:
        raise NotFound(f"No review #{review_id}.")
    return org, project, request, assignment, is_lead


def get_review(rt: Runtime, actor: Actor, org_slug: str, review_id: int) -> ReviewView:
    with rt.read() as session:
        org, project, request, _, _ = _load_review(session, actor, org_slug, review_id)
        return _review_view(session, request, org, project, rt.clock.now())


def list_reviews(rt: Runtime, actor: Actor, org_slug: str, project_slug: str | None = None) -> list[ReviewView]:
    """Leads see every review of the organisation (or project); others the ones assigned to them."""
    now = rt.clock.now()
    with rt.read() as session:
        org, membership = load_membership(session, actor, org_slug)
        query = select(ReviewRequest).where(ReviewRequest.org_id == org.id)
        if membership.role not in (Role.owner.value, Role.release_lead.value):
            query = query.join(ReviewAssignment, ReviewAssignment.request_id == ReviewRequest.id).where(
                ReviewAssignment.reviewer_id == actor.user_id)
        views = []
        for request in session.scalars(query.order_by(ReviewRequest.requested_at.desc())).all():
            project = session.get(Project, request.version.assessment.project_id)
            if project is None or (project_slug and project.slug != project_slug):
                continue
            views.append(_review_view(session, request, org, project, now))
        return views


def my_assignments(rt: Runtime, actor: Actor) -> list[ReviewView]:
    """Every open review the actor was asked to do, across organisations."""
    now = rt.clock.now()
    with rt.read() as session:
        rows = session.execute(
            select(ReviewRequest, Organization).join(ReviewAssignment, ReviewAssignment.request_id == ReviewRequest.id)
            .join(Organization, Organization.id == ReviewRequest.org_id)
            .where(ReviewAssignment.reviewer_id == actor.user_id, ReviewRequest.closed_at.is_(None))
            .order_by(ReviewRequest.due_at)
        ).all()
        result = []
        for request, org in rows:
            project = session.get(Project, request.version.assessment.project_id)
            if project is not None:
                result.append(_review_view(session, request, org, project, now))
        return result


def declare_conflict(rt: Runtime, actor: Actor, org_slug: str, review_id: int, *, has_conflict: bool,
                     note: str = "") -> ReviewView:
    """Declare (once) whether you have a conflict of interest. A declared conflict blocks your vote."""
    note = clean_text(note, "Conflict note", max_length=2000, required=has_conflict)
    now = rt.clock.now()
    with rt.write() as session:
        org, project, request, assignment, _ = _load_review(session, actor, org_slug, review_id)
        if assignment is None:
            raise PermissionDenied("Only reviewers assigned to this review declare conflicts.")
        if request.closed_at is not None:
            raise Conflict("This review is closed.")
        if assignment.conflict is not None:
            raise Conflict("You already declared your conflicts of interest for this review.")
        assignment.conflict = "declared" if has_conflict else "none"
        assignment.conflict_note = note
        assignment.declared_at = now
        record(session, rt, actor, org.id, "review.conflict_declared", "review", request.id,
               {"conflict": assignment.conflict, "note": note})
        return _review_view(session, request, org, project, now)


def vote(rt: Runtime, actor: Actor, org_slug: str, review_id: int, *, vote: str, conditions: Sequence[str] = (),
         comments: str = "", stances: dict[str, Any], public_credit: bool = False) -> ReviewView:
    """Record a vote: once, while the review is open, after declaring no conflict."""
    ballot = rules.validate_ballot(vote, conditions, stances)
    comments = clean_text(comments, "Comments", max_length=10000, required=False)
    now = rt.clock.now()
    with rt.write() as session:
        org, project, request, assignment, _ = _load_review(session, actor, org_slug, review_id)
        if assignment is None:
            raise PermissionDenied("Only reviewers assigned to this review can vote on it.")
        if request.closed_at is not None:
            raise Conflict("This review is closed; votes can no longer be recorded.")
        if assignment.conflict is None:
            raise Conflict("Declare whether you have a conflict of interest before voting.")
        if assignment.conflict == "declared":
            raise PermissionDenied("You declared a conflict of interest, so you cannot vote on this review.")
        if assignment.vote is not None:
            raise Conflict("You already voted on this review; votes cannot be changed.")
        assignment.vote = ballot.vote.value
        assignment.conditions = list(ballot.conditions)
        assignment.comments = comments
        assignment.stances = dict(ballot.stances)
        assignment.voted_at = now
        assignment.public_credit = public_credit
        record(session, rt, actor, org.id, "review.voted", "review", request.id,
               {"vote": ballot.vote.value, "conditions": list(ballot.conditions), "stances": ballot.stances,
                "public_credit": public_credit})
        return _review_view(session, request, org, project, now)


def set_public_credit(rt: Runtime, actor: Actor, org_slug: str, review_id: int, *, named: bool) -> ReviewView:
    """A reviewer agrees (or no longer agrees) to be named on public pages for this review's decision.

    Only the reviewer decides this, for themselves, and only once they have voted (someone who recused or
    never voted did not review). Public pages read it live, so withdrawing takes effect at once.
    """
    now = rt.clock.now()
    with rt.write() as session:
        org, project, request, assignment, _ = _load_review(session, actor, org_slug, review_id)
        if assignment is None:
            raise PermissionDenied("Only a reviewer of this review can choose whether to be named for it.")
        if assignment.vote is None:
            raise Conflict("Vote first: only reviewers who voted can be named as reviewers of the decision.")
        if assignment.public_credit != named:
            assignment.public_credit = named
            record(session, rt, actor, org.id, "review.public_credit_" + ("given" if named else "withdrawn"),
                   "review", request.id)
        return _review_view(session, request, org, project, now)


def credited_reviewers(session: Session, request_id: int) -> tuple[tuple[str, ...], int]:
    """Display names of the voters who agreed to be named, and how many voters did not (for public pages)."""
    voters = session.scalars(select(ReviewAssignment).where(ReviewAssignment.request_id == request_id,
                                                            ReviewAssignment.vote.is_not(None))
                             .order_by(ReviewAssignment.id)).all()
    named = tuple(a.reviewer.display_name or a.reviewer.username for a in voters if a.public_credit)
    return named, len(voters) - len(named)


def close_review(rt: Runtime, actor: Actor, org_slug: str, review_id: int, *, rationale: str,
                 extra_conditions: Sequence[str] = ()) -> int:
    """Close the review and record its decision; returns the decision id."""
    rationale = clean_text(rationale, "Rationale", max_length=20000)
    now = rt.clock.now()
    with rt.write() as session:
        org, _ = authorize(session, actor, org_slug, Action.review_decide)
        _, project, request, _, _ = _load_review(session, actor, org_slug, review_id)
        if request.closed_at is not None:
            raise Conflict("This review is already closed.")
        assignments = session.scalars(select(ReviewAssignment).where(ReviewAssignment.request_id == request.id)).all()
        ballots = [rules.Ballot(a.reviewer.username, rules.Vote(a.vote), tuple(a.conditions or ()),
                                dict(a.stances or {})) for a in assignments if a.vote]
        result = rules.tally(ballots)
        outcome = rules.outcome(result)
        conditions = rules.combined_conditions(ballots, extra_conditions) if outcome is rules.Outcome.approved else ()
        _, policy = load_policy(session, org)
        valid_days = policy.decision_valid_days if policy else 365
        decision = DecisionRow(
            org_id=org.id, project_id=project.id, request_id=request.id, version_id=request.version_id,
            outcome=outcome.value, steps=request.steps,
            conditions=[{"text": c, "met_by": None, "met_at": None} for c in conditions], rationale=rationale,
            tally={"approve": result.approve, "approve_with_conditions": result.approve_with_conditions,
                   "reject": result.reject, "not_voted": sum(1 for a in assignments if not a.vote)},
            disagreement=[{"dimension": d.dimension, "label": d.label, "stances": dict(d.stances),
                           "spread": d.spread, "diverges": d.diverges} for d in rules.disagreements(ballots)],
            decided_by_id=actor.user_id, decided_at=now, expires_at=now + timedelta(days=valid_days),
        )
        session.add(decision)
        request.closed_at = now
        session.flush()
        record(session, rt, actor, org.id, "decision.recorded", "decision", decision.id,
               {"review": request.id, "outcome": outcome.value, "tally": decision.tally,
                "steps": [s.label() for s in rules.steps_from_json(request.steps)],
                "conditions": list(conditions), "expires_at": decision.expires_at.isoformat()})
        return decision.id


def send_reminders(rt: Runtime) -> int:
    """Queue reminders for reviewers who have not voted: once before the due date, once when overdue.

    Idempotent (keys per assignment and kind), so any process may run it at any time.
    """
    now = rt.clock.now()
    queued = 0
    with rt.write() as session:
        rows = session.execute(
            select(ReviewAssignment, ReviewRequest, User, Organization)
            .join(ReviewRequest, ReviewRequest.id == ReviewAssignment.request_id)
            .join(User, User.id == ReviewAssignment.reviewer_id)
            .join(Organization, Organization.id == ReviewRequest.org_id)
            .where(ReviewRequest.closed_at.is_(None), ReviewAssignment.vote.is_(None),
                   or_(ReviewAssignment.conflict.is_(None), ReviewAssignment.conflict == "none"),
                   ReviewRequest.due_at <= now + REMIND_BEFORE)
        ).all()
        for assignment, request, user, org in rows:
            kind = "overdue" if request.due_at <= now else "due-soon"
            link = f"{rt.settings.base_url.rstrip('/')}/orgs/{org.slug}/reviews/{request.id}"
            when = "was due" if kind == "overdue" else "is due"
            queued += outbox.enqueue(
                session, rt, key=f"review-reminder:{assignment.id}:{kind}", recipient=user.email,
                subject=f"Reminder: your review for {org.name} {when} {request.due_at:%Y-%m-%d}",
                body=f"Your review {when} {request.due_at:%Y-%m-%d %H:%M} UTC.\n{link}\n")
    return queued
