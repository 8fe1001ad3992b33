"""The audit log's hash chain, as pure functions.

Every audit event stores the hash of the event before it in the same chain
(one chain per organisation, plus an instance chain for events outside any
organisation). An event's hash covers its content and the previous hash, so
editing, deleting, inserting or reordering any row breaks the chain at that
point, and ``verify_chain`` names the first event where it breaks.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

GENESIS_HASH = "0" * 64


@dataclass(frozen=True)
class ChainedEvent:
    """The fields of an audit event that the hash covers."""

    seq: int
    occurred_at: datetime
    actor_label: str
    action: str
    target_type: str
    target_id: str
    summary: Mapping[str, Any]
    prev_hash: str


def canonical_time(moment: datetime) -> str:
    """Times are hashed as naive-UTC ISO strings with microseconds.

    Databases differ in how they hand back timezone information, so the hash
    must not depend on it; services always store UTC.
    """
    return moment.replace(tzinfo=None).isoformat(timespec="microseconds")


def event_hash(chain_key: str, event: ChainedEvent) -> str:
    body = {
        "chain": chain_key,
        "seq": event.seq,
        "at": canonical_time(event.occurred_at),
        "actor": event.actor_label,
        "action": event.action,
        "target": [event.target_type, event.target_id],
        "summary": event.summary,
        "prev": event.prev_hash,
    }
    encoded = json.dumps(body, sort_keys=True, separators=(",", ":"), ensure_ascii=False, default=str)
    return hashlib.sha256(encoded.encode("utf-8")).hexdigest()


@dataclass(frozen=True)
class StoredEvent:
    """An event as read back from storage, with its stored hash and row id."""

    event_id: int
    event: ChainedEvent
    stored_hash: str


@dataclass(frozen=True)
class ChainVerdict:
    """The result of checking one chain."""

    chain_key: str
    intact: bool
    events_checked: int
    first_bad_event_id: int | None = None
    first_bad_seq: int | None = None
    problem: str | None = None


def verify_chain(
    chain_key: str,
    events: Iterable[StoredEvent],
    *,
    head_seq: int,
    head_hash: str,
) -> ChainVerdict:
    """Check a chain read in ``seq`` order against the stored chain head.

    ``head_seq``/``head_hash`` come from the separately stored chain head, which
    catches deletion of the newest events (the one edit the links alone cannot
    reveal).
    """
    expected_prev = GENESIS_HASH
    expected_seq = 1
    checked = 0
    for stored in events:
        ev = stored.event
        problem = None
        if ev.seq != expected_seq:
            kind = "missing or reordered" if ev.seq > expected_seq else "duplicated or reordered"
            problem = f"expected sequence number {expected_seq} but found {ev.seq}: events {kind}"
        elif ev.prev_hash != expected_prev:
            problem = "its link to the previous event does not match: an event before it was changed, removed or inserted"
        elif event_hash(chain_key, ev) != stored.stored_hash:
            problem = "its content does not match its hash: the row was edited"
        if problem:
            return ChainVerdict(chain_key, False, checked, stored.event_id, ev.seq, problem)
        checked += 1
        expected_prev = stored.stored_hash
        expected_seq += 1
    if checked != head_seq or expected_prev != head_hash:
        return ChainVerdict(
            chain_key,
            False,
            checked,
            None,
            checked + 1,
            f"the chain ends at event {checked} but its head records {head_seq} events: "
            "the newest events were removed or the head was altered",
        )
    return ChainVerdict(chain_key, True, checked)
