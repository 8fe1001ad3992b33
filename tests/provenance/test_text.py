from __future__ import annotations

import numpy as np
import pytest

from releasewise.provenance import InvalidMediaError, MediaTooSmallError, TextMark

import torch  # the provenance extra includes torch and transformers

N_TOKENS = 200


@pytest.fixture(scope="module")
def tiny():
    """A tiny randomly initialised GPT-2 and a tokenizer built locally: nothing is downloaded."""
    from tokenizers import Tokenizer, models, pre_tokenizers
    from transformers import GPT2Config, GPT2LMHeadModel, PreTrainedTokenizerFast

    vocab = {"<eos>": 0, "<unk>": 1, **{f"w{i}": i + 2 for i in range(500)}}
    tk = Tokenizer(models.WordLevel(vocab, unk_token="<unk>"))
    tk.pre_tokenizer = pre_tokenizers.Whitespace()
    tok = PreTrainedTokenizerFast(tokenizer_object=tk, eos_token="<eos>", unk_token="<unk>", pad_token="<eos>")
    torch.set_num_threads(1)  # tiny model: threads only add overhead, especially on a shared machine
    torch.manual_seed(0)
    cfg = GPT2Config(vocab_size=len(vocab), n_positions=256, n_embd=32, n_layer=1, n_head=2,
                     bos_token_id=0, eos_token_id=0)
    return GPT2LMHeadModel(cfg).eval(), tok


def _generate(model, tok, config=None, n=6, seed=0):
    torch.manual_seed(seed)
    prompts = tok([f"w{i} w{i + 7} w{i + 3}" for i in range(n)], return_tensors="pt")
    out = model.generate(**prompts, watermarking_config=config, do_sample=True, max_new_tokens=N_TOKENS,
                         min_new_tokens=N_TOKENS, pad_token_id=0)
    return out[:, prompts["input_ids"].shape[1]:]


def test_marked_detected_unmarked_not(tiny, key):
    model, tok = tiny
    mark = TextMark(key, tokenizer=tok)
    marked = _generate(model, tok, mark.watermarking_config())
    plain = _generate(model, tok, None, seed=1)
    for row in marked:
        res = mark.detect(row)
        assert res.detected and res.p_value < 1e-6 and res.z_score > 5 and res.tokens == N_TOKENS
    for row in plain:
        res = mark.detect(row)
        assert not res.detected and res.p_value > mark.alpha
    # From the decoded string, with the tokenizer used at generation.
    assert mark.detect(tok.decode(marked[0])).detected


def test_wrong_key_and_determinism(tiny, key, other_key):
    model, tok = tiny
    mark = TextMark(key, tokenizer=tok)
    assert TextMark(key).keys == mark.keys
    marked = _generate(model, tok, mark.watermarking_config(), n=3)
    assert not any(TextMark(other_key).detect(row).detected for row in marked)
    assert mark.detect(marked[0]) == mark.detect(marked[0])


def test_bad_inputs(key):
    mark = TextMark(key)
    with pytest.raises(MediaTooSmallError):
        mark.detect([1, 2, 3])
    with pytest.raises(InvalidMediaError):
        mark.detect("some text")  # no tokenizer given
    with pytest.raises(InvalidMediaError):
        mark.detect(np.zeros((2, 30), dtype=np.int64))
    with pytest.raises(InvalidMediaError):
        mark.detect([0.5] * 30)
