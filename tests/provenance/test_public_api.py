from __future__ import annotations

import ast
from pathlib import Path

import releasewise.provenance as provenance
from releasewise.provenance import errors

PACKAGE = Path(provenance.__file__).parent
FORBIDDEN = ("sqlalchemy", "fastapi", "httpx", "starlette", "releasewise.store", "releasewise.services",
             "releasewise.api", "releasewise.web")


def test_public_api_is_pinned():
    assert sorted(provenance.__all__) == sorted([
        "AudioDetection", "AudioMark", "ImageDetection", "ImageMark", "InvalidKeyError", "InvalidMediaError",
        "KeyNotFoundError", "KeyRecord", "Keystore", "KeystoreError", "MediaTooLargeError", "MediaTooSmallError",
        "Payload", "PayloadError", "ProvenanceError", "TextDetection", "TextMark", "ToolMissingError",
        "UnsupportedFormatError", "WatermarkKey", "WatermarkKeyError", "default_keystore_path", "load_audio",
        "load_image", "media_kind", "save_audio", "save_image",
    ])
    for name in provenance.__all__:
        assert getattr(provenance, name) is not None


def test_errors_form_one_hierarchy():
    for name in errors.__all__:
        cls = getattr(errors, name)
        assert issubclass(cls, errors.ProvenanceError)
        # Only our own base and Python's Exception in the MRO.
        assert all(c.__module__ in (errors.__name__, "builtins") for c in cls.__mro__)


def test_library_imports_no_web_or_db_layers():
    for path in PACKAGE.glob("*.py"):
        tree = ast.parse(path.read_text())
        for node in ast.walk(tree):
            names = []
            if isinstance(node, ast.Import):
                names = [a.name for a in node.names]
            elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
                names = [node.module]
            for name in names:
                assert not name.startswith(FORBIDDEN), f"{path.name} imports {name}"
