"""Automatic detection checks of misuse-report evidence (issue 9, using the issue 8 detection service).

Reports are filed by anyone, often anonymously, so the check runs in the background (the reconciler, every
few seconds) rather than inside the submission: a slow decode never holds up a report, and a file that
cannot be decoded is recorded as such instead of failing the report. Evidence is checked against the
reported organisation's own keys only — a report to lab A must not trace lab B's grants — and its
responders see everything, including the grant a watermark points to, so revoking it is one click.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select

from releasewise.domain import detection as rules
from releasewise.domain.roles import Action
from releasewise.errors import ReleasewiseError
from releasewise.services import detection
from releasewise.services.audit import record
from releasewise.services.authz import authorize
from releasewise.services.incidents import evidence_store
from releasewise.services.runtime import Actor, Runtime
from releasewise.store.models_incidents import MisuseReport, ReportEvidence
from releasewise.store.models_provenance import EvidenceCheck

BATCH = 20


@dataclass(frozen=True)
class EvidenceCheckView:
    evidence_id: int
    checked_at: datetime
    detected: bool
    credential_status: str
    grant_id: int | None
    summary: str


def check_pending(rt: Runtime) -> int:
    """Check evidence files that have no result yet; returns how many were checked."""
    with rt.read() as session:
        pending = session.execute(
            select(ReportEvidence, MisuseReport.org_id)
            .join(MisuseReport, MisuseReport.id == ReportEvidence.report_id)
            .outerjoin(EvidenceCheck, EvidenceCheck.evidence_id == ReportEvidence.id)
            .where(EvidenceCheck.evidence_id.is_(None)).order_by(ReportEvidence.id).limit(BATCH)).all()
        work = [(row.id, row.report_id, row.sha256, org_id) for row, org_id in pending]
    for evidence_id, report_id, sha, org_id in work:
        _check_one(rt, evidence_id, report_id, sha, org_id)
    return len(work)


def _check_one(rt: Runtime, evidence_id: int, report_id: int, sha: str, org_id: int) -> None:
    path = evidence_store(rt).path(sha)
    data = path.read_bytes() if path.exists() else b""
    verdict: dict[str, object] = {}
    detected, status, grant, summary = False, "absent", None, ""
    if rules.sniff(data) is None:
        summary = "Not checked: not a JPEG, PNG, WebP image or WAV clip."
    else:
        try:
            with rt.read() as session:
                candidates = detection.org_candidates(session, rt, org_id)
            result = detection.analyse(rt, data, candidates)
        except ReleasewiseError as exc:
            summary = f"Not checked: {exc.message}"
        else:
            detected, status = result.finding.detected, str(result.credential["status"])
            grant = result.finding.grant.id if result.finding.grant else None
            summary = detection.summarise(result.credential, result.finding, result.recovered)
            verdict = {"credential": result.credential, "watermark": result.internal,
                       "release": result.finding.release, "model": result.finding.model,
                       "project": result.finding.project}
    with rt.write() as session:
        if session.get(EvidenceCheck, evidence_id) is not None:
            return  # another process checked it meanwhile
        session.add(EvidenceCheck(evidence_id=evidence_id, report_id=report_id, org_id=org_id,
                                  checked_at=rt.clock.now(), detected=detected, credential_status=status,
                                  grant_id=grant, summary=summary, verdict=verdict))
        record(session, rt, None, org_id, "report.evidence_checked", "misuse_report", report_id,
               {"evidence": evidence_id, "detected": detected, "credential": status, "grant": grant})


def for_report(rt: Runtime, actor: Actor, org_slug: str, report_id: int) -> dict[int, EvidenceCheckView]:
    """The check of each evidence file of a report, by evidence id (responders only)."""
    with rt.read() as session:
        org, _ = authorize(session, actor, org_slug, Action.report_view)
        rows = session.scalars(select(EvidenceCheck).where(EvidenceCheck.report_id == report_id,
                                                           EvidenceCheck.org_id == org.id)).all()
        return {r.evidence_id: EvidenceCheckView(r.evidence_id, r.checked_at, r.detected, r.credential_status,
                                                 r.grant_id, r.summary) for r in rows}


def detected_reports(rt: Runtime, actor: Actor, org_slug: str) -> set[int]:
    """Reports of the organisation with at least one evidence file carrying its watermark (for the queue)."""
    with rt.read() as session:
        org, _ = authorize(session, actor, org_slug, Action.report_view)
        return set(session.scalars(select(EvidenceCheck.report_id).where(EvidenceCheck.org_id == org.id,
                                                                         EvidenceCheck.detected.is_(True))))


def traced_grants(rt: Runtime, actor: Actor, org_slug: str, incident_id: int) -> set[int]:
    """Grants that evidence of the incident's reports traces to: the ones to consider revoking first."""
    with rt.read() as session:
        org, _ = authorize(session, actor, org_slug, Action.incident_view)
        reports = select(MisuseReport.id).where(MisuseReport.org_id == org.id, MisuseReport.incident_id == incident_id)
        return {g for g in session.scalars(select(EvidenceCheck.grant_id).where(
            EvidenceCheck.org_id == org.id, EvidenceCheck.report_id.in_(reports),
            EvidenceCheck.grant_id.is_not(None))) if g is not None}
