"""Coordinated disclosure under embargo (FRAMEWORK.md §4–5): the pure rules.

The party state machine, embargo instants, the readiness board's buckets,
reminder timing, and the webhook signature and retry schedule. No I/O here.
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Iterable, Sequence
from datetime import UTC, datetime, timedelta
from enum import Enum
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from releasewise.errors import Conflict, InvalidInput


class StakeholderType(str, Enum):
    platform = "platform"
    detection_research = "detection_research"
    newsroom = "newsroom"
    fact_checking = "fact_checking"
    policy = "policy"
    other = "other"


INTERESTS = ("audio", "image", "video", "text", "fraud", "ncii", "elections", "impersonation", "harassment",
             "disinformation", "child_safety", "other")


class PartyState(str, Enum):
    invited = "invited"
    accepted = "accepted"
    declined = "declined"
    no_response = "no_response"
    reviewing = "reviewing"
    ready = "ready"
    not_relevant = "not_relevant"
    concerns_raised = "concerns_raised"


S = PartyState
_REVIEW_OUTCOMES = {S.ready, S.not_relevant, S.concerns_raised}
# invited → accepted | declined | no_response; then reviewing → ready | not_relevant | concerns_raised.
# A party that accepted may report an outcome at once (reviewing is implied): fewer clicks for a busy
# trust & safety team. Outcomes can change while the case is open (concerns resolved → ready).
# A late answer re-opens a no_response party.
TRANSITIONS: dict[PartyState, frozenset[PartyState]] = {
    S.invited: frozenset({S.accepted, S.declined, S.no_response}),
    S.no_response: frozenset({S.accepted, S.declined}),
    S.declined: frozenset(),
    S.accepted: frozenset({S.reviewing} | _REVIEW_OUTCOMES),
    S.reviewing: frozenset(_REVIEW_OUTCOMES),
    S.ready: frozenset({S.reviewing, S.not_relevant, S.concerns_raised}),
    S.not_relevant: frozenset({S.reviewing, S.ready, S.concerns_raised}),
    S.concerns_raised: frozenset({S.reviewing, S.ready, S.not_relevant}),
}
# What the party itself may choose (no_response is only ever set by the deadline).
PARTY_CHOSEN = frozenset(set(PartyState) - {S.invited, S.no_response})
# The release plan's "N parties acknowledged" gate counts these.
ACKNOWLEDGED = frozenset({S.accepted, S.reviewing, S.ready})
# Parties that agreed to the embargo and may read the briefing and the shared thread.
BRIEFED = frozenset({S.accepted, S.reviewing, S.ready, S.not_relevant, S.concerns_raised})


def parse_state(value: str) -> PartyState:
    try:
        return PartyState(value)
    except ValueError:
        raise InvalidInput(f"Unknown party state '{value}'. Use one of: "
                           f"{', '.join(s.value for s in PartyState)}.", field="state") from None


def transition(current: PartyState, new: PartyState) -> PartyState:
    """Return ``new`` if a party in ``current`` may move there, else raise Conflict saying what is possible."""
    if new is current:
        raise Conflict(f"The party is already '{current.value}'.")
    allowed = TRANSITIONS[current]
    if new not in allowed:
        options = ", ".join(sorted(s.value for s in allowed)) or "none (this answer is final)"
        raise Conflict(f"A party that is '{current.value}' cannot become '{new.value}'. Possible: {options}.",
                       field="state")
    return new


def may_read_briefing(state: PartyState) -> bool:
    return state in BRIEFED


# Readiness board -------------------------------------------------------------------------

BOARD_COLUMNS = ("awaiting_answer", "silent", "acknowledged", "ready", "concerns_raised", "not_relevant", "declined")
BOARD_LABELS = {"awaiting_answer": "Awaiting answer", "silent": "Silent (no response)",
                "acknowledged": "Acknowledged, reviewing", "ready": "Ready", "concerns_raised": "Concerns raised",
                "not_relevant": "Not relevant", "declined": "Declined"}


def board_column(state: PartyState) -> str:
    """Silent (never answered) is a column of its own, never merged with 'not relevant'."""
    return {S.invited: "awaiting_answer", S.no_response: "silent", S.accepted: "acknowledged",
            S.reviewing: "acknowledged", S.ready: "ready", S.concerns_raised: "concerns_raised",
            S.not_relevant: "not_relevant", S.declined: "declined"}[state]


def board(states: Iterable[tuple[str, PartyState]]) -> dict[str, list[str]]:
    columns: dict[str, list[str]] = {c: [] for c in BOARD_COLUMNS}
    for name, state in states:
        columns[board_column(state)].append(name)
    return columns


# Times ------------------------------------------------------------------------------------

MAX_EMBARGO = timedelta(days=365)
MIN_RESPONSE_WINDOW = timedelta(hours=1)
REMIND_BEFORE_DEADLINE = timedelta(hours=48)
REMIND_BEFORE_LIFT = timedelta(hours=24)


def to_naive_utc(value: datetime, field: str) -> datetime:
    """An exact instant from input: a datetime without a timezone is ambiguous and refused."""
    if value.tzinfo is None or value.tzinfo.utcoffset(value) is None:
        raise InvalidInput(f"{field} has no timezone. Give an exact instant, e.g. 2026-12-01T09:00:00Z "
                           "or 2026-12-01T10:00:00+01:00.", field=field)
    return value.astimezone(UTC).replace(tzinfo=None)


def parse_instant(text: str, field: str) -> datetime:
    """Parse ISO 8601 text that must carry a timezone; returns naive UTC."""
    raw = (text or "").strip()
    try:
        value = datetime.fromisoformat(raw.replace("Z", "+00:00").replace("z", "+00:00"))
    except ValueError:
        raise InvalidInput(f"{field} '{text}' is not an ISO 8601 date and time, e.g. 2026-12-01T09:00:00Z.",
                           field=field) from None
    return to_naive_utc(value, field)


def check_embargo_end(ends_at: datetime, now: datetime, *, field: str = "embargo_ends_at") -> None:
    """``ends_at`` and ``now`` are naive UTC."""
    if ends_at <= now:
        raise InvalidInput(f"The embargo end {ends_at:%Y-%m-%d %H:%M} UTC is in the past; choose a future instant.",
                           field=field)
    if ends_at > now + MAX_EMBARGO:
        raise InvalidInput("An embargo may last at most 365 days.", field=field)


def check_extension(current_end: datetime, new_end: datetime, now: datetime) -> None:
    check_embargo_end(new_end, now, field="new_end")
    if new_end <= current_end:
        raise InvalidInput(f"The new embargo end must be later than the current one "
                           f"({current_end:%Y-%m-%d %H:%M} UTC). To lift early, publish the case.", field="new_end")


def check_respond_by(respond_by: datetime, now: datetime, embargo_ends_at: datetime) -> None:
    if respond_by < now + MIN_RESPONSE_WINDOW:
        raise InvalidInput("Give parties at least one hour to respond; the deadline is too soon or in the past.",
                           field="respond_by")
    if respond_by > embargo_ends_at:
        raise InvalidInput("The response deadline must be before the embargo ends.", field="respond_by")


def viewer_zone(name: str | None) -> ZoneInfo:
    """The viewer's timezone, falling back to UTC for an unknown name."""
    try:
        return ZoneInfo(name or "UTC")
    except (ZoneInfoNotFoundError, ValueError):
        return ZoneInfo("UTC")


