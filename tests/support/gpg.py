"""A throwaway GnuPG keypair for tests: a contact's public key, and decryption as that contact would do it."""

from __future__ import annotations

import shutil
import subprocess
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from tests.conftest import unavailable


@dataclass(frozen=True)
class Keypair:
    home: Path
    public_key: str

    def decrypt(self, message: str) -> str:
        out = subprocess.run(["gpg", "--homedir", str(self.home), "--batch", "--quiet", "--decrypt"],
                             input=message.encode(), capture_output=True, check=True, timeout=60)
        return out.stdout.decode()


@contextmanager
def keypair(uid: str) -> Iterator[Keypair]:
    """An Ed25519 signing key with a Curve25519 encryption subkey, no passphrase; the agent is stopped after."""
    if shutil.which("gpg") is None:
        unavailable("GnuPG is not installed (apt-get install -y gnupg)")
    with tempfile.TemporaryDirectory(prefix="rw-test-gpg-") as name:
        home = Path(name)
        home.chmod(0o700)
        base = ["gpg", "--homedir", name, "--batch", "--quiet", "--passphrase", ""]
        try:
            subprocess.run([*base, "--quick-gen-key", uid, "ed25519", "cert,sign", "1y"], check=True,
                           capture_output=True, timeout=60)
            listing = subprocess.run(["gpg", "--homedir", name, "--with-colons", "--list-keys"], check=True,
                                     capture_output=True, text=True).stdout
            fingerprint = next(line.split(":")[9] for line in listing.splitlines() if line.startswith("fpr"))
            subprocess.run([*base, "--quick-add-key", fingerprint, "cv25519", "encr", "1y"], check=True,
                           capture_output=True, timeout=60)
            public = subprocess.run(["gpg", "--homedir", name, "--armor", "--export", fingerprint], check=True,
                                    capture_output=True, text=True).stdout
            yield Keypair(home, public)
        finally:
            subprocess.run(["gpgconf", "--homedir", name, "--kill", "all"], capture_output=True)
