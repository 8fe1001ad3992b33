"""Web pages for coordinated disclosure: the lab's cases and registry, and the party's private page."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Annotated, Any
from urllib.parse import quote
from zoneinfo import available_timezones

from fastapi import APIRouter, Form, Request
from fastapi.responses import FileResponse, HTMLResponse, Response
from markdown_it import MarkdownIt
from markupsafe import Markup
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import UploadFile

from releasewise.api.schemas import MAX_ID, Id
from releasewise.domain import disclosure as rules
from releasewise.errors import InvalidInput, ReleasewiseError
from releasewise.services import disclosure as svc
from releasewise.services import orgs, projects
from releasewise.web import security
from releasewise.web.rendering import render
from releasewise.web.routes import CSRF, RT, MaybeUser, User, redirect, safe_next

router = APIRouter(include_in_schema=False)
TZ_COOKIE = "rw_tz"
_markdown = MarkdownIt("commonmark", {"html": False, "linkify": False})
ZONES = sorted(z for z in available_timezones() if "/" in z and not z.startswith(("Etc/", "SystemV/", "posix/",
                                                                                    "right/")))
C = "/orgs/{org_slug}/disclosure/{case_id}"
P = svc.PARTY_LINK_PATH + "{token}"


def _zone_name(request: Request) -> str:
    return rules.viewer_zone(request.cookies.get(TZ_COOKIE)).key


def _when(zone_name: str) -> Callable[[datetime | None], str]:
    """An instant in the viewer's timezone and in UTC, e.g. '2026-12-01 10:00 CET · 09:00 UTC'."""
    zone = rules.viewer_zone(zone_name)

    def fmt(value: datetime | None) -> str:
        if value is None:
            return "—"
        local = rules.in_zone(value, zone)
        utc = f"{value:%Y-%m-%d %H:%M} UTC"
        if zone.key == "UTC":
            return utc
        return f"{local:%Y-%m-%d %H:%M} {local.tzname()} ({zone.key}) · {utc}"

    return fmt


def _common(request: Request) -> dict[str, Any]:
    zone = _zone_name(request)
    return {"when": _when(zone), "zone": zone, "zones": ZONES, "md": lambda text: Markup(_markdown.render(text or "")),
            "labels": rules.BOARD_LABELS, "columns": rules.BOARD_COLUMNS}


def _instant(form_value: str, zone_name: str, field: str) -> datetime:
    """A date and time typed in a form, in the zone the person chose: an exact instant."""
    text = (form_value or "").strip()
    if not text:
        raise InvalidInput(f"Give {field.replace('_', ' ')}.", field=field)
    try:
        naive = datetime.fromisoformat(text)
    except ValueError:
        raise InvalidInput(f"'{text}' is not a date and time.", field=field) from None
    if naive.tzinfo is not None:
        return naive
    if zone_name not in ZONES and zone_name != "UTC":
        raise InvalidInput(f"Unknown timezone '{zone_name}'.", field="timezone")
    return naive.replace(tzinfo=rules.viewer_zone(zone_name))


@router.post("/disclosure/timezone", dependencies=[CSRF])
def set_timezone(timezone: Annotated[str, Form()] = "UTC", next: Annotated[str, Form()] = "/") -> Response:
    response = redirect(safe_next(next), f"Times are shown in {rules.viewer_zone(timezone).key} and UTC.")
    response.set_cookie(TZ_COOKIE, rules.viewer_zone(timezone).key, max_age=365 * 86400, samesite="lax",
                        httponly=True)
    return response


# The lab's pages ---------------------------------------------------------------------------------

@router.get("/orgs/{org_slug}/disclosure", response_class=HTMLResponse)
def cases_page(request: Request, rt: RT, actor: User, org_slug: str) -> Response:
    org = orgs.get_org(rt, actor, org_slug)
    is_lead = org.my_role in ("owner", "release_lead")
    return render(request, "disclosure/cases.html", {
        "org": org, "cases": svc.list_cases(rt, actor, org_slug), "is_lead": is_lead,
        "projects": projects.list_projects(rt, actor) if is_lead else [], **_common(request)})


