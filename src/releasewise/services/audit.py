"""The audit log: appending (inside other services' transactions), reading, verifying."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any, cast

from sqlalchemy import CursorResult, select, update
from sqlalchemy.orm import Session

from releasewise.domain.audit import GENESIS_HASH, ChainedEvent, ChainVerdict, StoredEvent, event_hash, verify_chain
from releasewise.domain.roles import Action
from releasewise.services.authz import authorize
from releasewise.services.runtime import Actor, Runtime
from releasewise.store.models import AuditChainHead, AuditEvent

INSTANCE_CHAIN = "instance"
MAX_PAGE = 500


def chain_key_for(org_id: int | None) -> str:
    return f"org:{org_id}" if org_id is not None else INSTANCE_CHAIN


def append_event(
    session: Session,
    now: datetime,
    *,
    org_id: int | None,
    actor_user_id: int | None,
    actor_label: str,
    action: str,
    target_type: str,
    target_id: str | int,
    summary: dict[str, Any] | None = None,
) -> AuditEvent:
    """Append one event to its chain, in the caller's transaction.

    The chain head row is locked first (``UPDATE`` takes a row lock on
    PostgreSQL; SQLite write transactions are already exclusive), so
    concurrent appends to one chain are serialised and never fork it.
    """
    chain_key = chain_key_for(org_id)
    locked = cast(CursorResult[Any], session.execute(
        update(AuditChainHead).where(AuditChainHead.chain_key == chain_key).values(seq=AuditChainHead.seq)
    ))
    head = session.get(AuditChainHead, chain_key, populate_existing=True)
    if locked.rowcount == 0 or head is None:
        head = AuditChainHead(chain_key=chain_key, seq=0, hash=GENESIS_HASH)
        session.add(head)
    chained = ChainedEvent(
        seq=head.seq + 1,
        occurred_at=now,
        actor_label=actor_label,
        action=action,
        target_type=target_type,
        target_id=str(target_id),
        summary=summary or {},
        prev_hash=head.hash,
    )
    digest = event_hash(chain_key, chained)
    row = AuditEvent(
        chain_key=chain_key,
        org_id=org_id,
        seq=chained.seq,
        occurred_at=now,
        actor_user_id=actor_user_id,
        actor_label=actor_label,
        action=action,
        target_type=target_type,
        target_id=chained.target_id,
        summary=dict(chained.summary),
        prev_hash=chained.prev_hash,
        hash=digest,
    )
    session.add(row)
    head.seq, head.hash = chained.seq, digest
    session.flush()
    return row


def record(
    session: Session,
    rt: Runtime,
    actor: Actor | None,
    org_id: int | None,
    action: str,
    target_type: str,
    target_id: str | int,
    summary: dict[str, Any] | None = None,
) -> AuditEvent:
    """Shorthand for services: append an event by ``actor`` at the clock's time."""
    return append_event(
        session,
        rt.clock.now(),
        org_id=org_id,
        actor_user_id=actor.user_id if actor else None,
        actor_label=actor.label if actor else "system",
        action=action,
        target_type=target_type,
        target_id=target_id,
        summary=summary,
    )


@dataclass(frozen=True)
class AuditEntry:
    id: int
    seq: int
    occurred_at: datetime
    actor: str
    action: str
    target_type: str
    target_id: str
    summary: dict[str, Any]
    hash: str


def _entry(row: AuditEvent) -> AuditEntry:
    return AuditEntry(
        id=row.id,
        seq=row.seq,
        occurred_at=row.occurred_at,
        actor=row.actor_label,
        action=row.action,
        target_type=row.target_type,
        target_id=row.target_id,
        summary=row.summary,
        hash=row.hash,
    )


def list_events(
    rt: Runtime,
    actor: Actor,
    org_slug: str,
    *,
    limit: int = 100,
    before_seq: int | None = None,
    action_prefix: str = "",
) -> list[AuditEntry]:
    """Newest first, paged by sequence number."""
    limit = max(1, min(limit, MAX_PAGE))
    with rt.read() as session:
        org, _ = authorize(session, actor, org_slug, Action.audit_view)
        query = select(AuditEvent).where(AuditEvent.chain_key == chain_key_for(org.id))
        if before_seq is not None:
            query = query.where(AuditEvent.seq < before_seq)
        if action_prefix:
            query = query.where(AuditEvent.action.startswith(action_prefix, autoescape=True))
        rows = session.scalars(query.order_by(AuditEvent.seq.desc()).limit(limit)).all()
        return [_entry(r) for r in rows]


def verify_org_chain(rt: Runtime, actor: Actor, org_slug: str) -> ChainVerdict:
    """Recompute the organisation's whole chain and say whether it is intact."""
    with rt.read() as session:
        org, _ = authorize(session, actor, org_slug, Action.audit_verify)
        return _verify(session, chain_key_for(org.id))


def verify_all_chains(rt: Runtime) -> list[ChainVerdict]:
    """Operator check of every chain on the instance (no actor: run from the server's shell)."""
    with rt.read() as session:
        keys = session.scalars(select(AuditChainHead.chain_key).order_by(AuditChainHead.chain_key)).all()
        return [_verify(session, key) for key in keys]


def _verify(session: Session, chain_key: str) -> ChainVerdict:
    head = session.get(AuditChainHead, chain_key)
    head_seq, head_hash = (head.seq, head.hash) if head else (0, GENESIS_HASH)
    rows = session.scalars(
        select(AuditEvent).where(AuditEvent.chain_key == chain_key).order_by(AuditEvent.seq, AuditEvent.id)
    ).yield_per(1000)
    stored = (
        StoredEvent(
            event_id=row.id,
            event=ChainedEvent(
                seq=row.seq,
                occurred_at=row.occurred_at,
                actor_label=row.actor_label,
                action=row.action,
                target_type=row.target_type,
                target_id=row.target_id,
                summary=row.summary,
                prev_hash=row.prev_hash,
            ),
            stored_hash=row.hash,
        )
        for row in rows
    )
    return verify_chain(chain_key, stored, head_seq=head_seq, head_hash=head_hash)
