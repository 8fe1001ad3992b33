from __future__ import annotations

import os
import shutil

import numpy as np
import pytest

from releasewise.provenance import Payload, WatermarkKey


@pytest.fixture(scope="session")
def key() -> WatermarkKey:
    return WatermarkKey(bytes(range(32)), key_id="test-key")


@pytest.fixture(scope="session")
def other_key() -> WatermarkKey:
    return WatermarkKey(bytes(range(100, 132)), key_id="other-key")


@pytest.fixture(scope="session")
def payload() -> Payload:
    return Payload(release_id=123456, grant_id=789)


@pytest.fixture(scope="session")
def photo() -> np.ndarray:
    from skimage import data

    return data.astronaut()


def require_tool(name: str) -> str:
    """Path of an external tool, or skip (fail under RELEASEWISE_REQUIRE_ALL=1) when it is missing."""
    path = shutil.which(name)
    if path:
        return path
    message = f"{name} is not installed (apt-get install -y {name})"
    if os.environ.get("RELEASEWISE_REQUIRE_ALL") == "1":
        pytest.fail(message)
    pytest.skip(message)


SPEECH_TEXTS = [
    "The quick brown fox jumps over the lazy dog, while the committee reviews the staged release plan.",
    "Detection researchers asked for early access to the generator so that they could train classifiers.",
]


def espeak(text: str, voice: str = "en-us") -> tuple[np.ndarray, int]:
    """Synthesise speech with espeak-ng (float64 mono samples, rate)."""
    import io
    import subprocess
    import wave

    exe = require_tool("espeak-ng")
    out = subprocess.run([exe, "-v", voice, "-s", "150", "--stdout", text], capture_output=True, check=True).stdout
    with wave.open(io.BytesIO(out)) as w:
        rate = w.getframerate()
        x = np.frombuffer(w.readframes(w.getnframes()), dtype=np.int16)
    return x.astype(np.float64) / 32768.0, rate


@pytest.fixture(scope="session")
def speech() -> tuple[np.ndarray, int]:
    return espeak(SPEECH_TEXTS[0])
