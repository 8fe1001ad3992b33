"""Misuse reports and incidents: the report state machine, harm categories, the proof-of-work challenge.

Pure rules, no I/O (FRAMEWORK.md §6). The challenge is hashcash-style: the server
issues ``<expires>.<bits>.<nonce>.<mac>`` where ``mac`` is an HMAC of the rest under
the server key, so it verifies any challenge without remembering it; the client finds
a ``solution`` such that SHA-256(challenge ":" solution) starts with ``bits`` zero bits.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from datetime import datetime
from enum import Enum
from urllib.parse import urlsplit

from releasewise.domain import sniff
from releasewise.errors import Conflict, InvalidInput


class EvidenceTooLarge(InvalidInput):
    """An evidence file (or all of them together) exceeds the size limit."""

    status_code = 413
    code = "evidence_too_large"
    title = "Evidence too large"


class HarmCategory(str, Enum):
    fraud = "fraud"
    impersonation = "impersonation"
    ncii = "ncii"
    harassment = "harassment"
    disinformation = "disinformation"
    other = "other"


HARM_LABELS = {
    HarmCategory.fraud: "Fraud or scams",
    HarmCategory.impersonation: "Impersonation",
    HarmCategory.ncii: "Non-consensual intimate imagery (NCII)",
    HarmCategory.harassment: "Harassment",
    HarmCategory.disinformation: "Disinformation",
    HarmCategory.other: "Other",
}


class ReportStatus(str, Enum):
    new = "new"
    triaged = "triaged"
    confirmed = "confirmed"
    not_misuse = "not_misuse"
    duplicate = "duplicate"
    resolved = "resolved"


# new → triaged → confirmed | not_misuse | duplicate → resolved
TRANSITIONS: dict[ReportStatus, frozenset[ReportStatus]] = {
    ReportStatus.new: frozenset({ReportStatus.triaged, ReportStatus.duplicate}),
    ReportStatus.triaged: frozenset({ReportStatus.confirmed, ReportStatus.not_misuse, ReportStatus.duplicate}),
    ReportStatus.confirmed: frozenset({ReportStatus.resolved}),
    ReportStatus.not_misuse: frozenset({ReportStatus.resolved}),
    ReportStatus.duplicate: frozenset({ReportStatus.resolved}),
    ReportStatus.resolved: frozenset(),
}
OPEN_REPORT_STATUSES = frozenset({ReportStatus.new, ReportStatus.triaged, ReportStatus.confirmed})


class IncidentStatus(str, Enum):
    open = "open"
    resolved = "resolved"


def parse_status(value: str) -> ReportStatus:
    try:
        return ReportStatus((value or "").strip())
    except ValueError:
        raise InvalidInput(f"Unknown status '{value}'. Statuses: {', '.join(s.value for s in ReportStatus)}.",
                           field="status") from None


def next_status(current: ReportStatus, target: ReportStatus) -> ReportStatus:
    """The status after a move, or Conflict naming the moves that are possible."""
    allowed = TRANSITIONS[current]
    if target not in allowed:
        options = ", ".join(sorted(s.value for s in allowed)) or "none (resolved is final)"
        raise Conflict(f"A report that is {current.value} cannot become {target.value}; it can become: {options}.")
    return target


def parse_harm(value: str) -> HarmCategory:
    try:
        return HarmCategory((value or "").strip().lower())
    except ValueError:
        raise InvalidInput(f"Unknown harm category '{value}'. Categories: "
                           f"{', '.join(h.value for h in HarmCategory)}.", field="harm_category") from None


def check_severity(value: int) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= 5:
        raise InvalidInput("Severity must be a whole number from 1 (minor) to 5 (critical).", field="severity")
    return value


MAX_URLS = 20


def clean_urls(values: list[str]) -> list[str]:
    """Where the misuse was seen: http(s) URLs only, at most 20, each at most 2000 characters."""
    urls = [v.strip() for v in values if v and v.strip()]
    if len(urls) > MAX_URLS:
        raise InvalidInput(f"At most {MAX_URLS} URLs per report; you sent {len(urls)}.", field="urls")
    for url in urls:
        parts = urlsplit(url)
        if len(url) > 2000 or parts.scheme not in ("http", "https") or not parts.netloc or any(
                ord(c) < 33 for c in url):
            raise InvalidInput(f"'{url[:80]}' is not a web address; use http:// or https:// URLs.", field="urls")
    return urls


# Evidence ------------------------------------------------------------------------------------------

# What evidence may be, by its real content (domain/sniff.py), never by its declared type or name.
EVIDENCE_TYPES = frozenset(sniff.ACCEPTED)
MAX_EVIDENCE_FILES = 5  # at filing, and in each reply of the reporter
MAX_REPORT_EVIDENCE_FILES = 20  # a report with all its replies: bounds what one follow-up link can store
MAX_REPLIES_PER_DAY = 20  # replies through one follow-up link in 24 hours


def check_evidence(files: list[tuple[str, str, bytes]], max_bytes: int) -> list[tuple[str, str, bytes]]:
    """Refuse unsafe names, too many files, empty or oversized files, and content that is not accepted
    evidence or not what it claims to be; return the files with the media type their content shows."""
    if len(files) > MAX_EVIDENCE_FILES:
        raise InvalidInput(f"At most {MAX_EVIDENCE_FILES} evidence files at a time; you sent {len(files)}.",
                           field="evidence")
    checked = []
    for name, content_type, data in files:
        if not name or len(name) > 200 or any(c in name for c in "/\\\0") or name.startswith("."):
            raise InvalidInput("Evidence file names must be 1–200 characters without slashes.", field="evidence")
        if not data:
            raise InvalidInput(f"Evidence '{name}' is empty.", field="evidence")
        if len(data) > max_bytes:
            raise EvidenceTooLarge(f"Evidence '{name}' is {len(data)} bytes; the limit is {max_bytes} bytes per "
                                   "file. Send a smaller excerpt or a link instead.", field="evidence")
        checked.append((name, sniff.check_content(name, content_type, data).media_type, data))
    return checked


# Proof of work -------------------------------------------------------------------------------------

def _mac(key: bytes, body: str) -> str:
    return hmac.new(key, f"report-pow:{body}".encode(), hashlib.sha256).hexdigest()[:32]


def issue_challenge(key: bytes, now: datetime, *, bits: int, ttl_seconds: int) -> str:
    expires = int(now.timestamp()) + ttl_seconds
    body = f"{expires}.{bits}.{secrets.token_hex(8)}"
    return f"{body}.{_mac(key, body)}"


def leading_zero_bits(data: bytes) -> int:
    count = 0
    for byte in data:
        if byte == 0:
            count += 8
            continue
        return count + 8 - byte.bit_length()
    return count


def solves(challenge: str, solution: str, bits: int) -> bool:
    return leading_zero_bits(hashlib.sha256(f"{challenge}:{solution}".encode()).digest()) >= bits


def solve(challenge: str) -> str:
    """Find a solution (clients and tests; the browser does the same in JavaScript)."""
    bits = int(challenge.split(".")[1])
    counter = 0
    while not solves(challenge, str(counter), bits):
        counter += 1
    return str(counter)


def verify_challenge(key: bytes, challenge: str, solution: str, now: datetime, *, min_bits: int) -> None:
    """Raise InvalidInput unless the challenge is ours, unexpired, at least ``min_bits`` hard, and solved."""
    parts = (challenge or "").split(".")
    if len(parts) != 4 or not parts[0].isdigit() or not parts[1].isdigit() or len(solution or "") > 64:
        raise InvalidInput("Malformed proof of work; fetch a new challenge and solve it.", field="challenge")
    body = ".".join(parts[:3])
    if not hmac.compare_digest(_mac(key, body), parts[3]):
        raise InvalidInput("This challenge was not issued by this server; fetch a new one.", field="challenge")
    if int(parts[0]) < now.timestamp():
        raise InvalidInput("The challenge expired; fetch a new one and solve it.", field="challenge")
    bits = int(parts[1])
    if bits < min_bits or not solves(challenge, solution, bits):
        raise InvalidInput("The proof of work does not solve the challenge; solve it again.", field="solution")
