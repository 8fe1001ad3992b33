"""The email outbox: written inside service transactions, delivered after commit.

Delivery is idempotent and safe from several processes at once: on PostgreSQL
each process claims rows with ``FOR UPDATE SKIP LOCKED``; on SQLite write
transactions are exclusive anyway. A message is marked sent only after the
mailer accepted it; failures are retried with backoff on the next pass.
"""

from __future__ import annotations

import logging
from datetime import timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from releasewise.notify.mail import Mail
from releasewise.services.runtime import Runtime
from releasewise.store.models import OutboxMessage

log = logging.getLogger(__name__)
MAX_ATTEMPTS = 8


def enqueue(session: Session, rt: Runtime, *, key: str, recipient: str, subject: str, body: str) -> bool:
    """Queue a message unless one with the same idempotency key exists; True if queued."""
    exists = session.scalar(select(OutboxMessage.id).where(OutboxMessage.idempotency_key == key))
    if exists is not None:
        return False
    session.add(
        OutboxMessage(
            idempotency_key=key, recipient=recipient, subject=subject, body=body, created_at=rt.clock.now()
        )
    )
    # Flush now so a second enqueue of the same key in this transaction sees it.
    session.flush()
    return True


def deliver_pending(rt: Runtime, *, limit: int = 50) -> int:
    """Send what is waiting; returns how many messages were sent."""
    sent = 0
    now = rt.clock.now()
    with rt.write() as session:
        query = (
            select(OutboxMessage)
            .where(OutboxMessage.sent_at.is_(None), OutboxMessage.attempts < MAX_ATTEMPTS)
            .order_by(OutboxMessage.id)
            .limit(limit)
        )
        if rt.db.is_postgresql:
            query = query.with_for_update(skip_locked=True)
        for message in session.scalars(query).all():
            # Exponential backoff: the n-th retry waits 2^n minutes after creation.
            if message.attempts and now < message.created_at + timedelta(minutes=2**message.attempts):
                continue
            try:
                rt.mailer.send(Mail(message.recipient, message.subject, message.body, message.idempotency_key))
            except Exception as exc:  # noqa: BLE001 - any mailer failure is retried later
                message.attempts += 1
                message.last_error = f"{type(exc).__name__}: {exc}"[:1000]
                log.warning("Could not send %s to %s: %s", message.idempotency_key, message.recipient, exc)
                continue
            message.attempts += 1
            message.sent_at = now
            sent += 1
    return sent
