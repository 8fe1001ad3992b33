"""Web pages of the precedent library: public search and records (no sign-in), and the lead's
publish / withdraw page under a decision."""

from __future__ import annotations

from typing import Annotated, Any
from urllib.parse import urlencode

from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse, Response
from markupsafe import Markup

from releasewise.api.schemas import Id
from releasewise.domain import precedents as rules
from releasewise.errors import ReleasewiseError
from releasewise.services import orgs, precedent_search, precedents
from releasewise.web import charts
from releasewise.web.rendering import render
from releasewise.web.routes import CSRF, RT, MaybeUser, User, redirect

router = APIRouter(include_in_schema=False)
PUB = "/orgs/{org_slug}/decisions/{decision_id}/precedent"
FACET_TITLES = {"modality": "Modality", "hazard": "Hazard", "option": "Release option", "outcome": "Outcome",
                "decision": "Decision"}


def _href(filters: rules.Filters, **changes: Any) -> str:
    params = filters.as_params(**changes)
    return "/precedents" + ("?" + urlencode(params) if params else "")


def _page_number(raw: str) -> int:
    """Pages come from links people may edit; a malformed one is the first page's problem, not a crash."""
    return int(raw) if raw.isdigit() and len(raw) <= 5 else 0


@router.get("/precedents", response_class=HTMLResponse)
def search_page(request: Request, rt: RT, actor: MaybeUser, q: str = "", modality: str = "", hazard: str = "",
                option: str = "", outcome: str = "", decision: str = "", org: str = "", page: str = "1") -> Response:
    form = {"q": q, "modality": modality, "hazard": hazard, "option": option, "outcome": outcome,
            "decision": decision, "org": org}
    context: dict[str, Any] = {"form": form, "facet_titles": FACET_TITLES, "values": precedent_search.FACET_VALUES,
                               "option_labels": rules.OPTION_LABELS, "href": _href}
    try:
        result = precedent_search.search(rt, query=q, modality=modality, hazard=hazard, option=option,
                                         outcome=outcome, decision=decision, org=org, page=_page_number(page))
    except ReleasewiseError as exc:
        return render(request, "precedents/search.html", {**context, "error": exc.message, "result": None},
                      exc.status_code)
    return render(request, "precedents/search.html", {**context, "result": result})


@router.get("/precedents/{precedent_id}", response_class=HTMLResponse)
def record_page(request: Request, rt: RT, actor: MaybeUser, precedent_id: Id) -> Response:
    view = precedent_search.get_precedent(rt, precedent_id)
    return render(request, "precedents/record.html", {
        "view": view, "record": view.record, "option_labels": rules.OPTION_LABELS,
        "spreads": Markup(charts.spread_chart(view.decision["disagreements"]))})


@router.get(PUB, response_class=HTMLResponse)
def publish_page(request: Request, rt: RT, actor: User, org_slug: str, decision_id: Id) -> Response:
    publication = precedents.publication(rt, actor, org_slug, decision_id)
    org = orgs.get_org(rt, actor, org_slug)
    return render(request, "precedents/publish.html", {
        "org": org, "p": publication, "record": publication.preview, "is_lead": org.my_role in ("owner", "release_lead"),
        "option_labels": rules.OPTION_LABELS,
        "spreads": Markup(charts.spread_chart(publication.preview["decision"]["disagreements"]))})


@router.post(PUB, dependencies=[CSRF])
def publish(rt: RT, actor: User, org_slug: str, decision_id: Id, options: Annotated[list[str] | None, Form()] = None,
            note: Annotated[str, Form()] = "") -> Response:
    try:
        pid = precedents.publish(rt, actor, org_slug, decision_id, options=options or [], note=note)
    except ReleasewiseError as exc:
        return redirect(PUB.format(org_slug=org_slug, decision_id=decision_id), exc.message, error=True)
    return redirect(f"/precedents/{pid}", "Published to the precedent library. This is what everyone sees.")


@router.post(PUB + "/withdraw", dependencies=[CSRF])
def withdraw(rt: RT, actor: User, org_slug: str, decision_id: Id) -> Response:
    try:
        precedents.withdraw(rt, actor, org_slug, decision_id)
    except ReleasewiseError as exc:
        return redirect(PUB.format(org_slug=org_slug, decision_id=decision_id), exc.message, error=True)
    return redirect(PUB.format(org_slug=org_slug, decision_id=decision_id),
                    "Withdrawn from the precedent library; it no longer appears in search.")
