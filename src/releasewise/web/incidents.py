"""Web pages for misuse reports: the public report form, the reporter's private follow-up page,
the responders' triage queue, report and incident pages with one-click actions, and the export."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from typing import Annotated

from fastapi import APIRouter, Form, Query, Request
from fastapi.responses import HTMLResponse, Response
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import UploadFile

from releasewise.api.schemas import MAX_ID, Id
from releasewise.domain import incidents as rules
from releasewise.errors import InvalidInput, ReleasewiseError
from releasewise.services import evidence_checks
from releasewise.services import incidents as svc
from releasewise.services import orgs
from releasewise.services import report_messages as messages
from releasewise.services.runtime import Actor, Runtime
from releasewise.web import security
from releasewise.web.rendering import render
from releasewise.web.routes import CSRF, RT, MaybeUser, User, client_ip, redirect

router = APIRouter(include_in_schema=False)
PUBLIC = "/report/{org_slug}/{project_slug}"
F = svc.FOLLOWUP_LINK_PATH + "{token}"
REP = "/orgs/{org_slug}/reports"
INC = "/orgs/{org_slug}/incidents"
SEVERITIES = [(5, "5 · critical"), (4, "4 · serious"), (3, "3 · moderate"), (2, "2 · minor"), (1, "1 · negligible")]


def _private(response: Response) -> Response:
    response.headers["Cache-Control"] = "no-store"
    response.headers["Referrer-Policy"] = "no-referrer"
    return response


# Anyone: the report form and the follow-up page ------------------------------------------------------

def _form_page(request: Request, rt: Runtime, org_slug: str, project_slug: str, *, error: str = "",
               values: dict[str, str] | None = None, status_code: int = 200) -> Response:
    target = svc.report_target(rt, org_slug, project_slug)
    return render(request, "incidents/report_form.html", {
        "target": target, "challenge": svc.challenge(rt), "harms": rules.HARM_LABELS, "error": error,
        "values": values or {}, "max_bytes": rt.settings.report_max_evidence_bytes,
        "types": sorted(rules.EVIDENCE_TYPES)}, status_code=status_code)


@router.get(PUBLIC, response_class=HTMLResponse)
def report_form(request: Request, rt: RT, actor: MaybeUser, org_slug: str, project_slug: str) -> Response:
    return _form_page(request, rt, org_slug, project_slug)


def _observed(text: str) -> datetime | None:
    text = (text or "").strip()
    if not text:
        return None
    try:
        return datetime.fromisoformat(text).replace(tzinfo=UTC)
    except ValueError:
        raise InvalidInput(f"'{text}' is not a date.", field="observed_at") from None


@router.post(PUBLIC, response_class=HTMLResponse)
async def file_report(request: Request, rt: RT, actor: MaybeUser, org_slug: str, project_slug: str) -> Response:
    max_bytes = rt.settings.report_max_evidence_bytes
    form = await request.form(max_files=rules.MAX_EVIDENCE_FILES + 1)
    security.check_csrf(request, str(form.get("csrf_token", "")))
    values = {k: str(form.get(k, "")) for k in ("description", "harm_category", "urls", "observed_at", "contact")}
    files: list[tuple[str, str, bytes]] = []
    for item in form.getlist("evidence"):
        if isinstance(item, UploadFile) and item.filename:
            files.append((item.filename, item.content_type or "", await item.read(max_bytes + 1)))

    def submit() -> svc.FiledView:
        return svc.submit_report(
            rt, actor, org_slug, project_slug, description=values["description"],
            harm_category=values["harm_category"], urls=values["urls"].split(),
            observed_at=_observed(values["observed_at"]), contact=values["contact"], evidence=files,
            challenge=str(form.get("challenge", "")), solution=str(form.get("solution", "")),
            ip=client_ip(request))

    def respond() -> Response:
        try:
            filed = submit()
        except ReleasewiseError as exc:
            if exc.status_code == 404:
                raise
            return _form_page(request, rt, org_slug, project_slug, error=exc.message, values=values,
                              status_code=exc.status_code)
        link = rt.settings.base_url.rstrip("/") + svc.FOLLOWUP_LINK_PATH + filed.followup_token
        return _private(render(request, "incidents/filed.html", {
            "filed": filed, "link": link, "target": svc.report_target(rt, org_slug, project_slug)}))

    return await run_in_threadpool(respond)


def _followup_page(request: Request, rt: Runtime, token: str, *, error: str = "", body: str = "",
                   status_code: int = 200) -> Response:
    thread = messages.reporter_thread(rt, token)
    return _private(render(request, "incidents/followup.html", {
        "f": thread.report, "limits": thread, "thread": thread.messages, "action": F.format(token=token), "error": error, "body": body,
        "max_bytes": rt.settings.report_max_evidence_bytes, "types": sorted(rules.EVIDENCE_TYPES)},
        status_code=status_code))


@router.get(F, response_class=HTMLResponse)
def followup_page(request: Request, rt: RT, token: str) -> Response:
    return _followup_page(request, rt, token)


@router.post(F, response_class=HTMLResponse)
async def followup_reply(request: Request, rt: RT, token: str) -> Response:
    """The reporter answers the responders, with more evidence if they like (same checks as at filing)."""
    max_bytes = rt.settings.report_max_evidence_bytes
    form = await request.form(max_files=rules.MAX_EVIDENCE_FILES + 1)
    security.check_csrf(request, str(form.get("csrf_token", "")))
    body = str(form.get("body", ""))
    files: list[tuple[str, str, bytes]] = []
    for item in form.getlist("evidence"):
        if isinstance(item, UploadFile) and item.filename:
            files.append((item.filename, item.content_type or "", await item.read(max_bytes + 1)))

    def respond() -> Response:
        try:
            messages.reply_as_reporter(rt, token, body=body, evidence=files)
        except ReleasewiseError as exc:
            if exc.status_code == 404:
                raise
            return _followup_page(request, rt, token, error=exc.message, body=body, status_code=exc.status_code)
        return _private(redirect(F.format(token=token) + "#thread", "Your message was sent to the lab's responders."))

    return await run_in_threadpool(respond)


# Responders: queue, report, incidents -----------------------------------------------------------------

def _act(url: str, done: str, call: Callable[[], object]) -> Response:
    try:
        call()
    except ReleasewiseError as exc:
        return redirect(url, exc.message, error=True)
    return redirect(url, done)


@router.get(REP, response_class=HTMLResponse)
def queue_page(request: Request, rt: RT, actor: User, org_slug: str,
               status: Annotated[str, Query(max_length=20)] = "") -> Response:
    org = orgs.get_org(rt, actor, org_slug)
    return render(request, "incidents/queue.html", {
        "org": org, "reports": svc.list_reports(rt, actor, org_slug, status=status), "status": status,
        "statuses": [s.value for s in rules.ReportStatus], "dash": svc.dashboard(rt, actor, org_slug),
        "traced": evidence_checks.detected_reports(rt, actor, org_slug)})


@router.get(REP + "/{report_id}", response_class=HTMLResponse)
def report_page(request: Request, rt: RT, actor: User, org_slug: str, report_id: Id) -> Response:
    org = orgs.get_org(rt, actor, org_slug)
    report = svc.get_report(rt, actor, org_slug, report_id)
    open_incidents = [i for i in svc.list_incidents(rt, actor, org_slug)
                      if i.status == "open" and i.project_slug == report.project_slug]
    return _private(render(request, "incidents/report.html", {
        "org": org, "r": report, "incidents": open_incidents, "severities": SEVERITIES,
        "thread": messages.thread(rt, actor, org_slug, report_id),
        "checks": evidence_checks.for_report(rt, actor, org_slug, report_id)}))


@router.post(REP + "/{report_id}/messages", dependencies=[CSRF])
def message_reporter(rt: RT, actor: User, org_slug: str, report_id: Id, body: Annotated[str, Form()] = "") -> Response:
    return _act(f"/orgs/{org_slug}/reports/{report_id}#thread", "Message sent to the reporter.",
                lambda: messages.send_to_reporter(rt, actor, org_slug, report_id, body=body))


@router.post(REP + "/{report_id}/triage", dependencies=[CSRF])
def triage(rt: RT, actor: User, org_slug: str, report_id: Id, status: Annotated[str, Form()] = "",
           severity: Annotated[str, Form()] = "") -> Response:
    return _act(f"/orgs/{org_slug}/reports/{report_id}", "Report updated.", lambda: svc.triage(
        rt, actor, org_slug, report_id, status=status or None, severity=_severity(severity)))


def _severity(text: str) -> int | None:
    text = (text or "").strip()
    if not text:
        return None
    if not text.isdigit() or len(text) > 2:
        raise InvalidInput("Severity must be a whole number from 1 to 5.", field="severity")
    return int(text)


@router.post(REP + "/{report_id}/merge", dependencies=[CSRF])
def merge(rt: RT, actor: User, org_slug: str, report_id: Id,
          duplicate_of: Annotated[int, Form(ge=1, le=MAX_ID)]) -> Response:
    return _act(f"/orgs/{org_slug}/reports/{report_id}", f"Marked as a duplicate of report #{duplicate_of}.",
                lambda: svc.merge_duplicate(rt, actor, org_slug, report_id, duplicate_of=duplicate_of))


@router.post(REP + "/{report_id}/incident", dependencies=[CSRF])
def to_incident(rt: RT, actor: User, org_slug: str, report_id: Id, incident_id: Annotated[str, Form()] = "",
                title: Annotated[str, Form()] = "", severity: Annotated[str, Form()] = "") -> Response:
    """Link the report to an open incident, or open a new one from it."""
    back = f"/orgs/{org_slug}/reports/{report_id}"
    try:
        if incident_id.strip():
            if not incident_id.strip().isdigit() or len(incident_id) > 15:
                raise InvalidInput("Choose an incident.", field="incident_id")
            view = svc.link_report(rt, actor, org_slug, int(incident_id), report_id)
        else:
            view = svc.open_incident(rt, actor, org_slug, report_ids=[report_id], title=title,
                                     severity=_severity(severity) or 0)
    except ReleasewiseError as exc:
        return redirect(back, exc.message, error=True)
    return redirect(f"/orgs/{org_slug}/incidents/{view.id}", f"Report #{report_id} is part of incident #{view.id}.")


@router.get(REP + "/{report_id}/evidence/{evidence_id}")
def evidence(rt: RT, actor: User, org_slug: str, report_id: Id, evidence_id: Id) -> Response:
    view, data = svc.get_evidence(rt, actor, org_slug, report_id, evidence_id)
    return Response(data, media_type="application/octet-stream", headers={
        "Content-Disposition": f'attachment; filename="evidence-{view.id}"', "X-Content-Type-Options": "nosniff",
        "Cache-Control": "no-store"})


@router.get(INC, response_class=HTMLResponse)
def incidents_page(request: Request, rt: RT, actor: User, org_slug: str) -> Response:
    org = orgs.get_org(rt, actor, org_slug)
    return render(request, "incidents/incidents.html", {
        "org": org, "incidents": svc.list_incidents(rt, actor, org_slug), "dash": svc.dashboard(rt, actor, org_slug)})


@router.get(INC + "/export.{fmt}")
def export(rt: RT, actor: User, org_slug: str, fmt: str) -> Response:
    media, body = svc.export(rt, actor, org_slug, fmt)
    return Response(body, media_type=media, headers={
        "Content-Disposition": f'attachment; filename="{org_slug}-incidents-aiid.{fmt}"'})


def _actor_may_act(rt: Runtime, actor: Actor, org_slug: str, incident_id: int) -> svc.ActionChoices | None:
    try:
        return svc.action_choices(rt, actor, org_slug, incident_id)
    except ReleasewiseError:
        return None


@router.get(INC + "/{incident_id}", response_class=HTMLResponse)
def incident_page(request: Request, rt: RT, actor: User, org_slug: str, incident_id: Id) -> Response:
    org = orgs.get_org(rt, actor, org_slug)
    incident = svc.get_incident(rt, actor, org_slug, incident_id)
    return _private(render(request, "incidents/incident.html", {
        "org": org, "i": incident, "choices": _actor_may_act(rt, actor, org_slug, incident_id),
        "severities": SEVERITIES, "traced": evidence_checks.traced_grants(rt, actor, org_slug, incident_id)}))


@router.post(INC + "/{incident_id}", dependencies=[CSRF])
def update_incident(rt: RT, actor: User, org_slug: str, incident_id: Id, severity: Annotated[str, Form()] = "",
                    resolve: Annotated[str, Form()] = "", note: Annotated[str, Form()] = "") -> Response:
    return _act(f"/orgs/{org_slug}/incidents/{incident_id}", "Incident updated.", lambda: svc.update_incident(
        rt, actor, org_slug, incident_id, severity=_severity(severity), resolve=resolve == "yes", note=note))


@router.post(INC + "/{incident_id}/message-reporter", dependencies=[CSRF])
def incident_message_reporter(rt: RT, actor: User, org_slug: str, incident_id: Id,
                              report_id: Annotated[int, Form(ge=1, le=MAX_ID)],
                              body: Annotated[str, Form()] = "") -> Response:
    """Write to the reporter of one of the incident's reports without leaving the incident."""
    def send() -> object:
        if report_id not in {r.id for r in svc.get_incident(rt, actor, org_slug, incident_id).reports}:
            raise InvalidInput(f"Report #{report_id} is not part of incident #{incident_id}.", field="report_id")
        return messages.send_to_reporter(rt, actor, org_slug, report_id, body=body)

    return _act(f"/orgs/{org_slug}/incidents/{incident_id}", f"Message sent to the reporter of #{report_id}.", send)