@router.post("/orgs/{org_slug}/disclosure", dependencies=[CSRF])
def open_case(request: Request, rt: RT, actor: User, org_slug: str, project: Annotated[str, Form()] = "",
              title: Annotated[str, Form()] = "", briefing_md: Annotated[str, Form()] = "",
              embargo_ends_at: Annotated[str, Form()] = "", timezone: Annotated[str, Form()] = "UTC",
              stage_key: Annotated[str, Form()] = "", assets: Annotated[str, Form()] = "") -> Response:
    try:
        view = svc.open_case(rt, actor, org_slug, project, title=title, briefing_md=briefing_md,
                             embargo_ends_at=_instant(embargo_ends_at, timezone, "embargo_ends_at"),
                             stage_key=stage_key or None, assets=[a for a in assets.replace(",", " ").split() if a])
    except ReleasewiseError as exc:
        return redirect(f"/orgs/{org_slug}/disclosure", f"Case not opened: {exc.message}", error=True)
    return redirect(f"/orgs/{org_slug}/disclosure/{view.id}", "Case opened. Invite parties next.")


@router.get(C, response_class=HTMLResponse)
def case_page(request: Request, rt: RT, actor: User, org_slug: str, case_id: Id) -> Response:
    org = orgs.get_org(rt, actor, org_slug)
    case = svc.get_case(rt, actor, org_slug, case_id)
    is_lead = org.my_role in ("owner", "release_lead")
    invited = {p.stakeholder_id for p in case.parties}
    registry = [s for s in svc.list_stakeholders(rt, actor, org_slug) if s.id not in invited] if is_lead else []
    return render(request, "disclosure/case.html", {"org": org, "case": case, "is_lead": is_lead,
                                                    "registry": registry, **_common(request)})


def _act(org_slug: str, case_id: Id, done: str, call: Callable[[], object]) -> Response:
    try:
        call()
    except ReleasewiseError as exc:
        return redirect(f"/orgs/{org_slug}/disclosure/{case_id}", exc.message, error=True)
    return redirect(f"/orgs/{org_slug}/disclosure/{case_id}", done)


@router.post(C + "/invite", dependencies=[CSRF])
def invite(rt: RT, actor: User, org_slug: str, case_id: Id, stakeholder_id: Annotated[int, Form(ge=1, le=MAX_ID)],
           respond_by: Annotated[str, Form()] = "", timezone: Annotated[str, Form()] = "UTC") -> Response:
    return _act(org_slug, case_id, "Invited; each contact was emailed a private link.", lambda: svc.invite(
        rt, actor, org_slug, case_id, stakeholder_id=stakeholder_id,
        respond_by=_instant(respond_by, timezone, "respond_by")))


@router.post(C + "/messages", dependencies=[CSRF])
def post_message(rt: RT, actor: User, org_slug: str, case_id: Id, party_id: Annotated[int, Form(ge=1, le=MAX_ID)],
                 body: Annotated[str, Form()] = "") -> Response:
    return _act(org_slug, case_id, "Message sent to that party only.",
                lambda: svc.lab_message(rt, actor, org_slug, case_id, party_id=party_id, body=body))


@router.post(C + "/messages/{message_id}/share", dependencies=[CSRF])
def share(rt: RT, actor: User, org_slug: str, case_id: Id, message_id: Id) -> Response:
    return _act(org_slug, case_id, "Shared with every briefed party (without the author's organisation).",
                lambda: svc.share_message(rt, actor, org_slug, case_id, message_id))


@router.post(C + "/extend", dependencies=[CSRF])
def extend(rt: RT, actor: User, org_slug: str, case_id: Id, new_end: Annotated[str, Form()] = "",
           timezone: Annotated[str, Form()] = "UTC", reason: Annotated[str, Form()] = "") -> Response:
    return _act(org_slug, case_id, "Embargo extended; every party was told.", lambda: svc.extend_embargo(
        rt, actor, org_slug, case_id, new_end=_instant(new_end, timezone, "new_end"), reason=reason))


@router.post(C + "/parties/{party_id}/access", dependencies=[CSRF])
def grant_access(rt: RT, actor: User, org_slug: str, case_id: Id, party_id: Id, until: Annotated[str, Form()] = "",
                 timezone: Annotated[str, Form()] = "UTC") -> Response:
    """Convert a party's temporary access to the case's assets into a grant that outlives publication."""
    return _act(org_slug, case_id, "Access kept for that party until the date given.", lambda: svc.grant_party_access(
        rt, actor, org_slug, case_id, party_id, until=_instant(until, timezone, "until")))


