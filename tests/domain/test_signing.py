from __future__ import annotations

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from releasewise.domain import signing
from releasewise.errors import InvalidInput


def manifest() -> dict[str, object]:
    import hashlib

    return signing.manifest_document(org="lab", project="echo", asset="weights", version=2, commit="c0ffee",
                                     files=[("b.bin", 3, hashlib.sha256(b"abc").hexdigest()),
                                            ("a/config.json", 2, hashlib.sha256(b"{}").hexdigest())])


def test_sign_and_verify_with_rotated_keys() -> None:
    old, new = Ed25519PrivateKey.generate(), Ed25519PrivateKey.generate()
    published = {signing.key_id(k.public_key()): k.public_key() for k in (old, new)}
    signed_old = signing.sign(manifest(), old)
    assert signing.verify(signed_old, published) == signing.key_id(old.public_key())
    assert [f["path"] for f in signed_old.manifest["files"]] == ["a/config.json", "b.bin"]  # canonical order


def test_a_changed_manifest_or_an_unknown_key_is_not_trusted() -> None:
    key, stranger = Ed25519PrivateKey.generate(), Ed25519PrivateKey.generate()
    published = {signing.key_id(key.public_key()): key.public_key()}
    signed = signing.sign(manifest(), key)
    tampered = signing.SignedManifest({**signed.manifest, "version": 3}, signed.key_id, signed.signature)
    with pytest.raises(InvalidInput, match="does not match its content"):
        signing.verify(tampered, published)
    with pytest.raises(InvalidInput, match="untrusted"):
        signing.verify(signing.sign(manifest(), stranger), published)
    with pytest.raises(InvalidInput, match="Ed25519"):
        signing.load_public_key("bm90IGEga2V5")
