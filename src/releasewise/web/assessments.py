"""Web pages for assessments, reviews and decisions."""

from __future__ import annotations

from datetime import datetime, timedelta
from functools import partial
from typing import Annotated, Any

from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse, Response
from markupsafe import Markup
from starlette.concurrency import run_in_threadpool

from releasewise.api.schemas import Id, QueryId
from releasewise.domain.assessment import (
    BENEFIT_KINDS,
    FACTOR_HELP,
    SCORED_FACTORS,
    ActorSkill,
    Counterfactual,
    MisuseGoal,
)
from releasewise.domain.decisions import DIMENSIONS, STANCE_LABELS
from releasewise.domain.tiers import Hazard, Tier
from releasewise.errors import InvalidInput, ReleasewiseError
from releasewise.services import assessments, decisions, orgs, projects, reviews, tiers
from releasewise.services.runtime import Actor, Runtime
from releasewise.web import charts, security
from releasewise.web.assessment_forms import blank_scenario, document_from_form, editor_model
from releasewise.web.rendering import render
from releasewise.web.routes import CSRF, RT, User, redirect

router = APIRouter(include_in_schema=False)
P = "/orgs/{org_slug}/projects/{project_slug}"

CHOICES = {
    "actors": [a.value for a in ActorSkill],
    "goals": [g.value for g in MisuseGoal],
    "hazards": [h.value for h in Hazard],
    "availability": [c.value for c in Counterfactual],
    "factors": SCORED_FACTORS,
    "factor_help": FACTOR_HELP,
    "benefit_kinds": BENEFIT_KINDS,
    "dimensions": DIMENSIONS,
    "stance_labels": STANCE_LABELS,
    "tiers": [t.value for t in Tier],
}


def _charts(version: assessments.VersionView) -> dict[str, Markup]:
    profile = version.profile
    threshold = float(profile["settings"]["max_marginal_risk"])
    return {"matrix": Markup(charts.risk_matrix(profile["scenarios"])),
            "recommendation": Markup(charts.recommendation_chart(profile["assets"], threshold))}


# Overview ------------------------------------------------------------------------------

@router.get(P + "/assessment", response_class=HTMLResponse)
def overview(request: Request, rt: RT, actor: User, org_slug: str, project_slug: str) -> Response:
    org = orgs.get_org(rt, actor, org_slug)
    project = projects.get_project(rt, actor, org_slug, project_slug)
    draft = assessments.get_draft(rt, actor, org_slug, project_slug)
    versions = assessments.list_versions(rt, actor, org_slug, project_slug)
    latest = versions[0] if versions else None
    return render(request, "assessments/overview.html", {
        "org": org, "project": project, "draft": draft, "versions": versions, "latest": latest,
        "charts": _charts(latest) if latest else None,
        "reviews": reviews.list_reviews(rt, actor, org_slug, project_slug),
        "decisions": decisions.list_decisions(rt, actor, org_slug, project_slug),
        "is_lead": org.my_role in ("owner", "release_lead"),
    })


# Editor ----------------------------------------------------------------------------------

def _editor(request: Request, rt: Runtime, actor: Actor, org_slug: str, project_slug: str,
            document: dict[str, Any] | None = None, status_code: int = 200, **extra: Any) -> Response:
    org = orgs.get_org(rt, actor, org_slug)
    project = projects.get_project(rt, actor, org_slug, project_slug)
    draft = assessments.get_draft(rt, actor, org_slug, project_slug)
    assets = projects.list_assets(rt, actor, org_slug, project_slug)
    model = editor_model(document if document is not None else draft.document)
    if not model["scenarios"]:
        model["scenarios"].append(blank_scenario(0))
    return render(request, "assessments/edit.html", {
        "org": org, "project": project, "draft": draft, "assets": assets, "doc": model, **CHOICES, **extra,
    }, status_code)


async def _editor_in_thread(request: Request, rt: Runtime, actor: Actor, org_slug: str, project_slug: str,
                            document: dict[str, Any] | None = None, status_code: int = 200, error: str = "",
                            ) -> Response:
    """The editor page from an async route: the services it calls block, so they run in a worker thread."""
    return await run_in_threadpool(partial(_editor, request, rt, actor, org_slug, project_slug, document, status_code,
                                           error=error))