@router.post(C + "/time-requests/{request_id}", dependencies=[CSRF])
def decide_time(rt: RT, actor: User, org_slug: str, case_id: Id, request_id: Id,
                decision: Annotated[str, Form()] = "", note: Annotated[str, Form()] = "") -> Response:
    return _act(org_slug, case_id, "Answered.", lambda: svc.decide_time_request(
        rt, actor, org_slug, case_id, request_id, extend=decision == "extend", note=note))


@router.post(C + "/publish", dependencies=[CSRF])
def publish(rt: RT, actor: User, org_slug: str, case_id: Id,
            public_summary: Annotated[str, Form()] = "") -> Response:
    return _act(org_slug, case_id, "Published: the embargo is lifted and parties were told.",
                lambda: svc.publish(rt, actor, org_slug, case_id, public_summary=public_summary))


@router.post(C + "/attachments")
async def upload(request: Request, rt: RT, actor: User, org_slug: str, case_id: Id) -> Response:
    form = await request.form()
    security.check_csrf(request, str(form.get("csrf_token", "")))
    file = form.get("file")
    if not isinstance(file, UploadFile):
        return redirect(f"/orgs/{org_slug}/disclosure/{case_id}", "Choose a file to attach.", error=True)
    data = await file.read(rt.settings.disclosure_max_attachment_bytes + 1)
    return await run_in_threadpool(_act, org_slug, case_id, f"Attached {file.filename}.", lambda: svc.add_attachment(
        rt, actor, org_slug, case_id, filename=file.filename or "attachment", content_type=file.content_type or "",
        data=data))


def _download(view: svc.AttachmentView, data: bytes) -> Response:
    return Response(data, media_type="application/octet-stream", headers={
        "Content-Disposition": f"attachment; filename*=UTF-8''{quote(view.filename)}",
        "X-Content-Type-Options": "nosniff", "Cache-Control": "no-store"})


@router.get(C + "/attachments/{attachment_id}")
def attachment(rt: RT, actor: User, org_slug: str, case_id: Id, attachment_id: Id) -> Response:
    return _download(*svc.get_attachment(rt, actor, org_slug, case_id, attachment_id))


@router.get("/orgs/{org_slug}/stakeholders", response_class=HTMLResponse)
def stakeholders_page(request: Request, rt: RT, actor: User, org_slug: str) -> Response:
    return render(request, "disclosure/stakeholders.html", {
        "org": orgs.get_org(rt, actor, org_slug), "stakeholders": svc.list_stakeholders(rt, actor, org_slug),
        "types": [t.value for t in rules.StakeholderType], "interests": rules.INTERESTS})


@router.post("/orgs/{org_slug}/stakeholders")
async def add_stakeholder(request: Request, rt: RT, actor: User, org_slug: str) -> Response:
    form = await request.form()
    security.check_csrf(request, str(form.get("csrf_token", "")))
    contacts = []
    for line in str(form.get("contacts", "")).splitlines():
        if line.strip():
            name, _, email = line.rpartition(",")
            contacts.append((name.strip() or email.strip(), email.strip(), ""))
    try:
        await run_in_threadpool(lambda: svc.add_stakeholder(
            rt, actor, org_slug, name=str(form.get("name", "")), type=str(form.get("type", "")),
            interests=[str(i) for i in form.getlist("interests")], shared=form.get("shared") == "on",
            note=str(form.get("note", "")), contacts=contacts))
    except ReleasewiseError as exc:
        return redirect(f"/orgs/{org_slug}/stakeholders", exc.message, error=True)
    return redirect(f"/orgs/{org_slug}/stakeholders", "Added to the registry.")


@router.get("/orgs/{org_slug}/webhooks", response_class=HTMLResponse)
def webhooks_page(request: Request, rt: RT, actor: User, org_slug: str) -> Response:
    return _webhooks(request, rt, actor, org_slug)


