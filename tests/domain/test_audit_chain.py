from __future__ import annotations

from dataclasses import replace
from datetime import datetime, timedelta

from hypothesis import given
from hypothesis import strategies as st

from releasewise.domain.audit import GENESIS_HASH, ChainedEvent, StoredEvent, event_hash, verify_chain

CHAIN = "org:1"


def build_chain(n: int) -> list[StoredEvent]:
    events: list[StoredEvent] = []
    prev = GENESIS_HASH
    start = datetime(2026, 1, 1, 12, 0, 0)
    for i in range(1, n + 1):
        ev = ChainedEvent(i, start + timedelta(seconds=i), f"user{i % 3}", f"action.{i}", "thing", str(i),
                          {"n": i}, prev)
        digest = event_hash(CHAIN, ev)
        events.append(StoredEvent(i, ev, digest))
        prev = digest
    return events


def verify(events: list[StoredEvent], head: StoredEvent | None) -> object:
    return verify_chain(CHAIN, events, head_seq=head.event.seq if head else 0,
                        head_hash=head.stored_hash if head else GENESIS_HASH)


def test_intact_chain_verifies() -> None:
    events = build_chain(5)
    verdict = verify(events, events[-1])
    assert verdict.intact and verdict.events_checked == 5


def test_empty_chain_is_intact() -> None:
    assert verify([], None).intact


def test_hash_depends_on_chain_key() -> None:
    ev = build_chain(1)[0].event
    assert event_hash("org:1", ev) != event_hash("org:2", ev)


@given(st.integers(min_value=2, max_value=12), st.data())
def test_any_edited_field_is_detected_at_that_event(n: int, data: st.DataObject) -> None:
    events = build_chain(n)
    index = data.draw(st.integers(min_value=0, max_value=n - 1))
    field = data.draw(st.sampled_from(["actor_label", "action", "target_id", "summary", "occurred_at"]))
    original = events[index].event
    changed = {
        "actor_label": original.actor_label + "x",
        "action": original.action + ".evil",
        "target_id": original.target_id + "0",
        "summary": {**original.summary, "n": -1},
        "occurred_at": original.occurred_at + timedelta(microseconds=1),
    }[field]
    events[index] = StoredEvent(events[index].event_id, replace(original, **{field: changed}),
                                events[index].stored_hash)
    verdict = verify(events, events[-1])
    assert not verdict.intact
    assert verdict.first_bad_seq == index + 1
    assert "edited" in verdict.problem


@given(st.integers(min_value=3, max_value=12), st.data())
def test_deleted_event_is_detected(n: int, data: st.DataObject) -> None:
    events = build_chain(n)
    head = events[-1]
    index = data.draw(st.integers(min_value=0, max_value=n - 2))
    del events[index]
    verdict = verify(events, head)
    assert not verdict.intact
    assert verdict.first_bad_event_id == index + 2


def test_deleting_newest_events_is_caught_by_the_head() -> None:
    events = build_chain(6)
    verdict = verify(events[:4], events[-1])
    assert not verdict.intact and "newest events were removed" in verdict.problem


def test_reordered_events_are_detected() -> None:
    events = build_chain(5)
    a, b = events[1], events[2]
    # Swap the sequence numbers as an attacker would to reorder two rows.
    events[1] = StoredEvent(b.event_id, replace(b.event, seq=2), b.stored_hash)
    events[2] = StoredEvent(a.event_id, replace(a.event, seq=3), a.stored_hash)
    verdict = verify(events, events[-1])
    assert not verdict.intact and verdict.first_bad_seq == 2


def test_inserted_event_with_valid_own_hash_is_detected() -> None:
    events = build_chain(4)
    forged = ChainedEvent(3, events[2].event.occurred_at, "mallory", "member.added", "user", "m", {},
                          events[1].stored_hash)
    forged_stored = StoredEvent(99, forged, event_hash(CHAIN, forged))
    tampered = events[:2] + [forged_stored] + events[2:]
    verdict = verify(tampered, events[-1])
    assert not verdict.intact
    assert verdict.first_bad_event_id == events[2].event_id
