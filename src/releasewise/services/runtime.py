"""The handles services need, and the unit of work they run in."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field

from argon2 import PasswordHasher
from sqlalchemy.orm import Session

from releasewise.clock import Clock, SystemClock
from releasewise.config import Settings
from releasewise.domain.roles import Scope
from releasewise.errors import ReleasewiseError
from releasewise.notify.mail import Mailer
from releasewise.store.db import Database


@dataclass(frozen=True)
class Actor:
    """Who is acting: a signed-in user (session) or an API token's owner."""

    user_id: int
    username: str
    scopes: frozenset[Scope]
    via: str  # "session" | "token" | "password"
    token_id: int | None = None
    ip: str = ""

    @property
    def label(self) -> str:
        return f"{self.username} (token #{self.token_id})" if self.token_id else self.username


@dataclass(frozen=True)
class PendingAudit:
    """An audit event to record after the failed transaction has rolled back.

    Refused actions (a wrong password, a role that does not allow the action)
    must leave a trace even though their own transaction changes nothing.
    """

    org_id: int | None
    actor_user_id: int | None
    actor_label: str
    action: str
    target_type: str
    target_id: str
    summary: dict[str, object]


@dataclass
class Runtime:
    db: Database
    settings: Settings
    mailer: Mailer
    clock: Clock = field(default_factory=SystemClock)
    # argon2id with the library's defaults (RFC 9106 low-memory profile).
    password_hasher: PasswordHasher = field(default_factory=PasswordHasher)

    @contextmanager
    def write(self) -> Iterator[Session]:
        """A write transaction; refused actions are audited after rollback."""
        try:
            with self.db.unit_of_work(write=True) as session:
                yield session
        except ReleasewiseError as exc:
            self._audit_refusal(exc)
            raise

    @contextmanager
    def read(self) -> Iterator[Session]:
        try:
            with self.db.unit_of_work(write=False) as session:
                yield session
        except ReleasewiseError as exc:
            self._audit_refusal(exc)
            raise

    def _audit_refusal(self, exc: ReleasewiseError) -> None:
        pending = exc.pending_audit
        if not isinstance(pending, PendingAudit):
            return
        from releasewise.services.audit import append_event

        with self.db.unit_of_work(write=True) as session:
            append_event(
                session,
                self.clock.now(),
                org_id=pending.org_id,
                actor_user_id=pending.actor_user_id,
                actor_label=pending.actor_label,
                action=pending.action,
                target_type=pending.target_type,
                target_id=pending.target_id,
                summary=pending.summary,
            )
