from __future__ import annotations

import pytest

from releasewise.domain.roles import ROLE_PERMISSIONS, Action, Role, Scope, explain, required_scope

ALL_SCOPES = frozenset(Scope)


def test_every_action_has_a_rule_and_owners_may_do_everything() -> None:
    assert set(ROLE_PERMISSIONS) == set(Action)
    assert all(explain(Role.owner, a, ALL_SCOPES).allowed for a in Action)


@pytest.mark.parametrize("action", [Action.member_invite, Action.project_create, Action.asset_create,
                                    Action.audit_view, Action.org_update])
def test_viewers_cannot_change_things(action: Action) -> None:
    check = explain(Role.viewer, action, ALL_SCOPES)
    assert not check.allowed
    assert "viewer" in check.reason and action.value in check.reason


def test_everyone_can_view_projects() -> None:
    assert all(explain(r, Action.project_view, ALL_SCOPES).allowed for r in Role)


def test_read_only_token_cannot_write_even_as_owner() -> None:
    check = explain(Role.owner, Action.project_create, frozenset({Scope.read}))
    assert not check.allowed and "write" in check.reason
    assert explain(Role.owner, Action.project_view, frozenset({Scope.read})).allowed


def test_required_scopes() -> None:
    assert required_scope(Action.project_view) is Scope.read
    assert required_scope(Action.member_invite) is Scope.write