@router.post(INC + "/{incident_id}/revoke-grant", dependencies=[CSRF])
def revoke_grant(rt: RT, actor: User, org_slug: str, incident_id: Id,
                 grant_id: Annotated[int, Form(ge=1, le=MAX_ID)], reason: Annotated[str, Form()] = "") -> Response:
    return _act(f"/orgs/{org_slug}/incidents/{incident_id}", f"Grant #{grant_id} revoked.",
                lambda: svc.revoke_grant(rt, actor, org_slug, incident_id, grant_id, reason=reason))


@router.post(INC + "/{incident_id}/narrow-tier", dependencies=[CSRF])
def narrow_tier(rt: RT, actor: User, org_slug: str, incident_id: Id, target: Annotated[str, Form()] = "",
                reason: Annotated[str, Form()] = "") -> Response:
    asset, _, tier = target.partition(":")
    return _act(f"/orgs/{org_slug}/incidents/{incident_id}", f"{asset} narrowed to {tier}.",
                lambda: svc.narrow_tier(rt, actor, org_slug, incident_id, asset, tier, reason=reason))


@router.post(INC + "/{incident_id}/pause-plan", dependencies=[CSRF])
def pause_plan(rt: RT, actor: User, org_slug: str, incident_id: Id, reason: Annotated[str, Form()] = "") -> Response:
    return _act(f"/orgs/{org_slug}/incidents/{incident_id}", "Release plan paused.",
                lambda: svc.pause_plan(rt, actor, org_slug, incident_id, reason=reason))


@router.post(INC + "/{incident_id}/notify-partners", dependencies=[CSRF])
def notify_partners(rt: RT, actor: User, org_slug: str, incident_id: Id,
                    message: Annotated[str, Form()] = "") -> Response:
    return _act(f"/orgs/{org_slug}/incidents/{incident_id}", "Disclosure partners notified.",
                lambda: svc.notify_partners(rt, actor, org_slug, incident_id, message=message))