def in_zone(naive_utc: datetime, zone: ZoneInfo) -> datetime:
    return naive_utc.replace(tzinfo=UTC).astimezone(zone)


def clean_interests(values: Sequence[str]) -> list[str]:
    cleaned = sorted({v.strip().lower() for v in values if v and v.strip()})
    unknown = [v for v in cleaned if v not in INTERESTS]
    if unknown:
        raise InvalidInput(f"Unknown area(s) of interest: {', '.join(unknown)}. Use: {', '.join(INTERESTS)}.",
                           field="interests")
    return cleaned


def parse_type(value: str) -> StakeholderType:
    try:
        return StakeholderType(value)
    except ValueError:
        raise InvalidInput(f"Unknown stakeholder type '{value}'. Use one of: "
                           f"{', '.join(t.value for t in StakeholderType)}.", field="type") from None


PGP_BEGIN = "-----BEGIN PGP PUBLIC KEY BLOCK-----"


def clean_pgp_key(value: str | None) -> str:
    text = (value or "").strip()
    if text and (not text.startswith(PGP_BEGIN) or "-----END PGP PUBLIC KEY BLOCK-----" not in text):
        raise InvalidInput("The PGP key must be an ASCII-armoured public key block "
                           f"starting with '{PGP_BEGIN}'.", field="pgp_key")
    if len(text) > 20000:
        raise InvalidInput("The PGP key is too long (20,000 characters at most).", field="pgp_key")
    return text


# Webhooks ----------------------------------------------------------------------------------

SIGNATURE_HEADER = "X-Releasewise-Signature"
WEBHOOK_MAX_ATTEMPTS = 5


def sign(secret: str, timestamp: int, body: bytes) -> str:
    """``t=<unix seconds>,v1=<hex HMAC-SHA256 of "<t>." + body>`` (the timestamp stops replays)."""
    mac = hmac.new(secret.encode(), f"{timestamp}.".encode() + body, hashlib.sha256).hexdigest()
    return f"t={timestamp},v1={mac}"


def verify(secret: str, header: str, body: bytes, *, now: int, tolerance: int = 300) -> bool:
    parts = dict(p.split("=", 1) for p in header.split(",") if "=" in p)
    try:
        timestamp = int(parts.get("t", ""))
    except ValueError:
        return False
    if abs(now - timestamp) > tolerance:
        return False
    return hmac.compare_digest(sign(secret, timestamp, body), f"t={timestamp},v1={parts.get('v1', '')}")


def retry_delay(attempts: int) -> timedelta:
    """Backoff after the ``attempts``-th failure: 1, 4, 16, 64 minutes."""
    return timedelta(minutes=4 ** max(0, attempts - 1))


def clean_webhook_url(value: str) -> str:
    url = (value or "").strip()
    if not (url.startswith("https://") or url.startswith("http://")) or len(url) > 500 or " " in url:
        raise InvalidInput("The webhook URL must be an http(s) URL of at most 500 characters.", field="url")
    return url
