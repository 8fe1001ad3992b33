"""Validation of user-supplied names and text.

Services call these before touching the database so that every entry point
(web form, API, CLI) gives the same clear message for the same mistake.
"""

from __future__ import annotations

import re

from releasewise.errors import InvalidInput

SLUG_RE = re.compile(r"^[a-z0-9](?:[a-z0-9-]{0,38}[a-z0-9])?$")
USERNAME_RE = re.compile(r"^[a-z0-9](?:[a-z0-9_.-]{1,30}[a-z0-9])$")
EMAIL_RE = re.compile(r"^[^@\s]{1,64}@[^@\s]+\.[^@\s]{2,}$")

MIN_PASSWORD_LENGTH = 10
MAX_PASSWORD_LENGTH = 256


def clean_text(value: str | None, field: str, *, max_length: int, required: bool = True) -> str:
    """Strip ``value`` and check it is present (if required) and not too long."""
    text = (value or "").strip()
    if required and not text:
        raise InvalidInput(f"{field} must not be empty.", field=field)
    if len(text) > max_length:
        raise InvalidInput(
            f"{field} is {len(text)} characters long; the limit is {max_length}. Shorten it.",
            field=field,
        )
    if any(ord(ch) < 32 and ch not in "\n\t" for ch in text):
        raise InvalidInput(f"{field} contains control characters; remove them.", field=field)
    return text


def clean_slug(value: str | None, field: str = "slug") -> str:
    """A URL-safe identifier: 1–40 lowercase letters, digits and inner hyphens."""
    slug = (value or "").strip().lower()
    if not slug:
        raise InvalidInput(f"{field} must not be empty.", field=field)
    if not SLUG_RE.match(slug):
        raise InvalidInput(
            f"{field} '{value}' is not valid: use 1–40 lowercase letters, digits and hyphens, "
            "starting and ending with a letter or digit (e.g. 'voice-lab').",
            field=field,
        )
    return slug


def slugify(name: str) -> str:
    """Derive a slug suggestion from a display name ('Voice Lab!' → 'voice-lab')."""
    slug = re.sub(r"[^a-z0-9]+", "-", name.lower()).strip("-")
    return slug[:40].strip("-")


def clean_username(value: str | None) -> str:
    username = (value or "").strip().lower()
    if not USERNAME_RE.match(username):
        raise InvalidInput(
            "Username must be 3–32 characters: lowercase letters, digits, '.', '_' or '-', "
            "starting and ending with a letter or digit.",
            field="username",
        )
    return username


def clean_email(value: str | None) -> str:
    email = (value or "").strip().lower()
    if len(email) > 254 or not EMAIL_RE.match(email):
        raise InvalidInput(f"'{value}' is not a valid email address.", field="email")
    return email


def check_password_strength(password: str, *, username: str = "") -> None:
    if len(password) < MIN_PASSWORD_LENGTH:
        raise InvalidInput(
            f"Password must be at least {MIN_PASSWORD_LENGTH} characters long.", field="password"
        )
    if len(password) > MAX_PASSWORD_LENGTH:
        raise InvalidInput(
            f"Password must be at most {MAX_PASSWORD_LENGTH} characters long.", field="password"
        )
    if username and password.lower() == username.lower():
        raise InvalidInput("Password must not be the same as the username.", field="password")
