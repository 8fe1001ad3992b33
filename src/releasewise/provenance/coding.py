"""Keys, payloads and the channel code shared by the image and audio watermarks.

A watermark carries a 48-bit :class:`Payload` — ``(release_id, grant_id)``,
24 bits each — followed by a 32-bit keyed tag (HMAC-SHA256 of the payload
under the key, truncated).  The 80 information bits are protected by a
rate-1/3, constraint-length-7 convolutional code (the LTE generators 133,
171, 165 octal) with a zero tail, giving 258 coded bits, which are decoded
with a soft-decision Viterbi decoder.

Why a keyed tag rather than a plain CRC: with the wrong key, or on an
unmarked file, the decoder returns essentially random bits, and a random
80-bit word passes the tag check with probability 2**-32 (about 2.3e-10).
That bound is the analytic false-positive rate per decoding attempt; the
detectors count their attempts and report ``attempts * 2**-32`` as the
p-value of a detection.  A wrong decode is therefore reported as "not
detected", never as a wrong id.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from .errors import InvalidKeyError, PayloadError

FIELD_BITS = 24
PAYLOAD_BITS = 2 * FIELD_BITS
TAG_BITS = 32
INFO_BITS = PAYLOAD_BITS + TAG_BITS
CONSTRAINT = 7
GENERATORS = (0o133, 0o171, 0o165)
RATE_INV = len(GENERATORS)
CODED_BITS = (INFO_BITS + CONSTRAINT - 1) * RATE_INV
FALSE_MATCH_PROBABILITY = 2.0**-TAG_BITS
KEY_BYTES = 32


@dataclass(frozen=True)
class Payload:
    """What a watermark says: which release produced the media, under which grant or key.

    ``release_id`` identifies the model release (assigned by releasewise);
    ``grant_id`` the access grant (hosted access) or the key generation.  Both
    are unsigned 24-bit integers.
    """

    release_id: int
    grant_id: int = 0

    def __post_init__(self) -> None:
        for name in ("release_id", "grant_id"):
            value = getattr(self, name)
            if not isinstance(value, (int, np.integer)) or isinstance(value, bool):
                raise PayloadError(f"{name} must be an integer, got {value!r}")
            if not 0 <= int(value) < 2**FIELD_BITS:
                raise PayloadError(
                    f"{name} must be between 0 and {2**FIELD_BITS - 1}, got {value}; "
                    "use a smaller id (ids are 24-bit)"
                )

    def to_bytes(self) -> bytes:
        return int(self.release_id).to_bytes(3, "big") + int(self.grant_id).to_bytes(3, "big")

    @classmethod
    def from_bytes(cls, data: bytes) -> Payload:
        return cls(int.from_bytes(data[:3], "big"), int.from_bytes(data[3:6], "big"))


@dataclass(frozen=True)
class WatermarkKey:
    """Secret key material for embedding and detecting watermarks.

    Keys never appear in marked files; detectors need the same key.  Create
    one with :meth:`generate`, or load it from a :class:`~releasewise.provenance.keystore.Keystore`.
    """

    secret: bytes
    key_id: str = ""

    def __post_init__(self) -> None:
        if not isinstance(self.secret, bytes) or len(self.secret) != KEY_BYTES:
            raise InvalidKeyError(
                f"a watermark key must be exactly {KEY_BYTES} bytes; "
                "create one with WatermarkKey.generate() or `releasewise keys create`"
            )

    def __repr__(self) -> str:  # never print key material
        return f"WatermarkKey(key_id={self.key_id!r}, secret=<hidden>)"

    @classmethod
    def generate(cls, key_id: str = "") -> WatermarkKey:
        return cls(secrets.token_bytes(KEY_BYTES), key_id)

    @classmethod
    def from_hex(cls, text: str, key_id: str = "") -> WatermarkKey:
        try:
            raw = bytes.fromhex(text.strip())
        except ValueError:
            raise InvalidKeyError("key material must be hexadecimal (64 hex digits)") from None
        return cls(raw, key_id)

    def hex(self) -> str:
        return self.secret.hex()

    def derive(self, label: str) -> bytes:
        return hmac.new(self.secret, b"releasewise-provenance/" + label.encode(), hashlib.sha256).digest()

    def rng(self, label: str) -> np.random.Generator:
        return np.random.Generator(np.random.PCG64(int.from_bytes(self.derive(label), "big")))

    def tag(self, payload: Payload) -> bytes:
        return self.derive("tag/" + payload.to_bytes().hex())[: TAG_BITS // 8]

    def fingerprint(self) -> str:
        """A public, non-secret identifier of the key material (for listings)."""
        return hashlib.sha256(b"fingerprint/" + self.secret).hexdigest()[:16]


def _bytes_to_bits(data: bytes) -> np.ndarray:
    return np.unpackbits(np.frombuffer(data, dtype=np.uint8))


def _bits_to_bytes(bits: np.ndarray) -> bytes:
    return np.packbits(bits.astype(np.uint8)).tobytes()


def info_bits(key: WatermarkKey, payload: Payload) -> np.ndarray:
    return _bytes_to_bits(payload.to_bytes() + key.tag(payload))


def _parity(x: np.ndarray) -> np.ndarray:
    x = x.copy()
    out = np.zeros_like(x)
    while np.any(x):
        out ^= x & 1
        x >>= 1
    return out


_STATES = 1 << (CONSTRAINT - 1)
_NS = np.arange(_STATES)
_PRED = np.stack([(_NS << 1) & (_STATES - 1), ((_NS << 1) & (_STATES - 1)) | 1], axis=1)
_INPUT = _NS >> (CONSTRAINT - 2)
# Output symbols (+1 for bit 0, -1 for bit 1) for the transition pred -> ns.
_REG = (_INPUT[:, None] << (CONSTRAINT - 1)) | _PRED
_OUT = np.stack([1 - 2 * _parity(_REG & g) for g in GENERATORS], axis=-1).astype(np.float64)


def _encode_slow(bits: np.ndarray) -> np.ndarray:
    state = 0
    out: list[int] = []
    for u in list(bits.astype(int)) + [0] * (CONSTRAINT - 1):
        reg = (u << (CONSTRAINT - 1)) | state
        out.extend(bin(reg & g).count("1") & 1 for g in GENERATORS)
        state = reg >> 1
    return np.array(out, dtype=np.uint8)


# The code is linear over GF(2): row i of the generator matrix is the encoding of unit vector i.
_GENERATOR = np.stack([_encode_slow(np.eye(INFO_BITS, dtype=np.uint8)[i]) for i in range(INFO_BITS)])


def conv_encode(bits: np.ndarray) -> np.ndarray:
    """Encode ``INFO_BITS`` bits (or a batch, shape (B, INFO_BITS)) into coded bits."""
    return ((np.asarray(bits, dtype=np.int64) @ _GENERATOR) & 1).astype(np.uint8)


# The 8 possible output triples as ±1 symbols, and which of them each transition (state, predecessor) emits:
# the branch metrics of a step are then one (B, 3) @ (3, 8) product, gathered per transition.
_PATTERNS = np.array([[1 - 2 * ((i >> (RATE_INV - 1 - j)) & 1) for j in range(RATE_INV)] for i in range(1 << RATE_INV)],
                     dtype=np.float64)
_OUT_INDEX = np.array([[int(np.flatnonzero((_PATTERNS == _OUT[s, k]).all(axis=1))[0]) for k in range(2)]
                       for s in range(_STATES)])


def viterbi_decode(soft: np.ndarray) -> np.ndarray:
    """Soft-decision Viterbi; ``soft`` > 0 means bit 0. Accepts (n,) or a batch (B, n).

    The trellis loop runs once per step for the whole batch, so its cost is
    mostly per call, not per row: callers decode many candidates (periods,
    keys) in one call.  Survivor decisions are kept as booleans (the first
    predecessor wins ties, as ``argmax`` would).
    """
    soft = np.asarray(soft, dtype=np.float64)
    single = soft.ndim == 1
    batch = soft.reshape(1, -1) if single else soft
    b = batch.shape[0]
    steps = batch.reshape(b, -1, RATE_INV)
    n_steps = steps.shape[1]
    # Branch metrics: the correlation of each step with each of the 8 output triples, step-major.
    branch = np.ascontiguousarray((steps @ _PATTERNS.T).transpose(1, 0, 2))
    # Butterflies: states h·32 + j (h = the input bit) both come from states 2j and 2j + 1, so the
    # predecessor metrics are a reshape of the current ones instead of a gather.
    half = _STATES // 2
    out_index = _OUT_INDEX.reshape(2, half, 2)
    metric = np.full((b, _STATES), -np.inf)
    metric[:, 0] = 0.0
    decisions = np.zeros((n_steps, b, _STATES), dtype=bool)
    for t in range(n_steps):
        cand = metric.reshape(b, 1, half, 2) + branch[t][:, out_index]  # (b, 2, half, 2)
        choice = cand[..., 1] > cand[..., 0]
        decisions[t] = choice.reshape(b, _STATES)
        metric = np.maximum(cand[..., 0], cand[..., 1]).reshape(b, _STATES)
    state = np.zeros(b, dtype=np.intp)
    rows = np.arange(b)
    bits = np.zeros((b, n_steps), dtype=np.uint8)
    for t in range(n_steps - 1, -1, -1):
        bits[:, t] = _INPUT[state]
        state = _PRED[state, decisions[t, rows, state].astype(np.intp)]
    out = bits[:, : n_steps - (CONSTRAINT - 1)]
    return out[0] if single else out


def codeword(key: WatermarkKey, payload: Payload) -> np.ndarray:
    """The 258 coded bits as ±1 symbols (+1 for bit 0), scrambled with the key."""
    coded = conv_encode(info_bits(key, payload))
    return (1.0 - 2.0 * (coded ^ scrambler(key)).astype(np.float32)).astype(np.float32)


def scrambler(key: WatermarkKey) -> np.ndarray:
    return key.rng("scramble").integers(0, 2, CODED_BITS, dtype=np.uint8)


@dataclass(frozen=True)
class Decoded:
    payload: Payload | None
    bits: np.ndarray  # the 48 decoded payload bits, whether or not the tag verified
    agreement: float  # fraction of coded symbols whose sign agrees with the re-encoded codeword


def decode(key: WatermarkKey, soft: np.ndarray) -> Decoded:
    """Decode soft coded symbols (+ means bit 0 before scrambling) and verify the keyed tag."""
    return decode_many(key, np.asarray(soft, dtype=np.float64)[None, :])[0]


def decode_many(key: WatermarkKey, soft: np.ndarray) -> list[Decoded]:
    """Decode a batch of candidate symbol vectors (B, CODED_BITS) in one vectorised Viterbi pass."""
    return decode_keys([(key, soft)])[0]


def decode_keys(batches: Sequence[tuple[WatermarkKey, np.ndarray]]) -> list[list[Decoded]]:
    """Decode candidates for several keys, ``[(key, soft (B_k, CODED_BITS)), ...]``, in one Viterbi pass.

    Only the descrambling and the tag check depend on the key; the trellis is
    the same for every key, so the rows of all keys share one decoder call
    (whose cost is mostly the per-step loop).  Each row is still checked
    against its own key's tag: a row is one decoding attempt of one key.
    """
    if not batches:
        return []
    descrambled = np.concatenate([
        np.asarray(soft, dtype=np.float64).reshape(-1, CODED_BITS) * (1 - 2 * scrambler(key).astype(np.float64))[None, :]
        for key, soft in batches
    ])
    all_bits = viterbi_decode(descrambled)
    # Re-encode with a float product (exact: at most 80 ones per column) rather than an int64 one, which is not BLAS.
    recoded = 1.0 - 2.0 * (np.rint(all_bits.astype(np.float64) @ _GENERATOR.astype(np.float64)) % 2)
    agreement = np.mean(np.sign(descrambled) == recoded, axis=1)
    packed = np.packbits(all_bits, axis=1)
    out: list[list[Decoded]] = []
    row = 0
    for key, soft in batches:
        decoded = []
        for _ in range(np.asarray(soft).reshape(-1, CODED_BITS).shape[0]):
            raw = packed[row].tobytes()
            payload = Payload.from_bytes(raw[: PAYLOAD_BITS // 8])
            ok = hmac.compare_digest(key.tag(payload), raw[PAYLOAD_BITS // 8 :])
            decoded.append(Decoded(payload if ok else None, all_bits[row, :PAYLOAD_BITS].copy(), float(agreement[row])))
            row += 1
        out.append(decoded)
    return out


def payload_bits(payload: Payload) -> np.ndarray:
    return _bytes_to_bits(payload.to_bytes())
