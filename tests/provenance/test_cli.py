from __future__ import annotations

import json

import pytest
import typer
from typer.testing import CliRunner

from releasewise.cli.provenance import bench_app, detect_command, keys_app, mark_app
from releasewise.provenance import save_audio, save_image

from .conftest import espeak, SPEECH_TEXTS


@pytest.fixture()
def cli(tmp_path, monkeypatch):
    app = typer.Typer()
    app.add_typer(mark_app, name="mark")
    app.command("detect")(detect_command)
    app.add_typer(keys_app, name="keys")
    app.add_typer(bench_app, name="bench")
    monkeypatch.setenv("RELEASEWISE_DATA_DIR", str(tmp_path / "data"))
    runner = CliRunner()

    def run(*args: str):
        return runner.invoke(app, list(args), catch_exceptions=False)

    return run


def test_keys_mark_detect_image(cli, tmp_path, photo):
    src = tmp_path / "photo.png"
    save_image(src, photo)
    assert cli("keys", "create", "--org", "acme", "--model", "img-1", "--release-id", "77").exit_code == 0
    res = cli("mark", "image", str(src), "--out", str(tmp_path / "m.png"), "--org", "acme", "--model", "img-1")
    assert res.exit_code == 0, res.output
    res = cli("detect", str(tmp_path / "m.png"), "--json")
    assert res.exit_code == 0
    found = json.loads(res.output)
    assert found["detected"] and found["release_id"] == 77 and found["organisation"] == "acme"
    # Rotation keeps the old key for detection.
    assert cli("keys", "rotate", "--org", "acme", "--model", "img-1").exit_code == 0
    assert json.loads(cli("detect", str(tmp_path / "m.png"), "--json").output)["key_status"] == "retired"
    listing = cli("keys", "list", "--json")
    assert listing.exit_code == 0 and "secret" not in listing.output and len(json.loads(listing.output)) == 2
    # Unmarked: exit 2 and "not detected".
    res = cli("detect", str(src))
    assert res.exit_code == 2 and "Not detected" in res.output


def test_mark_detect_audio(cli, tmp_path):
    x, rate = espeak(SPEECH_TEXTS[1])
    save_audio(tmp_path / "s.wav", x, rate)
    cli("keys", "create", "--org", "acme", "--model", "tts")
    res = cli("mark", "audio", str(tmp_path / "s.wav"), "--out", str(tmp_path / "m.wav"), "--org", "acme", "--model", "tts")
    assert res.exit_code == 0, res.output
    assert json.loads(cli("detect", str(tmp_path / "m.wav"), "--json").output)["detected"]


def test_errors_exit_1_with_a_message(cli, tmp_path):
    empty = tmp_path / "e.png"
    empty.write_bytes(b"")
    res = cli("detect", str(empty))
    assert res.exit_code == 1 and "no keys" in res.output
    cli("keys", "create", "--org", "acme", "--model", "m")
    res = cli("detect", str(empty))
    assert res.exit_code == 1 and "empty" in res.output
    res = cli("mark", "image", str(empty), "--out", str(tmp_path / "o.png"), "--org", "nobody", "--model", "m")
    assert res.exit_code == 1 and "keys create" in res.output
    text = tmp_path / "t.txt"
    text.write_text("hello world")
    res = cli("detect", str(text))
    assert res.exit_code == 1 and "--tokenizer" in res.output


def test_bench_writes_markdown(cli, tmp_path):
    from skimage import data

    (tmp_path / "img").mkdir()
    (tmp_path / "aud").mkdir()
    save_image(tmp_path / "img" / "coffee.png", data.coffee())
    x, rate = espeak(SPEECH_TEXTS[0])
    save_audio(tmp_path / "aud" / "s.wav", x, rate)
    out = tmp_path / "card.md"
    res = cli("bench", "watermark", "--images", str(tmp_path / "img"), "--audio", str(tmp_path / "aud"),
              "--markdown", str(out), "--no-baselines", "--no-text", "--fpr-crops", "100", "--timing-runs", "1",
              "--no-one-core")
    assert res.exit_code == 0, res.output
    card = out.read_text()
    assert card.startswith("## Provenance") and "| releasewise |" in card and "jpeg50" in card


def test_detect_text_file_with_local_tokenizer(cli, tmp_path):
    import torch
    from tokenizers import Tokenizer, models, pre_tokenizers
    from transformers import GPT2Config, GPT2LMHeadModel, PreTrainedTokenizerFast

    from releasewise.provenance import Keystore, TextMark

    vocab = {"<eos>": 0, "<unk>": 1, **{f"w{i}": i + 2 for i in range(300)}}
    tk = Tokenizer(models.WordLevel(vocab, unk_token="<unk>"))
    tk.pre_tokenizer = pre_tokenizers.Whitespace()
    tok = PreTrainedTokenizerFast(tokenizer_object=tk, eos_token="<eos>", unk_token="<unk>", pad_token="<eos>")
    tok.save_pretrained(tmp_path / "tok")
    cli("keys", "create", "--org", "acme", "--model", "chat")
    record = Keystore().active("acme", "chat")
    torch.set_num_threads(1)
    torch.manual_seed(0)
    model = GPT2LMHeadModel(GPT2Config(vocab_size=len(vocab), n_positions=256, n_embd=32, n_layer=1, n_head=2,
                                       bos_token_id=0, eos_token_id=0)).eval()
    prompt = tok(["w1 w2 w3"], return_tensors="pt")
    out = model.generate(**prompt, watermarking_config=TextMark(record.key).watermarking_config(), do_sample=True,
                         max_new_tokens=200, min_new_tokens=200, pad_token_id=0)
    (tmp_path / "gen.txt").write_text(tok.decode(out[0, 3:]))
    res = cli("detect", str(tmp_path / "gen.txt"), "--tokenizer", str(tmp_path / "tok"), "--json")
    assert res.exit_code == 0, res.output
    found = json.loads(res.output)
    assert found["detected"] and found["model"] == "chat" and found["z_score"] > 5
    (tmp_path / "plain.txt").write_text(" ".join(f"w{i % 300}" for i in range(0, 2000, 7)))
    assert cli("detect", str(tmp_path / "plain.txt"), "--tokenizer", str(tmp_path / "tok")).exit_code == 2


def test_every_command_and_option_is_documented():
    from pathlib import Path

    import typer.main

    doc = (Path(__file__).resolve().parents[2] / "docs" / "provenance.md").read_text()
    for prefix, sub in (("mark", mark_app), ("keys", keys_app), ("bench", bench_app)):
        group = typer.main.get_group(sub)
        for name, command in group.commands.items():
            assert f"releasewise {prefix} {name}" in doc, f"`releasewise {prefix} {name}` is not in docs/provenance.md"
    assert "releasewise detect FILE" in doc
    for option in ("--keystore", "--tokenizer", "--markdown", "--images", "--audio", "--grant", "--release-id"):
        assert option in doc, f"{option} is not in docs/provenance.md"