def _webhooks(request: Request, rt: Any, actor: Any, org_slug: str, **extra: Any) -> Response:
    return render(request, "disclosure/webhooks.html", {
        "org": orgs.get_org(rt, actor, org_slug), "webhooks": svc.list_webhooks(rt, actor, org_slug),
        "deliveries": svc.list_deliveries(rt, actor, org_slug),
        "stakeholders": svc.list_stakeholders(rt, actor, org_slug), **_common(request), **extra})


@router.post("/orgs/{org_slug}/webhooks", response_class=HTMLResponse, dependencies=[CSRF])
def add_webhook(request: Request, rt: RT, actor: User, org_slug: str, url: Annotated[str, Form()] = "",
                stakeholder_id: Annotated[str, Form()] = "") -> Response:
    try:
        view, secret = svc.add_webhook(rt, actor, org_slug, url=url,
                                       stakeholder_id=int(stakeholder_id) if stakeholder_id.isdigit() and int(stakeholder_id) <= MAX_ID else None)
    except ReleasewiseError as exc:
        return redirect(f"/orgs/{org_slug}/webhooks", exc.message, error=True)
    # Rendered, not redirected: the secret is shown once and never travels in a cookie.
    return _webhooks(request, rt, actor, org_slug, new_secret=secret, new_url=view.url)


# Public summaries ----------------------------------------------------------------------------------

@router.get("/orgs/{org_slug}/projects/{project_slug}/disclosures", response_class=HTMLResponse)
def public_page(request: Request, rt: RT, actor: MaybeUser, org_slug: str, project_slug: str) -> Response:
    """Anyone may read published summaries; open cases never appear here."""
    return render(request, "disclosure/public.html", {
        "summaries": svc.public_summaries(rt, org_slug, project_slug), "org_slug": org_slug,
        "project_slug": project_slug, **_common(request)})


# The party's private page ----------------------------------------------------------------------------

@router.get(P, response_class=HTMLResponse)
def party_page(request: Request, rt: RT, token: str) -> Response:
    view = svc.party_view(rt, token)
    response = render(request, "disclosure/party.html", {"p": view, "base": svc.PARTY_LINK_PATH + token,
                                                         "files": svc.party_files(rt, token), **_common(request)})
    response.headers["Cache-Control"] = "no-store"
    response.headers["Referrer-Policy"] = "no-referrer"
    return response


def _party_act(token: str, done: str, call: Callable[[], object]) -> Response:
    try:
        call()
    except ReleasewiseError as exc:
        return redirect(svc.PARTY_LINK_PATH + token, exc.message, error=True)
    return redirect(svc.PARTY_LINK_PATH + token, done)


@router.post(P + "/state", dependencies=[CSRF])
def party_state(rt: RT, token: str, state: Annotated[str, Form()] = "") -> Response:
    return _party_act(token, f"Saved: {state.replace('_', ' ')}.", lambda: svc.party_set_state(rt, token, state))


@router.post(P + "/messages", dependencies=[CSRF])
def party_message(rt: RT, token: str, body: Annotated[str, Form()] = "") -> Response:
    return _party_act(token, "Sent to the lab (only the lab sees it).", lambda: svc.party_message(rt, token, body))


@router.post(P + "/time", dependencies=[CSRF])
def party_time(rt: RT, token: str, until: Annotated[str, Form()] = "", timezone: Annotated[str, Form()] = "UTC",
               reason: Annotated[str, Form()] = "") -> Response:
    return _party_act(token, "Request sent to the lab.", lambda: svc.party_request_time(
        rt, token, reason=reason, until=_instant(until, timezone, "until")))


@router.get(P + "/files/{asset_slug}/{path:path}")
def party_file(rt: RT, token: str, asset_slug: str, path: str) -> Response:
    """A pre-release artifact shared with the party for the embargo's duration."""
    shared, blob = svc.party_file(rt, token, asset_slug, path)
    response = FileResponse(blob, media_type="application/octet-stream", filename=shared.path.rsplit("/", 1)[-1])
    response.headers["Cache-Control"] = "no-store"
    response.headers["ETag"] = f'"{shared.sha256}"'
    return response


@router.get(P + "/attachments/{attachment_id}")
def party_attachment(rt: RT, token: str, attachment_id: Id) -> Response:
    return _download(*svc.party_attachment(rt, token, attachment_id))
