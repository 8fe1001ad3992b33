"""Pure rules of gated access: who a tier admits, request forms, approval rules,
agreement acceptance, file names, and approval-latency statistics (docs/access.md).
"""

from __future__ import annotations

import hashlib
import math
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from enum import Enum
from typing import Any

from releasewise.domain.tiers import Tier
from releasewise.errors import InvalidInput


class ApprovalMode(str, Enum):
    manual = "manual"
    automatic = "automatic"
    rules = "rules"


class RequestStatus(str, Enum):
    pending = "pending"
    approved = "approved"
    rejected = "rejected"
    withdrawn = "withdrawn"


class RequestKind(str, Enum):
    new = "new"
    renewal = "renewal"
    appeal = "appeal"


class FieldType(str, Enum):
    text = "text"
    select = "select"
    checkbox = "checkbox"
    country = "country"
    date = "date"


# ISO 3166-1 alpha-2.
COUNTRIES = frozenset("""
AD AE AF AG AI AL AM AO AQ AR AS AT AU AW AX AZ BA BB BD BE BF BG BH BI BJ BL BM BN BO BQ BR BS BT BV BW BY BZ
CA CC CD CF CG CH CI CK CL CM CN CO CR CU CV CW CX CY CZ DE DJ DK DM DO DZ EC EE EG EH ER ES ET FI FJ FK FM FO FR
GA GB GD GE GF GG GH GI GL GM GN GP GQ GR GS GT GU GW GY HK HM HN HR HT HU ID IE IL IM IN IO IQ IR IS IT JE JM JO
JP KE KG KH KI KM KN KP KR KW KY KZ LA LB LC LI LK LR LS LT LU LV LY MA MC MD ME MF MG MH MK ML MM MN MO MP MQ MR
MS MT MU MV MW MX MY MZ NA NC NE NF NG NI NL NO NP NR NU NZ OM PA PE PF PG PH PK PL PM PN PR PS PT PW PY QA RE RO
RS RU RW SA SB SC SD SE SG SH SI SJ SK SL SM SN SO SR SS ST SV SX SY SZ TC TD TF TG TH TJ TK TL TM TN TO TR TT TV
TW TZ UA UG UM US UY UZ VA VC VE VG VI VN VU WF WS YE YT ZA ZM ZW
""".split())

_FIELD_NAME = re.compile(r"^[a-z][a-z0-9_]{0,39}$")
MAX_FIELDS = 20
MAX_ANSWER = 2000


@dataclass(frozen=True)
class FormField:
    """A custom question on a project's access request form."""

    name: str
    label: str
    type: FieldType
    required: bool = True
    options: tuple[str, ...] = ()

    def as_dict(self) -> dict[str, Any]:
        return {"name": self.name, "label": self.label, "type": self.type.value, "required": self.required,
                "options": list(self.options)}


def parse_form_fields(raw: Sequence[Mapping[str, Any]]) -> list[FormField]:
    """Validate a form definition (as sent by a lead)."""
    if len(raw) > MAX_FIELDS:
        raise InvalidInput(f"A request form has at most {MAX_FIELDS} custom fields.", field="form_fields")
    fields: list[FormField] = []
    seen: set[str] = set()
    for i, item in enumerate(raw, start=1):
        name = str(item.get("name", "")).strip()
        if not _FIELD_NAME.match(name):
            raise InvalidInput(f"Field {i}: name must be lowercase letters, digits and '_' (e.g. 'country').",
                               field="form_fields")
        if name in seen or name in {"intended_use", "institution"}:
            raise InvalidInput(f"Field {i}: the name '{name}' is already used.", field="form_fields")
        seen.add(name)
        label = str(item.get("label", "")).strip()
        if not label or len(label) > 200:
            raise InvalidInput(f"Field '{name}': give a label of 1–200 characters.", field="form_fields")
        try:
            kind = FieldType(str(item.get("type", "")))
        except ValueError:
            raise InvalidInput(f"Field '{name}': type must be one of {', '.join(t.value for t in FieldType)}.",
                               field="form_fields") from None
        options = tuple(str(o).strip() for o in item.get("options", []) or [])
        if kind is FieldType.select and (not options or any(not o for o in options)):
            raise InvalidInput(f"Field '{name}': a select field needs a list of non-empty options.",
                               field="form_fields")
        fields.append(FormField(name, label, kind, bool(item.get("required", True)), options))
    return fields