@router.get(P + "/assessment/edit", response_class=HTMLResponse)
def edit(request: Request, rt: RT, actor: User, org_slug: str, project_slug: str) -> Response:
    return _editor(request, rt, actor, org_slug, project_slug)


@router.post(P + "/assessment/edit", response_class=HTMLResponse)
async def save(request: Request, rt: RT, actor: User, org_slug: str, project_slug: str) -> Response:
    """Autosave (htmx, answers a status line), add/remove a scenario, or save and submit."""
    form = await request.form()
    security.check_csrf(request, str(form.get("csrf_token", "")))
    asset_views = await run_in_threadpool(projects.list_assets, rt, actor, org_slug, project_slug)
    document = document_from_form(form, [a.slug for a in asset_views])
    action = str(form.get("action", "save"))
    if action == "add_scenario":
        document["scenarios"].append(blank_scenario(len(document["scenarios"])))
    try:
        draft = await run_in_threadpool(assessments.save_draft, rt, actor, org_slug, project_slug, document)
    except ReleasewiseError as exc:
        return await _editor_in_thread(request, rt, actor, org_slug, project_slug, document, exc.status_code,
                                       exc.message)
    if request.headers.get("hx-request"):
        return render(request, "assessments/_save_status.html", {"draft": draft})
    if action == "submit":
        try:
            version = await run_in_threadpool(assessments.submit, rt, actor, org_slug, project_slug)
        except ReleasewiseError as exc:
            return await _editor_in_thread(request, rt, actor, org_slug, project_slug, document, exc.status_code,
                                           exc.message)
        return redirect(f"/orgs/{org_slug}/projects/{project_slug}/assessment/versions/{version.number}",
                        f"Submitted version {version.number}. It can no longer change.")
    if action == "add_scenario":
        return await _editor_in_thread(request, rt, actor, org_slug, project_slug, document)
    return redirect(f"/orgs/{org_slug}/projects/{project_slug}/assessment/edit", "Draft saved.")


@router.post(P + "/assessment/import", response_class=HTMLResponse)
async def import_file(request: Request, rt: RT, actor: User, org_slug: str, project_slug: str) -> Response:
    form = await request.form()
    security.check_csrf(request, str(form.get("csrf_token", "")))
    upload = form.get("file")
    if upload is None or isinstance(upload, str) or not upload.filename:
        return await _editor_in_thread(request, rt, actor, org_slug, project_slug, None, 422,
                                       "Choose a YAML or JSON file to import.")
    raw = await upload.read(assessments.MAX_DOCUMENT_BYTES + 1)
    try:
        text = raw.decode("utf-8")
        await run_in_threadpool(lambda: assessments.import_document(rt, actor, org_slug, project_slug, text,
                                                                    filename=upload.filename or "upload"))
    except UnicodeDecodeError:
        return await _editor_in_thread(request, rt, actor, org_slug, project_slug, None, 422,
                                       "The file is not UTF-8 text. Nothing was imported.")
    except ReleasewiseError as exc:
        return await _editor_in_thread(request, rt, actor, org_slug, project_slug, None, exc.status_code,
                                       exc.message)
    return redirect(f"/orgs/{org_slug}/projects/{project_slug}/assessment/edit",
                    f"Imported {upload.filename} as the draft.")


# Versions and diffs ---------------------------------------------------------------------------

@router.get(P + "/assessment/versions/{number}", response_class=HTMLResponse)
def version_page(request: Request, rt: RT, actor: User, org_slug: str, project_slug: str, number: Id) -> Response:
    version = assessments.get_version(rt, actor, org_slug, project_slug, number)
    org = orgs.get_org(rt, actor, org_slug)
    is_lead = org.my_role in ("owner", "release_lead")
    context: dict[str, Any] = {"org": org, "version": version, "charts": _charts(version), "is_lead": is_lead,
                               "project_name": project_slug, **CHOICES}
    if is_lead:
        context["project_name"] = projects.get_project(rt, actor, org_slug, project_slug).name
        context["suggestions"] = reviews.suggest_reviewers(rt, actor, org_slug, project_slug, number)
        context["default_due"] = (rt.clock.now() + timedelta(days=14)).strftime("%Y-%m-%d")
    return render(request, "assessments/version.html", context)


