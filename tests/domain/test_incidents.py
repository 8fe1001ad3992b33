"""The report state machine and the stateless proof-of-work challenge (pure)."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from releasewise.domain import incidents as rules
from releasewise.errors import Conflict, InvalidInput

S = rules.ReportStatus
KEY = b"server-key"
NOW = datetime(2026, 11, 27, 12, 0, 0)


def test_the_documented_paths_and_no_others() -> None:
    for path in ([S.new, S.triaged, S.confirmed, S.resolved], [S.new, S.triaged, S.not_misuse, S.resolved],
                 [S.new, S.duplicate, S.resolved], [S.new, S.triaged, S.duplicate, S.resolved]):
        for before, after in zip(path, path[1:]):
            assert rules.next_status(before, after) == after
    with pytest.raises(Conflict, match="resolved is final"):
        rules.next_status(S.resolved, S.new)
    with pytest.raises(Conflict, match="can become: duplicate, triaged"):
        rules.next_status(S.new, S.confirmed)


@given(st.sampled_from(list(S)), st.sampled_from(list(S)))
def test_every_move_is_allowed_exactly_when_the_table_says(before: S, after: S) -> None:
    if after in rules.TRANSITIONS[before]:
        assert rules.next_status(before, after) == after
    else:
        with pytest.raises(Conflict):
            rules.next_status(before, after)


def test_challenges_verify_statelessly_and_refuse_tampering() -> None:
    c = rules.issue_challenge(KEY, NOW, bits=8, ttl_seconds=600)
    answer = rules.solve(c)
    rules.verify_challenge(KEY, c, answer, NOW, min_bits=8)
    expires, bits, nonce, mac = c.split(".")
    with pytest.raises(InvalidInput, match="not issued"):
        rules.verify_challenge(KEY, f"{expires}.4.{nonce}.{mac}", answer, NOW, min_bits=4)  # made easier
    with pytest.raises(InvalidInput, match="not issued"):
        rules.verify_challenge(b"other-key", c, answer, NOW, min_bits=8)
    with pytest.raises(InvalidInput, match="expired"):
        rules.verify_challenge(KEY, c, answer, NOW + timedelta(minutes=11), min_bits=8)
    with pytest.raises(InvalidInput, match="does not solve"):
        rules.verify_challenge(KEY, c, answer, NOW, min_bits=9)  # easier than the server now asks
    with pytest.raises(InvalidInput, match="Malformed"):
        rules.verify_challenge(KEY, "x", "1", NOW, min_bits=1)


@given(st.binary(min_size=1, max_size=8))
def test_leading_zero_bits(data: bytes) -> None:
    n = rules.leading_zero_bits(data)
    assert int.from_bytes(data, "big") < 2 ** (len(data) * 8 - n + (0 if n == len(data) * 8 else 1))
    assert n == len(data) * 8 or int.from_bytes(data, "big") >= 2 ** (len(data) * 8 - n - 1)
