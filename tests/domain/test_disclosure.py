"""The pure rules of coordinated disclosure: party states, embargo instants, the board, signatures."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest
from hypothesis import given
from hypothesis import strategies as st

from releasewise.domain import disclosure as rules
from releasewise.domain.disclosure import PartyState as S
from releasewise.errors import Conflict, InvalidInput

NOW = datetime(2026, 11, 27, 12, 0)


def test_documented_paths_are_allowed() -> None:
    for path in ([S.invited, S.accepted, S.reviewing, S.ready], [S.invited, S.declined],
                 [S.invited, S.no_response, S.accepted, S.reviewing, S.concerns_raised, S.ready],
                 [S.invited, S.accepted, S.not_relevant]):
        for a, b in zip(path, path[1:]):
            assert rules.transition(a, b) is b


@pytest.mark.parametrize(("old", "new"), [(S.declined, S.accepted), (S.invited, S.ready), (S.reviewing, S.invited),
                                          (S.ready, S.no_response), (S.accepted, S.accepted)])
def test_other_transitions_are_refused_with_the_possible_ones(old: S, new: S) -> None:
    with pytest.raises(Conflict) as err:
        rules.transition(old, new)
    assert old.value in err.value.message


@given(st.sampled_from(list(S)), st.sampled_from(list(S)))
def test_no_response_is_only_reached_from_invited(old: S, new: S) -> None:
    if new is S.no_response and old is not S.invited:
        assert new not in rules.TRANSITIONS[old]
    assert S.invited not in rules.TRANSITIONS[old]  # nobody is ever un-invited


def test_board_shows_silent_apart_from_not_relevant() -> None:
    board = rules.board([("A", S.no_response), ("B", S.not_relevant), ("C", S.reviewing), ("D", S.ready),
                         ("E", S.invited)])
    assert board["silent"] == ["A"] and board["not_relevant"] == ["B"]
    assert board["acknowledged"] == ["C"] and board["ready"] == ["D"] and board["awaiting_answer"] == ["E"]
    assert rules.ACKNOWLEDGED == {S.accepted, S.reviewing, S.ready}


def test_instants_need_a_timezone_and_are_stored_as_naive_utc() -> None:
    with pytest.raises(InvalidInput, match="no timezone"):
        rules.to_naive_utc(datetime(2026, 12, 1, 9, 0), "embargo_ends_at")
    paris = datetime(2026, 12, 1, 10, 0, tzinfo=timezone(timedelta(hours=1)))
    assert rules.to_naive_utc(paris, "x") == datetime(2026, 12, 1, 9, 0)
    assert rules.parse_instant("2026-12-01T09:00:00Z", "x") == datetime(2026, 12, 1, 9, 0)
    with pytest.raises(InvalidInput, match="no timezone"):
        rules.parse_instant("2026-12-01T09:00", "x")
    with pytest.raises(InvalidInput, match="ISO 8601"):
        rules.parse_instant("next tuesday", "x")


def test_embargo_end_rules() -> None:
    with pytest.raises(InvalidInput, match="in the past"):
        rules.check_embargo_end(NOW - timedelta(minutes=1), NOW)
    with pytest.raises(InvalidInput, match="365 days"):
        rules.check_embargo_end(NOW + timedelta(days=400), NOW)
    with pytest.raises(InvalidInput, match="later than the current"):
        rules.check_extension(NOW + timedelta(days=5), NOW + timedelta(days=4), NOW)
    with pytest.raises(InvalidInput, match="before the embargo ends"):
        rules.check_respond_by(NOW + timedelta(days=6), NOW, NOW + timedelta(days=5))
    with pytest.raises(InvalidInput, match="at least one hour"):
        rules.check_respond_by(NOW + timedelta(minutes=5), NOW, NOW + timedelta(days=5))


def test_viewer_zone_conversion() -> None:
    zone = rules.viewer_zone("Asia/Tokyo")
    assert rules.in_zone(datetime(2026, 12, 1, 9, 0), zone).hour == 18
    assert rules.viewer_zone("Not/AZone").key == "UTC"


def test_signature_verifies_and_detects_tampering_and_replay() -> None:
    body = b'{"type":"disclosure.invited"}'
    now = int(datetime(2026, 11, 27, tzinfo=UTC).timestamp())
    header = rules.sign("whsec_x", now, body)
    assert rules.verify("whsec_x", header, body, now=now)
    assert not rules.verify("whsec_x", header, body + b" ", now=now)
    assert not rules.verify("whsec_y", header, body, now=now)
    assert not rules.verify("whsec_x", header, body, now=now + 3600)


def test_backoff_grows() -> None:
    assert [rules.retry_delay(n).total_seconds() / 60 for n in (1, 2, 3)] == [1, 4, 16]


def test_bad_registry_inputs() -> None:
    with pytest.raises(InvalidInput, match="Unknown stakeholder type"):
        rules.parse_type("bank")
    with pytest.raises(InvalidInput, match="area"):
        rules.clean_interests(["audio", "cooking"])
    with pytest.raises(InvalidInput, match="ASCII-armoured"):
        rules.clean_pgp_key("ssh-rsa AAAA")
    with pytest.raises(InvalidInput, match="http"):
        rules.clean_webhook_url("ftp://x")