@router.get(P + "/assessment/diff", response_class=HTMLResponse)
def diff_page(request: Request, rt: RT, actor: User, org_slug: str, project_slug: str,
              old: QueryId, new: QueryId) -> Response:
    changes = assessments.diff_versions(rt, actor, org_slug, project_slug, old, new)
    return render(request, "assessments/diff.html", {"org": orgs.get_org(rt, actor, org_slug),
                                                     "project_slug": project_slug, "old": old, "new": new,
                                                     "changes": changes})


# Reviews ----------------------------------------------------------------------------------------

@router.post(P + "/reviews", response_class=HTMLResponse)
async def request_review(request: Request, rt: RT, actor: User, org_slug: str, project_slug: str) -> Response:
    form = await request.form()
    security.check_csrf(request, str(form.get("csrf_token", "")))
    number = int(str(form.get("version", "0")) or 0)
    steps = [f"{slug}:{form.get(f'step-{slug}')}" for slug in
             {str(k)[5:] for k in form.keys() if str(k).startswith("step-")} if form.get(f"step-{slug}")]
    try:
        due = datetime.strptime(str(form.get("due", "")), "%Y-%m-%d") + timedelta(hours=17)
    except ValueError:
        due = None
    try:
        if due is None:
            raise InvalidInput("Give a due date as YYYY-MM-DD.", field="due_at")
        view = await run_in_threadpool(lambda: reviews.request_review(
            rt, actor, org_slug, project_slug, version=number, reviewers=[str(r) for r in form.getlist("reviewers")],
            steps=sorted(steps), due_at=due, note=str(form.get("note", ""))))
    except ReleasewiseError as exc:
        return redirect(f"/orgs/{org_slug}/projects/{project_slug}/assessment/versions/{number}",
                        f"Review not requested: {exc.message}", error=True)
    return redirect(f"/orgs/{org_slug}/reviews/{view.id}", "Review requested; reviewers were emailed.")


@router.get("/orgs/{org_slug}/reviews/{review_id}", response_class=HTMLResponse)
def review_page(request: Request, rt: RT, actor: User, org_slug: str, review_id: Id) -> Response:
    review = reviews.get_review(rt, actor, org_slug, review_id)
    org = orgs.get_org(rt, actor, org_slug)
    mine = next((a for a in review.assignments if a.reviewer == actor.username), None)
    return render(request, "assessments/review.html", {
        "org": org, "review": review, "mine": mine, "is_lead": org.my_role in ("owner", "release_lead"),
        "voted": sum(1 for a in review.assignments if a.vote), **CHOICES,
    })


@router.post("/orgs/{org_slug}/reviews/{review_id}/conflict", dependencies=[CSRF])
def declare_conflict(rt: RT, actor: User, org_slug: str, review_id: Id,
                     has_conflict: Annotated[str, Form()] = "", note: Annotated[str, Form()] = "") -> Response:
    try:
        reviews.declare_conflict(rt, actor, org_slug, review_id, has_conflict=has_conflict == "yes", note=note)
    except ReleasewiseError as exc:
        return redirect(f"/orgs/{org_slug}/reviews/{review_id}", exc.message, error=True)
    message = "Conflict declared; you will not vote." if has_conflict == "yes" else "No conflict declared."
    return redirect(f"/orgs/{org_slug}/reviews/{review_id}", message)


