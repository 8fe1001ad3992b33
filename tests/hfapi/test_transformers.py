"""transformers' from_pretrained with HF_ENDPOINT pointing at releasewise (a tiny model built here)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import World, unavailable
from tests.hfapi.conftest import token_for
from tests.hfapi.support import gated_setup, publish, request_and_approve
from tests.support.live import LiveServer

pytestmark = pytest.mark.slow

LOAD = """
import sys, torch
from transformers import AutoModel
try:
    AutoModel.from_pretrained("lab-a/echo-weights-1b", token=False, cache_dir=sys.argv[2])
except OSError as exc:
    print("REFUSED", "gated" in str(exc).lower())
model = AutoModel.from_pretrained("lab-a/echo-weights-1b", revision="v1")
reference = AutoModel.from_pretrained(sys.argv[1])
same = all(torch.equal(a, b) for a, b in zip(model.state_dict().values(), reference.state_dict().values()))
print("SAME" if same else "DIFFERENT", type(model).__name__)
"""


def test_from_pretrained_loads_a_gated_model_with_a_grant(hub: tuple[LiveServer, World], tmp_path: Path) -> None:
    try:
        import torch
        from transformers import BertConfig, BertModel
    except ImportError:
        unavailable("transformers/torch are missing: pip install -e '.[test]'")
    live, w = hub
    torch.manual_seed(0)
    config = BertConfig(vocab_size=64, hidden_size=16, num_hidden_layers=1, num_attention_heads=2,
                        intermediate_size=32, max_position_embeddings=32)
    model_dir = tmp_path / "tiny-bert"
    BertModel(config).save_pretrained(model_dir)
    publish(w.rt, w.researcher, {p.name: p.read_bytes() for p in model_dir.iterdir() if p.is_file()})
    gated_setup(w.rt, w.lead)
    request_and_approve(w.rt, w.outsider, w.lead)
    env = {**os.environ, "HF_ENDPOINT": live.url, "HF_TOKEN": token_for(w, w.outsider),
           "HF_HOME": str(tmp_path / "hf"), "HF_HUB_DISABLE_TELEMETRY": "1", "TRANSFORMERS_VERBOSITY": "error"}
    result = subprocess.run([sys.executable, "-c", LOAD, str(model_dir), str(tmp_path / "anonymous-cache")],
                            env=env, capture_output=True, text=True, timeout=240)
    assert result.returncode == 0, result.stderr[-3000:]
    assert "REFUSED True" in result.stdout  # without the token: the gated-repo error
    assert "SAME BertModel" in result.stdout  # with it: the same weights