def validate_answers(fields: Sequence[FormField], answers: Mapping[str, Any]) -> dict[str, Any]:
    """Check a requester's answers against the form; returns the cleaned answers."""
    known = {f.name for f in fields}
    unknown = sorted(set(answers) - known)
    if unknown:
        raise InvalidInput(f"The form has no field(s) {', '.join(unknown)}.", field="answers")
    clean: dict[str, Any] = {}
    for f in fields:
        value = answers.get(f.name)
        if f.type is FieldType.checkbox:
            ticked = value in (True, "true", "on", "yes", "1")
            if f.required and not ticked:
                raise InvalidInput(f"Tick '{f.label}' to continue.", field=f.name)
            clean[f.name] = ticked
            continue
        text = "" if value is None else str(value).strip()
        if not text:
            if f.required:
                raise InvalidInput(f"Answer '{f.label}'.", field=f.name)
            continue
        if len(text) > MAX_ANSWER:
            raise InvalidInput(f"'{f.label}' is too long (at most {MAX_ANSWER} characters).", field=f.name)
        if f.type is FieldType.select and text not in f.options:
            raise InvalidInput(f"'{f.label}' must be one of: {', '.join(f.options)}.", field=f.name)
        if f.type is FieldType.country:
            text = text.upper()
            if text not in COUNTRIES:
                raise InvalidInput(f"'{f.label}' must be a two-letter ISO country code such as DE or KE.",
                                   field=f.name)
        if f.type is FieldType.date:
            try:
                text = date.fromisoformat(text).isoformat()
            except ValueError:
                raise InvalidInput(f"'{f.label}' must be a date as YYYY-MM-DD.", field=f.name) from None
        clean[f.name] = text
    return clean


def check_checkboxes(required: Sequence[str], ticked: Iterable[str]) -> list[str]:
    """Every checkbox of the agreement must be ticked; returns them in the agreement's order."""
    ticked_set = set(ticked)
    missing = [c for c in required if c not in ticked_set]
    if missing:
        raise InvalidInput(f"Accept every statement of the agreement; missing: {missing[0]}", field="checkboxes")
    extra = ticked_set - set(required)
    if extra:
        raise InvalidInput("The agreement has changed since you opened it; reload it and accept again.",
                           field="checkboxes")
    return list(required)


def clean_email_domains(values: Iterable[str]) -> list[str]:
    domains = sorted({v.strip().lower().lstrip("@") for v in values if v.strip()})
    for d in domains:
        if not re.match(r"^[a-z0-9-]+(\.[a-z0-9-]+)+$", d):
            raise InvalidInput(f"'{d}' is not an email domain such as uni-example.edu.", field="email_domains")
    return domains


@dataclass(frozen=True)
class RuleOutcome:
    approve: bool
    reason: str


def evaluate_rules(mode: ApprovalMode, *, email: str, requester_orgs: Iterable[str], email_domains: Sequence[str],
                   trusted_orgs: Sequence[str]) -> RuleOutcome:
    """Decide automatically where the policy allows it; ``approve=False`` leaves the request for a person."""
    if mode is ApprovalMode.automatic:
        return RuleOutcome(True, "Approved automatically (the project approves every complete request).")
    if mode is ApprovalMode.manual:
        return RuleOutcome(False, "Waiting for an approver.")
    domain = email.rsplit("@", 1)[-1].lower()
    if domain in email_domains:
        return RuleOutcome(True, f"Approved by rule: verified email domain '{domain}' is on the allow-list.")
    trusted = sorted(set(requester_orgs) & set(trusted_orgs))
    if trusted:
        return RuleOutcome(True, f"Approved by rule: member of trusted partner organisation '{trusted[0]}'.")
    return RuleOutcome(False, "No approval rule matched; waiting for an approver.")


