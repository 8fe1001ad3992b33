from __future__ import annotations

import pytest

from releasewise.domain.credentials import format_api_token, parse_api_token
from releasewise.domain.tiers import Tier
from releasewise.domain.validation import (
    check_password_strength,
    clean_email,
    clean_slug,
    clean_text,
    clean_username,
    slugify,
)
from releasewise.errors import InvalidInput


@pytest.mark.parametrize("value", ["", "-lab", "lab-", "Lab A", "a" * 41, "lab_a", "lab/../x"])
def test_bad_slugs_are_refused_with_a_hint(value: str) -> None:
    with pytest.raises(InvalidInput) as err:
        clean_slug(value)
    assert "slug" in err.value.message


def test_good_slug_is_lowercased() -> None:
    assert clean_slug("Voice-Lab") == "voice-lab"
    assert slugify("Resonance Voice Lab!") == "resonance-voice-lab"


def test_text_limits() -> None:
    with pytest.raises(InvalidInput, match="must not be empty"):
        clean_text("   ", "Name", max_length=10)
    with pytest.raises(InvalidInput, match="limit is 10"):
        clean_text("x" * 11, "Name", max_length=10)
    with pytest.raises(InvalidInput, match="control characters"):
        clean_text("a\x00b", "Name", max_length=10)
    assert clean_text("  ok ", "Name", max_length=10) == "ok"


@pytest.mark.parametrize("value", ["ab", "Al ice", "-alice", "a" * 33])
def test_bad_usernames(value: str) -> None:
    with pytest.raises(InvalidInput):
        clean_username(value)


@pytest.mark.parametrize("value", ["nope", "a@b", "a@@b.org", "x" * 250 + "@b.org"])
def test_bad_emails(value: str) -> None:
    with pytest.raises(InvalidInput):
        clean_email(value)


def test_passwords() -> None:
    with pytest.raises(InvalidInput, match="at least"):
        check_password_strength("short")
    with pytest.raises(InvalidInput, match="same as the username"):
        check_password_strength("alicealice", username="alicealice")
    check_password_strength("a long enough passphrase")


def test_token_format_round_trip_and_rejects_garbage() -> None:
    raw = format_api_token("abcdef123456", "s" * 43)
    parsed = parse_api_token(raw)
    assert parsed is not None and parsed.public_id == "abcdef123456" and parsed.secret == "s" * 43
    for bad in ["", "Bearer x", "rwt_short_x", "xyz_abcdef123456_" + "s" * 43, "rwt_abc!def12345_" + "s" * 43]:
        assert parse_api_token(bad) is None


def test_tiers_are_ordered_narrowest_first() -> None:
    assert [t.value for t in sorted(Tier, key=lambda t: t.rank)][0] == "team"
    assert Tier.public.wider_than(Tier.registered)
    assert not Tier.team.wider_than(Tier.reviewers)
