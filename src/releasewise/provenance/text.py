"""Generation-time text watermark: SynthID Text as shipped by Hugging Face ``transformers``.

``transformers`` ships the SynthID Text logits processor (tournament sampling
with keyed g-values) but its detector is a *trained* Bayesian model.  We
derive the SynthID keys from a :class:`~releasewise.provenance.WatermarkKey`
and add an untrained, analytic detector: under "not watermarked", each
g-value of a distinct n-gram context is a fair coin, so the number of ones
among ``n`` scored g-values is Binomial(n, 1/2).  The detector reports the
z-score and the exact one-sided binomial p-value.

Text marks are zero-bit: the payload (which release, which grant) is not in
the text; it is identified by which key detects it — keep one key per
release (or per grant) in the keystore.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Sequence

import numpy as np

from .coding import WatermarkKey
from .errors import InvalidMediaError, MediaTooSmallError

DEFAULT_NGRAM = 5
DEFAULT_DEPTH = 30
DEFAULT_ALPHA = 1e-3
MIN_SCORED = 16


@dataclass(frozen=True)
class TextDetection:
    """Outcome of :meth:`TextMark.detect`."""

    detected: bool
    z_score: float
    p_value: float
    scored: int  # number of g-values scored (distinct contexts × depth)
    tokens: int
    key_id: str = ""


def _require_transformers() -> Any:
    try:
        import torch  # noqa: F401
        import transformers
    except ImportError as exc:  # pragma: no cover - depends on the install
        raise InvalidMediaError(
            "text watermarking needs `transformers` and `torch`; install releasewise[text-watermarks]"
        ) from exc
    return transformers


class TextMark:
    """Keyed SynthID Text watermark for ``transformers`` generation, with a p-value detector.

    >>> mark = TextMark(key)
    >>> out = model.generate(**inputs, watermarking_config=mark.watermarking_config(), do_sample=True)
    >>> mark.detect(out[0, prompt_len:]).p_value
    """

    def __init__(
        self,
        key: WatermarkKey,
        *,
        tokenizer: Any = None,
        ngram_len: int = DEFAULT_NGRAM,
        depth: int = DEFAULT_DEPTH,
        alpha: float = DEFAULT_ALPHA,
    ) -> None:
        if ngram_len < 2 or depth < 1:
            raise ValueError("ngram_len must be ≥ 2 and depth ≥ 1")
        self.key = key
        self.tokenizer = tokenizer
        self.ngram_len = ngram_len
        self.depth = depth
        self.alpha = alpha
        raw = key.derive("text/synthid-keys")
        rng = np.random.Generator(np.random.PCG64(int.from_bytes(raw, "big")))
        self.keys = [int(k) for k in rng.integers(1, 2**31 - 1, size=depth)]
        self.sampling_table_seed = int(rng.integers(0, 2**31 - 1))
        self._processor: Any = None

    def watermarking_config(self) -> Any:
        """A ``transformers.SynthIDTextWatermarkingConfig`` to pass to ``model.generate``."""
        transformers = _require_transformers()
        return transformers.SynthIDTextWatermarkingConfig(
            ngram_len=self.ngram_len,
            keys=self.keys,
            sampling_table_seed=self.sampling_table_seed,
        )

    def logits_processor(self, device: str = "cpu") -> Any:
        """The matching ``SynthIDTextWatermarkLogitsProcessor`` (for custom generation loops)."""
        transformers = _require_transformers()
        import torch

        return transformers.SynthIDTextWatermarkLogitsProcessor(
            ngram_len=self.ngram_len,
            keys=self.keys,
            sampling_table_size=2**16,
            sampling_table_seed=self.sampling_table_seed,
            context_history_size=1024,
            device=torch.device(device),
        )

    def _token_ids(self, text_or_ids: str | Sequence[int] | Any) -> list[int]:
        if isinstance(text_or_ids, str):
            if self.tokenizer is None:
                raise InvalidMediaError(
                    "detecting a text string needs the tokenizer used at generation: TextMark(key, tokenizer=...)"
                )
            return list(self.tokenizer(text_or_ids, add_special_tokens=False)["input_ids"])
        try:
            ids = np.asarray(text_or_ids.tolist() if hasattr(text_or_ids, "tolist") else list(text_or_ids))
        except TypeError:
            raise InvalidMediaError("expected a string or a sequence of token ids") from None
        if ids.ndim != 1 or (ids.size and not np.issubdtype(ids.dtype, np.integer)):
            raise InvalidMediaError("token ids must be a 1-D sequence of integers (one generation)")
        return [int(i) for i in ids]

    def detect(self, text_or_ids: str | Sequence[int] | Any, *, eos_token_id: int | None = None) -> TextDetection:
        """Score generated tokens (without the prompt) and return z-score and p-value."""
        from scipy import stats

        ids = self._token_ids(text_or_ids)
        if len(ids) < self.ngram_len + 1:
            raise MediaTooSmallError(
                f"the text has {len(ids)} tokens; at least {self.ngram_len + 1} are needed (200+ for reliable detection)"
            )
        import torch

        if self._processor is None:
            self._processor = self.logits_processor()
        proc = self._processor
        batch = torch.tensor([ids], dtype=torch.long)
        g = proc.compute_g_values(batch)[0].numpy()  # (n - ngram_len + 1, depth)
        mask = proc.compute_context_repetition_mask(batch)[0].numpy().astype(bool)
        if eos_token_id is not None:
            eos = proc.compute_eos_token_mask(batch, eos_token_id)[0, self.ngram_len - 1 :].numpy().astype(bool)
            mask = mask & eos
        g = g[mask]
        n = int(g.size)
        if n < MIN_SCORED:
            return TextDetection(False, 0.0, 1.0, n, len(ids), self.key.key_id)
        ones = int(g.sum())
        z = (ones - n / 2) / np.sqrt(n / 4)
        p = float(stats.binom.sf(ones - 1, n, 0.5))
        return TextDetection(p <= self.alpha, float(z), p, n, len(ids), self.key.key_id)
