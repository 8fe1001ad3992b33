from __future__ import annotations

import pytest
from sqlalchemy import select

from releasewise.domain.roles import Scope
from releasewise.errors import InvalidInput, NotAuthenticated, NotFound, PermissionDenied
from releasewise.services import projects, tokens
from releasewise.services.runtime import Runtime
from releasewise.store.models import ApiToken
from tests.conftest import World, make_user


def test_token_is_shown_once_and_stored_as_a_digest(rt: Runtime) -> None:
    alice = make_user(rt, "alice")
    view, raw = tokens.create_token(rt, alice, name="laptop", scopes=["read"])
    with rt.db.unit_of_work(write=False) as s:
        row = s.scalars(select(ApiToken)).one()
    secret = raw.split("_", 2)[2]
    assert secret not in row.secret_digest and raw not in row.secret_digest
    assert view.public_id in raw
    actor = tokens.resolve_token(rt, raw)
    assert actor.username == "alice" and actor.scopes == frozenset({Scope.read}) and actor.via == "token"


def test_write_scope_implies_read(rt: Runtime) -> None:
    alice = make_user(rt, "alice")
    view, _ = tokens.create_token(rt, alice, name="ci", scopes="write")
    assert set(view.scopes) == {"read", "write"}


@pytest.mark.parametrize("scopes,days,message", [
    ([], 30, "at least one scope"),
    (["admin"], 30, "Unknown token scope"),
    (["read"], 0, "between 1 and 366"),
    (["read"], 400, "between 1 and 366"),
])
def test_bad_token_requests(rt: Runtime, scopes: list[str], days: int, message: str) -> None:
    alice = make_user(rt, "alice")
    with pytest.raises(InvalidInput, match=message):
        tokens.create_token(rt, alice, name="x", scopes=scopes, expires_in_days=days)
    assert tokens.list_tokens(rt, alice) == []


def test_tokens_cannot_mint_tokens(rt: Runtime) -> None:
    alice = make_user(rt, "alice")
    _, raw = tokens.create_token(rt, alice, name="read-only", scopes=["read"])
    as_token = tokens.resolve_token(rt, raw)
    with pytest.raises(PermissionDenied, match="cannot create other tokens"):
        tokens.create_token(rt, as_token, name="escalate", scopes=["write"])
    assert len(tokens.list_tokens(rt, alice)) == 1


def test_expired_revoked_malformed_and_unknown_tokens(rt: Runtime) -> None:
    alice = make_user(rt, "alice")
    _, raw = tokens.create_token(rt, alice, name="short", scopes=["read"], expires_in_days=1)
    rt.clock.advance(days=2)  # type: ignore[attr-defined]
    with pytest.raises(NotAuthenticated, match="expired"):
        tokens.resolve_token(rt, raw)

    view, raw2 = tokens.create_token(rt, alice, name="other", scopes=["read"])
    tokens.revoke_token(rt, alice, view.public_id)
    with pytest.raises(NotAuthenticated, match="revoked"):
        tokens.resolve_token(rt, raw2)
    with pytest.raises(NotAuthenticated, match="Malformed"):
        tokens.resolve_token(rt, "not a token")
    forged = raw2[: raw2.rindex("_") + 1] + "A" * 43
    with pytest.raises(NotAuthenticated, match="Unknown"):
        tokens.resolve_token(rt, forged)


def test_cannot_revoke_someone_elses_token(rt: Runtime) -> None:
    alice, bob = make_user(rt, "alice"), make_user(rt, "bobby")
    view, raw = tokens.create_token(rt, alice, name="mine", scopes=["read"])
    with pytest.raises(NotFound):
        tokens.revoke_token(rt, bob, view.public_id)
    assert tokens.resolve_token(rt, raw).username == "alice"


def test_read_token_cannot_write(world: World) -> None:
    _, raw = tokens.create_token(world.rt, world.owner, name="ro", scopes=["read"])
    actor = tokens.resolve_token(world.rt, raw)
    assert projects.list_projects(world.rt, actor, "lab-a")
    with pytest.raises(PermissionDenied, match="write"):
        projects.create_project(world.rt, actor, "lab-a", name="Nope")


def test_last_used_is_recorded(rt: Runtime) -> None:
    alice = make_user(rt, "alice")
    _, raw = tokens.create_token(rt, alice, name="t", scopes=["read"])
    tokens.resolve_token(rt, raw)
    assert tokens.list_tokens(rt, alice)[0].last_used_at == rt.clock.now()