@dataclass(frozen=True)
class AccessFacts:
    """What is known about one person and one asset when deciding a download."""

    signed_in: bool
    is_member: bool = False
    org_grant_id: int | None = None
    user_grant_id: int | None = None
    agreement_version: int | None = None  # the current one; None when the project has none
    accepted_version: int | None = None  # the newest the person accepted


@dataclass(frozen=True)
class Admission:
    allowed: bool
    basis: str  # member | org_grant | grant | registered | public | "" when refused
    grant_id: int | None = None
    needs_agreement: bool = False  # refused only because the current agreement is not accepted


def agreement_current(facts: AccessFacts) -> bool:
    if facts.agreement_version is None:
        return True
    return facts.accepted_version is not None and facts.accepted_version >= facts.agreement_version


def admits(tier: Tier, facts: AccessFacts) -> Admission:
    """Does the asset's current tier admit this person? Wider tiers include every narrower audience."""
    if tier is Tier.public:
        return Admission(True, "public")
    if not facts.signed_in:
        return Admission(False, "")
    if facts.is_member:
        return Admission(True, "member")
    if tier.rank >= Tier.trusted_partners.rank and facts.org_grant_id is not None:
        return Admission(True, "org_grant", facts.org_grant_id)
    if tier.rank >= Tier.vetted_researchers.rank and facts.user_grant_id is not None:
        if agreement_current(facts):
            return Admission(True, "grant", facts.user_grant_id)
        return Admission(False, "", needs_agreement=True)
    if tier is Tier.registered:
        if facts.accepted_version is not None and agreement_current(facts):
            return Admission(True, "registered")
        return Admission(False, "", needs_agreement=True)
    return Admission(False, "")


def requestable(tier: Tier) -> bool:
    """Outsiders can see and request access to an asset only at these tiers."""
    return tier in (Tier.trusted_partners, Tier.vetted_researchers, Tier.registered, Tier.public)


_BAD_PATH_CHARS = re.compile(r"[\x00-\x1f\x7f\\:*?\"<>|]")


def clean_file_path(value: str) -> str:
    """A file name inside an asset version: relative, '/'-separated, no '.' or '..' segments."""
    path = value or ""
    if not path or len(path) > 500:
        raise InvalidInput("File names must be 1–500 characters.", field="path")
    if _BAD_PATH_CHARS.search(path):
        raise InvalidInput(f"File name '{path[:80]}' contains a forbidden character (control characters, "
                           "backslash or one of : * ? \" < > |).", field="path")
    parts = path.split("/")
    if path.startswith("/") or any(p in ("", ".", "..") for p in parts):
        raise InvalidInput(f"File name '{path[:80]}' must be a relative path without '.', '..' or empty parts.",
                           field="path")
    return path


def commit_sha(asset_id: int, number: int, files: Iterable[tuple[str, str]]) -> str:
    """A 40-hex id for a complete version (what huggingface_hub calls a commit)."""
    h = hashlib.sha1(f"releasewise asset {asset_id} version {number}\n".encode(), usedforsecurity=False)
    for path, sha256 in sorted(files):
        h.update(f"{sha256} {path}\n".encode())
    return h.hexdigest()


def percentile(values: Sequence[float], q: float) -> float | None:
    """Nearest-rank percentile (q in 0..100); None for no values."""
    if not values:
        return None
    ordered = sorted(values)
    rank = max(1, math.ceil(q / 100 * len(ordered)))
    return ordered[rank - 1]


def median(values: Sequence[float]) -> float | None:
    if not values:
        return None
    ordered = sorted(values)
    mid = len(ordered) // 2
    return ordered[mid] if len(ordered) % 2 else (ordered[mid - 1] + ordered[mid]) / 2


def waiting_seconds(created_at: datetime, now: datetime) -> float:
    return max(0.0, (now - created_at).total_seconds())
