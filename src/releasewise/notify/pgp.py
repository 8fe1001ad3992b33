"""OpenPGP encryption of outgoing mail to contacts who gave a public key, through GnuPG (``gpg``).

Disclosure mail carries an embargoed case's title, deadlines and a private link that acts for the
recipient's organisation. Security teams at platforms routinely ask for such mail encrypted, so a contact
with a PGP key gets the body as an inline ASCII-armoured PGP message (readable in Thunderbird, Mailvelope,
``gpg --decrypt``), and the link never sits in the outbox in clear.

Each call imports the one key into a throwaway GnuPG home directory, so nothing is kept between calls and
no keyring on the server is touched. ``--trust-model always``: the lab chose this key for this contact;
there is no web of trust to consult.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
from dataclasses import dataclass

GPG_TIMEOUT_S = 30


class PgpError(Exception):
    """A key that cannot be used, or GnuPG missing or failing; the message says which."""


@dataclass(frozen=True)
class KeyInfo:
    fingerprint: str
    user_ids: tuple[str, ...]


def available() -> bool:
    return shutil.which("gpg") is not None


def _gpg(home: str, args: list[str], data: bytes) -> bytes:
    exe = shutil.which("gpg")
    if exe is None:
        raise PgpError("GnuPG (gpg) is not installed on the server; install the gnupg package.")
    # --no-autostart: public-key work needs no gpg-agent, and a spawned one would outlive its home directory.
    proc = subprocess.run([exe, "--homedir", home, "--batch", "--no-tty", "--quiet", "--no-autostart", *args],
                          input=data, capture_output=True, timeout=GPG_TIMEOUT_S)
    if proc.returncode != 0:
        detail = proc.stderr.decode(errors="replace").strip().splitlines()
        raise PgpError(detail[-1] if detail else f"gpg exited with {proc.returncode}")
    return proc.stdout


def _import(home: str, armored_key: str) -> KeyInfo:
    _gpg(home, ["--import"], armored_key.encode())
    listing = _gpg(home, ["--with-colons", "--list-keys"], b"").decode(errors="replace")
    fingerprint, can_encrypt, user_ids = "", False, []
    for line in listing.splitlines():
        fields = line.split(":")
        if fields[0] == "pub":
            if fingerprint:
                raise PgpError("Give one public key per contact, not a keyring.")
            can_encrypt = "E" in fields[11] if len(fields) > 11 else False
        elif fields[0] == "fpr" and not fingerprint:
            fingerprint = fields[9]
        elif fields[0] == "uid" and len(fields) > 9:
            user_ids.append(fields[9])
    if not fingerprint:
        raise PgpError("No public key found in the text.")
    if not can_encrypt:
        raise PgpError("The key cannot encrypt (no usable encryption subkey, or it expired or was revoked).")
    return KeyInfo(fingerprint, tuple(user_ids))


def _home() -> tempfile.TemporaryDirectory[str]:
    home = tempfile.TemporaryDirectory(prefix="rw-gpg-")
    os.chmod(home.name, 0o700)
    return home


def inspect(armored_key: str) -> KeyInfo:
    """Check that ``armored_key`` is one public key that can encrypt; its fingerprint and user ids."""
    with _home() as home:
        return _import(home, armored_key)


def encrypt(text: str, armored_key: str) -> str:
    """``text`` encrypted to ``armored_key`` as an ASCII-armoured PGP message."""
    with _home() as home:
        key = _import(home, armored_key)
        out = _gpg(home, ["--trust-model", "always", "--armor", "--encrypt", "--recipient", key.fingerprint],
                   text.encode())
    return out.decode("ascii")
