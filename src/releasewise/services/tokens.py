"""Personal API tokens: created once and shown once, stored as digests, scoped, expiring."""

from __future__ import annotations

import hmac
from datetime import timedelta

from sqlalchemy import select, update

from releasewise.domain.credentials import digest, format_api_token, new_public_id, new_secret, parse_api_token
from releasewise.domain.roles import Scope
from releasewise.domain.validation import clean_text
from releasewise.errors import InvalidInput, NotAuthenticated, NotFound, PermissionDenied
from releasewise.services.audit import record
from releasewise.services.runtime import Actor, Runtime
from releasewise.services.views import TokenView
from releasewise.store.models import ApiToken, User

MAX_TOKEN_DAYS = 366
MAX_TOKENS_PER_USER = 50
LAST_USED_RESOLUTION = timedelta(minutes=1)


def parse_scopes(values: list[str] | tuple[str, ...] | str) -> frozenset[Scope]:
    items = values.split(",") if isinstance(values, str) else list(values)
    scopes: set[Scope] = set()
    for item in (v.strip().lower() for v in items):
        if not item:
            continue
        try:
            scopes.add(Scope(item))
        except ValueError:
            valid = ", ".join(s.value for s in Scope)
            raise InvalidInput(f"Unknown token scope '{item}'. Valid scopes: {valid}.", field="scopes") from None
    if not scopes:
        raise InvalidInput("Choose at least one scope for the token (read, write).", field="scopes")
    if Scope.write in scopes:
        scopes.add(Scope.read)
    return frozenset(scopes)


def create_token(
    rt: Runtime,
    actor: Actor,
    *,
    name: str,
    scopes: list[str] | tuple[str, ...] | str,
    expires_in_days: int | None = 90,
) -> tuple[TokenView, str]:
    """Create a token and return it with its secret, which is never shown again.

    Tokens cannot mint tokens: a leaked read-only token must not be able to
    create a write token for itself.
    """
    if actor.via == "token":
        raise PermissionDenied(
            "API tokens cannot create other tokens. Create one in the web UI (Settings → API tokens) "
            "or with `releasewise login`."
        )
    name = clean_text(name, "Token name", max_length=100)
    parsed = parse_scopes(scopes)
    if expires_in_days is not None and not 1 <= expires_in_days <= MAX_TOKEN_DAYS:
        raise InvalidInput(
            f"Token lifetime must be between 1 and {MAX_TOKEN_DAYS} days (or no expiry).",
            field="expires_in_days",
        )
    now = rt.clock.now()
    secret = new_secret()
    public_id = new_public_id()
    with rt.write() as session:
        live = session.scalars(
            select(ApiToken).where(ApiToken.user_id == actor.user_id, ApiToken.revoked_at.is_(None))
        ).all()
        if len(live) >= MAX_TOKENS_PER_USER:
            raise InvalidInput(f"You already have {len(live)} active tokens; revoke unused ones first.")
        row = ApiToken(
            public_id=public_id,
            secret_digest=digest(secret),
            user_id=actor.user_id,
            name=name,
            scopes=",".join(sorted(s.value for s in parsed)),
            created_at=now,
            expires_at=now + timedelta(days=expires_in_days) if expires_in_days else None,
        )
        session.add(row)
        session.flush()
        record(session, rt, actor, None, "token.created", "api_token", row.public_id,
               {"name": name, "scopes": row.scopes, "expires_at": str(row.expires_at or "never")})
        return TokenView.of(row), format_api_token(public_id, secret)


def list_tokens(rt: Runtime, actor: Actor) -> list[TokenView]:
    with rt.read() as session:
        rows = session.scalars(
            select(ApiToken).where(ApiToken.user_id == actor.user_id).order_by(ApiToken.created_at.desc(), ApiToken.id.desc())
        ).all()
        return [TokenView.of(r) for r in rows]


def revoke_token(rt: Runtime, actor: Actor, public_id: str) -> TokenView:
    with rt.write() as session:
        row = session.scalars(
            select(ApiToken).where(ApiToken.public_id == public_id, ApiToken.user_id == actor.user_id)
        ).first()
        if row is None:
            raise NotFound(f"You have no token '{public_id}'. List your tokens to find its id.")
        if row.revoked_at is None:
            row.revoked_at = rt.clock.now()
            record(session, rt, actor, None, "token.revoked", "api_token", row.public_id, {"name": row.name})
        return TokenView.of(row)


def resolve_token(rt: Runtime, raw: str, *, ip: str = "") -> Actor:
    """The actor an ``Authorization: Bearer`` token stands for, or NotAuthenticated saying why."""
    parsed = parse_api_token(raw)
    if parsed is None:
        raise NotAuthenticated("Malformed API token: expected 'rwt_<id>_<secret>'. Copy the whole token.")
    now = rt.clock.now()
    with rt.read() as session:
        row = session.execute(
            select(ApiToken, User).join(User, User.id == ApiToken.user_id).where(ApiToken.public_id == parsed.public_id)
        ).first()
        if row is None or not hmac.compare_digest(row[0].secret_digest, digest(parsed.secret)):
            raise NotAuthenticated("Unknown API token. Create a new one with `releasewise login` or in the web UI.")
        token, user = row
        if token.revoked_at is not None:
            raise NotAuthenticated("This API token was revoked. Create a new one.")
        if token.expires_at is not None and token.expires_at <= now:
            raise NotAuthenticated("This API token has expired. Create a new one.")
        if not user.is_active:
            raise NotAuthenticated("The account this token belongs to is disabled.")
        scopes = frozenset(Scope(s) for s in token.scopes.split(",") if s)
        actor = Actor(user.id, user.username, scopes, "token", token_id=token.id, ip=ip)
        stale = token.last_used_at is None or now - token.last_used_at > LAST_USED_RESOLUTION
    if stale:
        # A separate short write, at most once a minute per token, keeps the
        # hot path of every API request read-only.
        with rt.write() as session:
            session.execute(update(ApiToken).where(ApiToken.id == actor.token_id).values(last_used_at=now))
    return actor
