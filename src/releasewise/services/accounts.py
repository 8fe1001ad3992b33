"""Accounts: sign-up, password login with rate limiting, browser sessions."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import func, or_, select
from sqlalchemy.orm import Session

from releasewise.domain.credentials import digest, new_secret
from releasewise.domain.roles import Scope
from releasewise.domain.validation import (
    check_password_strength,
    clean_email,
    clean_text,
    clean_username,
)
from releasewise.errors import Conflict, InvalidInput, NotAuthenticated, RateLimited
from releasewise.services.audit import record
from releasewise.services.runtime import Actor, PendingAudit, Runtime
from releasewise.services.views import UserView
from releasewise.store.models import LoginAttempt, User, WebSession

ALL_SCOPES = frozenset(Scope)
WRONG_CREDENTIALS = "Wrong username or password. Check both and try again."


def sign_up(
    rt: Runtime, *, username: str, email: str, password: str, display_name: str = "", ip: str = ""
) -> UserView:
    """Create an account. Anyone may sign up; organisations are joined by invitation."""
    username = clean_username(username)
    email = clean_email(email)
    display_name = clean_text(display_name or username, "Display name", max_length=100)
    check_password_strength(password, username=username)
    password_hash = rt.password_hasher.hash(password)
    with rt.write() as session:
        taken = session.scalars(
            select(User).where(or_(User.username == username, User.email == email))
        ).first()
        if taken is not None:
            what = "username" if taken.username == username else "email address"
            raise Conflict(
                f"An account with this {what} already exists. Log in instead, or choose another {what}.",
                field="username" if what == "username" else "email",
            )
        user = User(
            username=username,
            email=email,
            display_name=display_name,
            password_hash=password_hash,
            created_at=rt.clock.now(),
        )
        session.add(user)
        session.flush()
        record(session, rt, _as_actor(user, "password", ip), None, "user.signed_up", "user", user.id,
               {"username": username, "email": email})
        return UserView.of(user)


def _as_actor(user: User, via: str, ip: str = "") -> Actor:
    return Actor(user_id=user.id, username=user.username, scopes=ALL_SCOPES, via=via, ip=ip)


def authenticate_password(rt: Runtime, *, login: str, password: str, ip: str) -> Actor:
    """Check a username-or-email and password; rate limited per account and per IP.

    Failures are recorded (the attempt table and the instance audit chain) in
    their own transaction, so they survive the error that reports them.
    """
    key = (login or "").strip().lower()[:254]
    ip = (ip or "unknown")[:64]
    if not key or not password:
        raise InvalidInput("Enter your username (or email) and your password.")
    settings = rt.settings
    now = rt.clock.now()
    window_start = now - timedelta(minutes=settings.login_window_minutes)
    with rt.write() as session:
        _check_rate_limit(session, key, ip, window_start, settings.login_max_failures_per_account,
                          settings.login_max_failures_per_ip, settings.login_window_minutes)
        user = session.scalars(select(User).where(or_(User.username == key, User.email == key))).first()
        if user is None or not user.is_active or not _password_matches(rt, user.password_hash, password):
            session.add(LoginAttempt(username=key, ip=ip, at=now, succeeded=False))
            record(session, rt, None, None, "auth.login_failed", "login", key, {"ip": ip})
            # Commit the attempt and its audit entry, then report the failure.
            session.commit()
            raise NotAuthenticated(WRONG_CREDENTIALS)
        session.add(LoginAttempt(username=key, ip=ip, at=now, succeeded=True))
        if rt.password_hasher.check_needs_rehash(user.password_hash):
            user.password_hash = rt.password_hasher.hash(password)
        return _as_actor(user, "password", ip)


def _password_matches(rt: Runtime, stored_hash: str, password: str) -> bool:
    try:
        return rt.password_hasher.verify(stored_hash, password)
    except (VerificationError, InvalidHashError):
        return False


def _check_rate_limit(
    session: Session, key: str, ip: str, since: object, per_account: int, per_ip: int, minutes: int
) -> None:
    failures = select(func.count()).select_from(LoginAttempt).where(
        LoginAttempt.at >= since, LoginAttempt.succeeded.is_(False)
    )
    by_account = session.scalar(failures.where(LoginAttempt.username == key)) or 0
    by_ip = session.scalar(failures.where(LoginAttempt.ip == ip)) or 0
    if by_account >= per_account or by_ip >= per_ip:
        error = RateLimited(
            f"Too many failed logins. Wait {minutes} minutes and try again, or reset your password with an owner.",
            retry_after_seconds=minutes * 60,
        )
        error.pending_audit = PendingAudit(
            org_id=None, actor_user_id=None, actor_label="anonymous", action="auth.login_rate_limited",
            target_type="login", target_id=key, summary={"ip": ip},
        )
        raise error


@dataclass(frozen=True)
class NewSession:
    raw_token: str
    actor: Actor


def start_session(rt: Runtime, actor: Actor, *, user_agent: str = "") -> NewSession:
    """Open a browser session for a user who just proved who they are."""
    raw = new_secret()
    now = rt.clock.now()
    with rt.write() as session:
        session.add(
            WebSession(
                token_digest=digest(raw),
                user_id=actor.user_id,
                created_at=now,
                expires_at=now + timedelta(days=rt.settings.session_days),
                user_agent=user_agent[:200],
            )
        )
        record(session, rt, actor, None, "auth.logged_in", "user", actor.user_id, {"ip": actor.ip})
    return NewSession(raw, Actor(actor.user_id, actor.username, ALL_SCOPES, "session", ip=actor.ip))


def resolve_session(rt: Runtime, raw_token: str, *, ip: str = "") -> Actor | None:
    """The actor behind a session cookie, or None if it is unknown, expired or ended."""
    if not raw_token or len(raw_token) > 200:
        return None
    with rt.read() as session:
        row = session.execute(
            select(WebSession, User)
            .join(User, User.id == WebSession.user_id)
            .where(WebSession.token_digest == digest(raw_token))
        ).first()
        if row is None:
            return None
        web_session, user = row
        if web_session.revoked_at is not None or web_session.expires_at <= rt.clock.now() or not user.is_active:
            return None
        return Actor(user.id, user.username, ALL_SCOPES, "session", ip=ip)


def end_session(rt: Runtime, raw_token: str) -> None:
    """Log out: the session can never be used again."""
    with rt.write() as session:
        row = session.scalars(select(WebSession).where(WebSession.token_digest == digest(raw_token))).first()
        if row is None or row.revoked_at is not None:
            return
        row.revoked_at = rt.clock.now()
        user = session.get(User, row.user_id)
        actor = _as_actor(user, "session") if user else None
        record(session, rt, actor, None, "auth.logged_out", "user", row.user_id)


def get_user(rt: Runtime, actor: Actor) -> UserView:
    with rt.read() as session:
        user = session.get(User, actor.user_id)
        if user is None:
            raise NotAuthenticated("Your account no longer exists.")
        return UserView.of(user)