@router.post("/orgs/{org_slug}/reviews/{review_id}/vote")
async def vote(request: Request, rt: RT, actor: User, org_slug: str, review_id: Id) -> Response:
    form = await request.form()
    security.check_csrf(request, str(form.get("csrf_token", "")))
    conditions = [line for line in str(form.get("conditions", "")).splitlines() if line.strip()]
    stances = {d: str(form.get(f"stance-{d}", "")) for d in DIMENSIONS if form.get(f"stance-{d}")}
    try:
        await run_in_threadpool(lambda: reviews.vote(rt, actor, org_slug, review_id, vote=str(form.get("vote", "")),
                                                     conditions=conditions, comments=str(form.get("comments", "")),
                                                     stances=stances, public_credit=form.get("public_credit") == "on"))
    except ReleasewiseError as exc:
        return redirect(f"/orgs/{org_slug}/reviews/{review_id}", f"Vote not recorded: {exc.message}", error=True)
    return redirect(f"/orgs/{org_slug}/reviews/{review_id}", "Your vote is recorded.")


@router.post("/orgs/{org_slug}/reviews/{review_id}/public-credit", dependencies=[CSRF])
def public_credit(rt: RT, actor: User, org_slug: str, review_id: Id, named: Annotated[str, Form()] = "") -> Response:
    try:
        reviews.set_public_credit(rt, actor, org_slug, review_id, named=named == "yes")
    except ReleasewiseError as exc:
        return redirect(f"/orgs/{org_slug}/reviews/{review_id}", exc.message, error=True)
    return redirect(f"/orgs/{org_slug}/reviews/{review_id}", "You will be named as a reviewer on public pages."
                    if named == "yes" else "You will not be named on public pages.")


@router.post("/orgs/{org_slug}/reviews/{review_id}/close", dependencies=[CSRF])
def close(rt: RT, actor: User, org_slug: str, review_id: Id, rationale: Annotated[str, Form()] = "",
          extra_conditions: Annotated[str, Form()] = "") -> Response:
    try:
        decision_id = reviews.close_review(rt, actor, org_slug, review_id, rationale=rationale,
                                           extra_conditions=[c for c in extra_conditions.splitlines() if c.strip()])
    except ReleasewiseError as exc:
        return redirect(f"/orgs/{org_slug}/reviews/{review_id}", f"Not closed: {exc.message}", error=True)
    return redirect(f"/orgs/{org_slug}/decisions/{decision_id}", "Decision recorded.")


@router.get("/reviews", response_class=HTMLResponse)
def my_reviews(request: Request, rt: RT, actor: User) -> Response:
    return render(request, "assessments/my_reviews.html", {"reviews": reviews.my_assignments(rt, actor)})


# Decisions ----------------------------------------------------------------------------------------

@router.get("/orgs/{org_slug}/decisions/{decision_id}", response_class=HTMLResponse)
def decision_page(request: Request, rt: RT, actor: User, org_slug: str, decision_id: Id) -> Response:
    decision = decisions.get_decision(rt, actor, org_slug, decision_id)
    org = orgs.get_org(rt, actor, org_slug)
    profile = decision.profile
    return render(request, "assessments/decision.html", {
        "org": org, "decision": decision, "is_lead": org.my_role in ("owner", "release_lead"),
        "matrix": Markup(charts.risk_matrix(profile["scenarios"])),
        "stances": Markup(charts.stance_chart(decision.disagreement)),
        "scenarios": profile["scenarios"],
    })


@router.post("/orgs/{org_slug}/decisions/{decision_id}/conditions/{index}", dependencies=[CSRF])
def condition_met(rt: RT, actor: User, org_slug: str, decision_id: Id, index: Id) -> Response:
    try:
        decisions.mark_condition_met(rt, actor, org_slug, decision_id, index)
    except ReleasewiseError as exc:
        return redirect(f"/orgs/{org_slug}/decisions/{decision_id}", exc.message, error=True)
    return redirect(f"/orgs/{org_slug}/decisions/{decision_id}", f"Condition {index + 1} marked met.")


@router.get("/orgs/{org_slug}/decisions/{decision_id}/export")
def export(rt: RT, actor: User, org_slug: str, decision_id: Id, format: str = "markdown") -> Response:
    if format not in decisions.EXPORTS:
        raise InvalidInput("Export format must be markdown, json or model-card.")
    media, render_export, ext = decisions.EXPORTS[format]
    view = decisions.get_decision(rt, actor, org_slug, decision_id)
    return Response(render_export(view), media_type=media,
                    headers={"Content-Disposition": f'attachment; filename="decision-{decision_id}-{format}.{ext}"'})


