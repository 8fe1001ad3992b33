from __future__ import annotations

import pytest
from sqlalchemy import func, select

from releasewise.errors import Conflict, InvalidInput, NotAuthenticated, RateLimited
from releasewise.services import accounts
from releasewise.services.runtime import Runtime
from releasewise.store.models import AuditEvent, User, WebSession
from tests.conftest import PASSWORD, make_user


def count(rt: Runtime, model: type) -> int:
    with rt.db.unit_of_work(write=False) as s:
        return s.scalar(select(func.count()).select_from(model)) or 0


def test_sign_up_stores_an_argon2id_hash_not_the_password(rt: Runtime) -> None:
    accounts.sign_up(rt, username="alice", email="Alice@Example.org", password=PASSWORD)
    with rt.db.unit_of_work(write=False) as s:
        user = s.scalars(select(User)).one()
    assert user.email == "alice@example.org"
    assert user.password_hash.startswith("$argon2id$")
    assert PASSWORD not in user.password_hash


def test_duplicate_username_or_email_is_refused_and_changes_nothing(rt: Runtime) -> None:
    accounts.sign_up(rt, username="alice", email="alice@example.org", password=PASSWORD)
    with pytest.raises(Conflict, match="username already exists"):
        accounts.sign_up(rt, username="ALICE", email="other@example.org", password=PASSWORD)
    with pytest.raises(Conflict, match="email address already exists"):
        accounts.sign_up(rt, username="alice2", email="alice@example.org", password=PASSWORD)
    assert count(rt, User) == 1


@pytest.mark.parametrize("kwargs", [
    {"username": "", "email": "a@example.org", "password": PASSWORD},
    {"username": "bob", "email": "not-an-email", "password": PASSWORD},
    {"username": "bob", "email": "b@example.org", "password": "short"},
    {"username": "bob", "email": "b@example.org", "password": PASSWORD, "display_name": "x" * 101},
])
def test_bad_sign_up_input_is_refused(rt: Runtime, kwargs: dict[str, str]) -> None:
    with pytest.raises(InvalidInput):
        accounts.sign_up(rt, **kwargs)
    assert count(rt, User) == 0


def test_wrong_password_is_refused_and_audited(rt: Runtime) -> None:
    make_user(rt, "alice")
    with pytest.raises(NotAuthenticated, match="Wrong username or password"):
        accounts.authenticate_password(rt, login="alice", password="wrong password!", ip="10.0.0.1")
    with rt.db.unit_of_work(write=False) as s:
        failed = s.scalars(select(AuditEvent).where(AuditEvent.action == "auth.login_failed")).all()
    assert len(failed) == 1 and failed[0].target_id == "alice"
    assert "wrong password" not in str(failed[0].summary)


def test_unknown_user_gets_the_same_message(rt: Runtime) -> None:
    with pytest.raises(NotAuthenticated, match="Wrong username or password"):
        accounts.authenticate_password(rt, login="nobody", password="whatever123", ip="10.0.0.1")


def test_login_by_email(rt: Runtime) -> None:
    make_user(rt, "alice")
    actor = accounts.authenticate_password(rt, login="ALICE@example.org", password=PASSWORD, ip="1.1.1.1")
    assert actor.username == "alice"


def test_rate_limit_per_account_blocks_even_the_right_password(rt: Runtime) -> None:
    make_user(rt, "alice")
    for _ in range(rt.settings.login_max_failures_per_account):
        with pytest.raises(NotAuthenticated):
            accounts.authenticate_password(rt, login="alice", password="wrong-guess-1", ip="10.0.0.9")
    with pytest.raises(RateLimited) as err:
        accounts.authenticate_password(rt, login="alice", password=PASSWORD, ip="10.0.0.10")
    assert err.value.retry_after_seconds == rt.settings.login_window_minutes * 60
    with rt.db.unit_of_work(write=False) as s:
        assert s.scalar(select(func.count()).where(AuditEvent.action == "auth.login_rate_limited")) == 1
    # After the window passes, the right password works again.
    rt.clock.advance(minutes=rt.settings.login_window_minutes + 1)  # type: ignore[attr-defined]
    assert accounts.authenticate_password(rt, login="alice", password=PASSWORD, ip="10.0.0.10").username == "alice"


def test_rate_limit_per_ip_across_accounts(rt: Runtime) -> None:
    for i in range(rt.settings.login_max_failures_per_ip):
        with pytest.raises(NotAuthenticated):
            accounts.authenticate_password(rt, login=f"user{i}", password="guess-guess", ip="203.0.113.5")
    make_user(rt, "alice")
    with pytest.raises(RateLimited):
        accounts.authenticate_password(rt, login="alice", password=PASSWORD, ip="203.0.113.5")
    assert accounts.authenticate_password(rt, login="alice", password=PASSWORD, ip="198.51.100.1")


def test_sessions_expire_and_end_on_logout(rt: Runtime) -> None:
    actor = make_user(rt, "alice")
    new = accounts.start_session(rt, actor)
    assert accounts.resolve_session(rt, new.raw_token).username == "alice"  # type: ignore[union-attr]
    with rt.db.unit_of_work(write=False) as s:
        stored = s.scalars(select(WebSession)).one()
    assert stored.token_digest != new.raw_token and new.raw_token not in stored.token_digest
    accounts.end_session(rt, new.raw_token)
    assert accounts.resolve_session(rt, new.raw_token) is None

    other = accounts.start_session(rt, actor)
    rt.clock.advance(days=rt.settings.session_days + 1)  # type: ignore[attr-defined]
    assert accounts.resolve_session(rt, other.raw_token) is None
    assert accounts.resolve_session(rt, "garbage") is None
