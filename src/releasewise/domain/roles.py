"""Roles, actions and the permission table.

Permissions are data (a table of actions × roles) rather than ``if`` chains
scattered through services, so that they can be listed, documented, tested
exhaustively and explained ("why may I not do this?").
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import Enum


class Role(str, Enum):
    """A member's role in one organisation."""

    owner = "owner"
    release_lead = "release_lead"
    researcher = "researcher"
    reviewer = "reviewer"
    viewer = "viewer"


class Scope(str, Enum):
    """What an API token may be used for. Sessions carry every scope."""

    read = "read"
    write = "write"


class Action(str, Enum):
    """Everything a member can do inside an organisation."""

    org_view = "org.view"
    org_update = "org.update"
    member_view = "member.view"
    member_invite = "member.invite"
    member_change_role = "member.change_role"
    member_remove = "member.remove"
    project_view = "project.view"
    project_create = "project.create"
    asset_view = "asset.view"
    asset_create = "asset.create"
    audit_view = "audit.view"
    audit_verify = "audit.verify"
    # assessment / review / decisions
    assessment_view = "assessment.view"
    assessment_edit = "assessment.edit"
    policy_update = "policy.update"
    reviewer_pool_manage = "reviewer_pool.manage"
    review_request = "review.request"
    review_decide = "review.decide"
    decision_view = "decision.view"
    decision_update = "decision.update"
    asset_set_tier = "asset.set_tier"
    # release plans
    plan_view = "plan.view"
    plan_edit = "plan.edit"
    project_publish = "project.publish"
    # access / registry
    asset_upload = "asset.upload"
    asset_download = "asset.download"
    access_configure = "access.configure"
    access_decide = "access.decide"
    access_view = "access.view"
    # disclosure
    disclosure_view = "disclosure.view"
    disclosure_manage = "disclosure.manage"
    webhook_manage = "webhook.manage"
    # incidents
    report_view = "report.view"
    report_triage = "report.triage"
    incident_view = "incident.view"
    incident_manage = "incident.manage"
    # provenance: watermark keys, content credentials, the detection service
    provenance_manage = "provenance.manage"
    provenance_mark = "provenance.mark"
    detection_view = "detection.view"
    # precedent library
    precedent_publish = "precedent.publish"
    report_message = "report.message"


_ALL = frozenset(Role)
_LEADS = frozenset({Role.owner, Role.release_lead})

ROLE_PERMISSIONS: dict[Action, frozenset[Role]] = {
    Action.org_view: _ALL,
    Action.org_update: frozenset({Role.owner}),
    Action.member_view: _ALL,
    Action.member_invite: frozenset({Role.owner}),
    Action.member_change_role: frozenset({Role.owner}),
    Action.member_remove: frozenset({Role.owner}),
    Action.project_view: _ALL,
    Action.project_create: _LEADS,
    Action.asset_view: _ALL,
    Action.asset_create: _LEADS | {Role.researcher},
    Action.audit_view: _LEADS,
    Action.audit_verify: _LEADS,
    # assessment / review / decisions (reviewers see assessments through their assignments)
    Action.assessment_view: _LEADS | {Role.researcher},
    Action.assessment_edit: _LEADS | {Role.researcher},
    Action.policy_update: frozenset({Role.owner}),
    Action.reviewer_pool_manage: _LEADS,
    Action.review_request: _LEADS,
    Action.review_decide: _LEADS,
    Action.decision_view: _ALL - {Role.reviewer},
    Action.decision_update: _LEADS,
    Action.asset_set_tier: _LEADS,
    # release plans
    Action.plan_view: _ALL,
    Action.plan_edit: _LEADS,
    Action.project_publish: _LEADS,
    # access / registry
    Action.asset_upload: _LEADS | {Role.researcher},
    Action.asset_download: _ALL,
    Action.access_configure: _LEADS,
    Action.access_decide: _LEADS,
    Action.access_view: _LEADS,
    # disclosure (embargoed briefings: leads run cases, researchers read them; viewers and reviewers do not)
    Action.disclosure_view: _LEADS | {Role.researcher},
    Action.disclosure_manage: _LEADS,
    Action.webhook_manage: _LEADS,
    # incidents (misuse reports and their reporters are seen by the org's responders only)
    Action.report_view: _LEADS,
    Action.report_triage: _LEADS,
    Action.incident_view: _LEADS,
    Action.incident_manage: _LEADS,
    # provenance (leads manage keys, detection settings and partners; researchers mark what they generate;
    # the check log shows who traced the organisation's marks, so only leads read it)
    Action.provenance_manage: _LEADS,
    Action.provenance_mark: _LEADS | {Role.researcher},
    Action.detection_view: _LEADS,
    # precedent library (publishing a redacted decision record to every visitor of the instance)
    Action.precedent_publish: _LEADS,
    Action.report_message: _LEADS,
}

# Actions that only read; a token needs the ``write`` scope for all others.
READ_ONLY_ACTIONS = frozenset(
    {
        Action.org_view,
        Action.member_view,
        Action.project_view,
        Action.asset_view,
        Action.audit_view,
        Action.audit_verify,
        # assessment / review / decisions
        Action.assessment_view,
        Action.decision_view,
        # release plans
        Action.plan_view,
        # access / registry
        Action.asset_download,
        Action.access_view,
        # disclosure
        Action.disclosure_view,
        # incidents
        Action.report_view,
        Action.incident_view,
        # provenance
        Action.detection_view,
    }
)


def required_scope(action: Action) -> Scope:
    return Scope.read if action in READ_ONLY_ACTIONS else Scope.write


@dataclass(frozen=True)
class PermissionCheck:
    """The outcome of a permission check, with the reason in plain words."""

    allowed: bool
    reason: str


def explain(role: Role, action: Action, scopes: frozenset[Scope]) -> PermissionCheck:
    """Say whether ``role`` holding ``scopes`` may perform ``action``, and why."""
    allowed_roles = ROLE_PERMISSIONS[action]
    if role not in allowed_roles:
        names = ", ".join(sorted(r.value for r in allowed_roles))
        return PermissionCheck(
            False,
            f"Your role '{role.value}' does not allow '{action.value}'; it needs one of: {names}. "
            "Ask an organisation owner to change your role.",
        )
    scope = required_scope(action)
    if scope not in scopes:
        return PermissionCheck(
            False,
            f"This API token lacks the '{scope.value}' scope needed for '{action.value}'. "
            "Create a token with that scope.",
        )
    return PermissionCheck(True, f"Role '{role.value}' allows '{action.value}'.")