# Reviewer pool, policy, tiers ------------------------------------------------------------------------

@router.get("/orgs/{org_slug}/reviewers", response_class=HTMLResponse)
def pool_page(request: Request, rt: RT, actor: User, org_slug: str) -> Response:
    return render(request, "assessments/pool.html", {"org": orgs.get_org(rt, actor, org_slug),
                                                     "pool": reviews.list_pool(rt, actor, org_slug),
                                                     "tags": reviews.EXPERTISE_TAGS})


@router.post("/orgs/{org_slug}/reviewers", response_class=HTMLResponse)
async def add_reviewer(request: Request, rt: RT, actor: User, org_slug: str) -> Response:
    form = await request.form()
    security.check_csrf(request, str(form.get("csrf_token", "")))
    try:
        entry, link = await run_in_threadpool(lambda: reviews.add_reviewer(
            rt, actor, org_slug, email=str(form.get("email", "")), expertise=[str(t) for t in form.getlist("tags")],
            note=str(form.get("note", ""))))
    except ReleasewiseError as exc:
        return redirect(f"/orgs/{org_slug}/reviewers", exc.message, error=True)
    message = (f"Invited {entry.email}; they join the pool when they accept: {link}" if link
               else f"Added {entry.username} to the reviewer pool.")
    return redirect(f"/orgs/{org_slug}/reviewers", message)


@router.get("/orgs/{org_slug}/policy", response_class=HTMLResponse)
def policy_page(request: Request, rt: RT, actor: User, org_slug: str) -> Response:
    return render(request, "assessments/policy.html", {"org": orgs.get_org(rt, actor, org_slug),
                                                       "policy": assessments.get_policy(rt, actor, org_slug)})


@router.post("/orgs/{org_slug}/policy", response_class=HTMLResponse)
async def update_policy(request: Request, rt: RT, actor: User, org_slug: str) -> Response:
    form = await request.form()
    security.check_csrf(request, str(form.get("csrf_token", "")))

    def number(name: str) -> float | str:
        raw = str(form.get(name, "")).strip()
        try:
            return float(raw)
        except ValueError:
            return raw

    scoring = {
        "likelihood_weights": {f: number(f"w-{f}") for f in ("awareness", "deployment", "sustained_use")},
        "magnitude_weights": {f: number(f"w-{f}") for f in ("severity", "scale", "reversibility")},
        "max_marginal_risk": number("max_marginal_risk"),
        "defenses_strength": number("defenses_strength"),
    }
    try:
        days = int(str(form.get("decision_valid_days", "365")))
        await run_in_threadpool(lambda: assessments.update_policy(
            rt, actor, org_slug, scoring=scoring, allow_author_review=form.get("allow_author_review") == "on",
            decision_valid_days=days))
    except ValueError:
        return redirect(f"/orgs/{org_slug}/policy", "Decision validity must be a whole number of days.", error=True)
    except ReleasewiseError as exc:
        return redirect(f"/orgs/{org_slug}/policy", f"Not saved: {exc.message}", error=True)
    return redirect(f"/orgs/{org_slug}/policy", "Policy saved. New submissions are scored with it.")


@router.post(P + "/assets/{asset_slug}/tier", dependencies=[CSRF])
def set_tier(rt: RT, actor: User, org_slug: str, project_slug: str, asset_slug: str,
             tier: Annotated[str, Form()] = "", reason: Annotated[str, Form()] = "") -> Response:
    try:
        view = tiers.set_asset_tier(rt, actor, org_slug, project_slug, asset_slug, tier, reason=reason)
    except ReleasewiseError as exc:
        return redirect(f"/orgs/{org_slug}/projects/{project_slug}", f"Tier not changed: {exc.message}",
                        error=True)
    return redirect(f"/orgs/{org_slug}/projects/{project_slug}",
                    f"{view.name} is now at '{view.current_tier}'; exposure high-water mark '{view.high_water_tier}'.")
