"""Near-duplicate detection for campaigns: the same message posted with a few words changed.

A MinHash signature of the normalised text's words and word pairs estimates how much two texts
share (Jaccard similarity) from 32 numbers, whatever names, case or look-alike letters differ.
"""

from __future__ import annotations

import hashlib
import math

import numpy as np

from .normalise import Normalised, normalise

PERMUTATIONS = 32
MIN_WORDS = 6  # shorter texts («Спасибо!», «Согласен») repeat innocently; never fingerprint them
SIMILAR = 0.4  # estimated Jaccard similarity from which two texts count as one message
# Two signatures are SIMILAR when they agree in at least this many of their positions.
MIN_SHARED = math.ceil(SIMILAR * PERMUTATIONS - 1e-9)
_PRIME = (1 << 61) - 1
_MAX = (1 << 32) - 1
# Fixed "random" permutations, so signatures stay comparable across processes and releases.
_COEFFS = [
    (
        int.from_bytes(hashlib.blake2b(f"a{i}".encode(), digest_size=8).digest(), "big") % _PRIME | 1,
        int.from_bytes(hashlib.blake2b(f"b{i}".encode(), digest_size=8).digest(), "big") % _PRIME,
    )
    for i in range(PERMUTATIONS)
]


def shingles(words: list[str]) -> set[str]:
    """Words and word pairs: changing one word changes few of them."""
    return set(words) | {f"{a} {b}" for a, b in zip(words, words[1:])}


def signature(text: str, normalised: Normalised | None = None) -> str | None:
    """The text's MinHash signature as 32 hex words (256 characters), or None when too short to judge.

    `normalised` is the text's normalise() when the caller has it already.
    """
    words = [w for w in (normalised or normalise(text)).words if len(w) > 1]
    if len(words) < MIN_WORDS:
        return None
    hashes = [int.from_bytes(hashlib.blake2b(s.encode(), digest_size=8).digest(), "big") for s in shingles(words)]
    mins = (_permuted(np.array(hashes, dtype=np.uint64)) & np.uint64(_MAX)).min(axis=1)
    return "".join(f"{m:08x}" for m in mins)


# The permutations h -> (a * h + b) mod (2**61 - 1), for all hashes at once in 64-bit integers: each product is
# taken in 31-bit halves, and a multiple of 2**61 is 1 modulo the prime. The same numbers as Python's integers
# compute (tests/unit/test_fingerprint.py compares them), which stored fingerprints are compared with.
_U = np.uint64
_A = np.array([a for a, _b in _COEFFS], dtype=_U)[:, None]
_B = np.array([b for _a, b in _COEFFS], dtype=_U)[:, None]
_A_HIGH, _A_LOW = _A >> _U(31), _A & _U((1 << 31) - 1)


def _mod_prime(values):
    """values (below 2**64) modulo 2**61 - 1."""
    prime = _U(_PRIME)
    values = (values & prime) + (values >> _U(61))
    values = (values & prime) + (values >> _U(61))
    return np.where(values >= prime, values - prime, values)


def _permuted(hashes):
    """(a * h + b) mod (2**61 - 1) for every permutation (rows) and hash (columns)."""
    x = _mod_prime(hashes)[None, :]
    x_high, x_low = x >> _U(31), x & _U((1 << 31) - 1)
    middle = _A_HIGH * x_low + _A_LOW * x_high  # below 2**62; times 2**31 below
    total = (
        _A_HIGH * x_high * _U(2)  # times 2**62, which is 2 modulo the prime
        + (middle >> _U(30))  # the part of middle * 2**31 that is a multiple of 2**61
        + ((middle & _U((1 << 30) - 1)) << _U(31))
        + _A_LOW * x_low
        + _B
    )  # below 2**64
    return _mod_prime(total)


def similarity(a: str | None, b: str | None) -> float:
    """Estimated Jaccard similarity of two signatures' texts (0 when either is missing)."""
    if not a or not b or len(a) != len(b):
        return 0.0
    same = sum(a[i : i + 8] == b[i : i + 8] for i in range(0, len(a), 8))
    return same / (len(a) // 8)


def slots(signature_: str | None) -> list[int]:
    """The signature's positions as numbers unique to (position, value): two signatures share as many slots as
    they agree in positions, so an index of slots finds the SIMILAR ones without reading every signature."""
    if not signature_ or len(signature_) != PERMUTATIONS * 8:
        return []
    return [(i << 32) | int(signature_[i * 8 : i * 8 + 8], 16) for i in range(PERMUTATIONS)]


BAND = 2  # positions per band: a band is shared when both its positions agree
BANDS = PERMUTATIONS // BAND


def bands(signature_: str | None) -> list[int]:
    """The signature's bands (pairs of positions) as numbers unique to (band, values), for the campaign index.

    A SIMILAR signature almost always shares a band: one that agrees in 13 of the 32 positions misses all 16
    bands about once in 75 (the agreeing positions all in different bands), one agreeing in 16 once in 9,000.
    A band is shared far more rarely than a position by texts that only have common words in common, so the
    index reads a few rows for each comment where positions would cost hundreds; the candidates are then compared
    by their signatures (`similarities`).
    """
    if not signature_ or len(signature_) != PERMUTATIONS * 8:
        return []
    width = BAND * 8
    # The pair's 64 bits cut to 56 beside the band's number: a clash only makes a candidate the comparison drops.
    return [(i << 56) | (int(signature_[i * width : (i + 1) * width], 16) & ((1 << 56) - 1)) for i in range(BANDS)]


def similarities(signature_: str, others: list[str]) -> np.ndarray:
    """similarity() of one signature against many at once (a worker compares each comment with thousands)."""
    if not signature_ or not others:
        return np.zeros(len(others))
    width = len(signature_)
    usable = [o if o and len(o) == width else "0" * width for o in others]
    matrix = np.frombuffer(bytes.fromhex("".join(usable)), dtype=">u4").reshape(len(usable), -1)
    mine = np.frombuffer(bytes.fromhex(signature_), dtype=">u4")
    scores = (matrix == mine).mean(axis=1)
    scores[[i for i, o in enumerate(others) if not o or len(o) != width]] = 0.0
    return scores
