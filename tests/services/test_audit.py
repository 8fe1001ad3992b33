"""The audit log must expose any tampering done directly in the database."""

from __future__ import annotations

import threading

import pytest
from sqlalchemy import select, text

from releasewise.errors import NotFound, PermissionDenied
from releasewise.services import audit, projects
from releasewise.store.models import AuditEvent
from tests.conftest import World


def org_events(world: World) -> list[AuditEvent]:
    with world.rt.db.unit_of_work(write=False) as s:
        return list(s.scalars(select(AuditEvent).where(AuditEvent.chain_key == "org:1").order_by(AuditEvent.seq)))


def sql(world: World, statement: str, **params: object) -> None:
    with world.rt.db.engine.begin() as conn:
        conn.execute(text(statement), params)


def test_every_change_is_in_the_log_newest_first(world: World) -> None:
    entries = audit.list_events(world.rt, world.owner, "lab-a")
    actions = [e.action for e in entries]
    assert actions[0] == "asset.created" and actions[-1] == "org.created"
    assert [e.seq for e in entries] == sorted((e.seq for e in entries), reverse=True)
    members = audit.list_events(world.rt, world.owner, "lab-a", action_prefix="member.")
    assert {e.action for e in members} == {"member.added", "member.invited"}
    page = audit.list_events(world.rt, world.owner, "lab-a", limit=2, before_seq=entries[0].seq)
    assert [e.seq for e in page] == [entries[1].seq, entries[2].seq]


def test_intact_log_verifies(world: World) -> None:
    verdict = audit.verify_org_chain(world.rt, world.lead, "lab-a")
    assert verdict.intact and verdict.events_checked == len(org_events(world))
    assert all(v.intact for v in audit.verify_all_chains(world.rt))


@pytest.mark.parametrize("tamper", ["edit_summary", "edit_actor", "delete_middle", "delete_newest",
                                    "reorder", "insert"])
def test_tampering_is_detected_and_the_first_bad_event_named(world: World, tamper: str) -> None:
    events = org_events(world)
    target = events[3]
    if tamper == "edit_summary":
        sql(world, "UPDATE audit_events SET summary = :s WHERE id = :id", s='{"role": "owner"}', id=target.id)
        expected_seq = target.seq
    elif tamper == "edit_actor":
        sql(world, "UPDATE audit_events SET actor_label = 'someone-else' WHERE id = :id", id=target.id)
        expected_seq = target.seq
    elif tamper == "delete_middle":
        sql(world, "DELETE FROM audit_events WHERE id = :id", id=target.id)
        expected_seq = target.seq + 1
    elif tamper == "delete_newest":
        sql(world, "DELETE FROM audit_events WHERE id = :id", id=events[-1].id)
        expected_seq = events[-1].seq
    elif tamper == "reorder":
        a, b = events[3], events[4]
        sql(world, "UPDATE audit_events SET seq = -1 WHERE id = :id", id=a.id)
        sql(world, "UPDATE audit_events SET seq = :s WHERE id = :id", s=a.seq, id=b.id)
        sql(world, "UPDATE audit_events SET seq = :s WHERE id = :id", s=b.seq, id=a.id)
        expected_seq = a.seq
    else:  # insert: a forged row that re-uses a later sequence slot
        sql(world, "UPDATE audit_events SET seq = seq + 1000 WHERE chain_key = 'org:1' AND seq > :s", s=target.seq)
        sql(world, "INSERT INTO audit_events (chain_key, org_id, seq, occurred_at, actor_label, action, target_type,"
                   " target_id, summary, prev_hash, hash) VALUES ('org:1', 1, :seq, :at, 'mallory', 'member.added',"
                   " 'user', 'mallory', '{}', :prev, :h)",
            seq=target.seq + 1, at=target.occurred_at, prev=target.hash, h="f" * 64)
        expected_seq = target.seq + 1
    verdict = audit.verify_org_chain(world.rt, world.owner, "lab-a")
    assert not verdict.intact
    assert verdict.first_bad_seq == expected_seq
    assert verdict.problem


def test_audit_needs_a_lead_and_membership(world: World) -> None:
    for who in (world.researcher, world.reviewer, world.viewer):
        with pytest.raises(PermissionDenied):
            audit.list_events(world.rt, who, "lab-a")
        with pytest.raises(PermissionDenied):
            audit.verify_org_chain(world.rt, who, "lab-a")
    with pytest.raises(NotFound):
        audit.list_events(world.rt, world.outsider, "lab-a")


def test_concurrent_appends_keep_one_unbroken_chain(world: World) -> None:
    errors: list[BaseException] = []

    def add(i: int) -> None:
        try:
            projects.create_asset(world.rt, world.lead, "lab-a", "echo", name=f"Variant {i}", kind="weights")
        except BaseException as exc:  # noqa: BLE001 - collected and asserted below
            errors.append(exc)

    threads = [threading.Thread(target=add, args=(i,)) for i in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    verdict = audit.verify_org_chain(world.rt, world.owner, "lab-a")
    assert verdict.intact, verdict.problem
    seqs = [e.seq for e in org_events(world)]
    assert seqs == list(range(1, len(seqs) + 1))
