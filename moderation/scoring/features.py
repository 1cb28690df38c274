"""Hashed features of a comment: char n-grams, stemmed word n-grams and moderator signals.

Char n-grams are hashed with numpy over a whole batch at once (no Python loop per n-gram),
which is what makes batched scoring fast. Only weights and IDF values indexed by hash
bucket are ever stored, so a fitted featurizer holds no corpus text.
"""

from __future__ import annotations

import threading
import zlib
from dataclasses import dataclass, replace

import numpy as np
import scipy.sparse as sp
import snowballstemmer
from sklearn.base import BaseEstimator, TransformerMixin

from .normalise import (
    EMAIL_TOKEN,
    HANDLE_TOKEN,
    KAZAKH_LETTER_RE,
    PHONE_TOKEN,
    URL_TOKEN,
    Normalised,
    domain_of,
    fold_kazakh,
    normalise,
)
from .signals import (  # noqa: F401 (re-exported)
    KAZAKH_ROUTE,
    NON_NEGATIVE_SIGNALS,
    SIGNAL_NAMES,
    TOXICITY_IGNORED_SIGNALS,
    is_kazakh,
    signal_matrix,
)

# Bump whenever hashing, normalisation or signals change meaning: a model fitted under another
# value would load fine but score garbage, so loading refuses it. An option that changes what a featurizer computes
# (letters_without_links) is kept on the featurizer instead, so that one saved before it computes as it did; code
# older than an option would ignore it, which is safe as long as models ship with the code they were trained on.
# Reading an e-mail address as an address, not as a link plus a word (2026-12-05), changed normalisation without a
# bump: 21 of the 76,585 labelled texts and none of the unlabelled news comments hold one, and every version has an
# address signal and placeholder of its own to read them with.
FEATURE_VERSION = 6
_GOLDEN = np.uint64(0x9E3779B97F4A7C15)
_PRIME = np.uint64(1000003)
_STEMMERS = {"ru": snowballstemmer.stemmer("russian"), "en": snowballstemmer.stemmer("english")}
# Word -> hash of its stem. Comments reuse a small vocabulary, so the cache makes the
# Snowball stemmer (pure Python) nearly free; it is bounded for long-running workers.
_STEM_CACHE: dict[str, int] = {}
_STEM_CACHE_MAX = 300_000
_STEMMER_LOCK = threading.Lock()


# Kazakh-only letters are folded to what readers type for them on a Russian keyboard (normalise.fold_kazakh):
# «оңбағандар» and «онбагандар», «арамтамақтар» and «арамтамактар» are one word. 22% of the native Kazakh YouTube
# comments (kk_youtube_news, 514 of 2,378) have no Kazakh-only letter at all. Folded for the n-grams only (featurizer
# option fold_kazakh_letters); the share of Kazakh letters that routes a comment to the Kazakh head is counted in the
# text as written.
_FOLDED: dict[str, str] = {}  # word -> its folded spelling: str.translate is slow on Cyrillic, words recur


def _folded_word(word: str) -> str:
    folded = _FOLDED.get(word)
    if folded is None:
        if len(_FOLDED) > _STEM_CACHE_MAX:
            _FOLDED.clear()
        folded = _FOLDED[word] = fold_kazakh(word)
    return folded


def fold_kazakh_letters(texts: list[str], docs: list[Normalised]) -> tuple[list[str], list[Normalised]]:
    """The docs' joined words `texts` and the docs, with the Kazakh-only letters written as on a Russian keyboard (ң as
    н, қ as к, ...) in those that have any."""
    kazakh = [i for i, text in enumerate(texts) if KAZAKH_LETTER_RE.search(text)]
    if not kazakh:
        return texts, docs
    texts, docs = list(texts), list(docs)
    for i in kazakh:
        words = [_folded_word(w) for w in docs[i].words]
        texts[i] = " ".join(words)
        docs[i] = replace(docs[i], words=words)
    return texts, docs


def _stem_hash(word: str) -> int:
    h = _STEM_CACHE.get(word)
    if h is None:
        if len(_STEM_CACHE) > _STEM_CACHE_MAX:
            _STEM_CACHE.clear()
        first = word[0]
        lang = "ru" if "а" <= first <= "я" else "en" if "a" <= first <= "z" else None
        if lang and len(word) > 3:
            with _STEMMER_LOCK:  # Snowball stemmers keep per-call state on the instance
                stem = _STEMMERS[lang].stemWord(word)
        else:
            stem = word
        h = zlib.crc32(stem.encode("utf-8"))
        _STEM_CACHE[word] = h
    return h


def _bucket(hashes: np.ndarray, salt: int, n_bits: int) -> np.ndarray:
    """Map 64-bit hashes to feature indices; the salt keeps feature families apart."""
    mixed = (hashes ^ np.uint64(salt)) * _GOLDEN
    return (mixed >> np.uint64(64 - n_bits)).astype(np.int64)


def char_ngram_indices(texts: list[str], ngram_range: tuple[int, int], n_bits: int):
    """Return (row, col) arrays of hashed char n-grams (lengths 2 and up), words space-padded as in char_wb."""
    padded = [" " + t + " " for t in texts]
    lengths = np.fromiter((len(t) for t in padded), dtype=np.int64, count=len(padded))
    codes = np.frombuffer("".join(padded).encode("utf-32-le"), dtype=np.uint32).astype(np.uint64)
    row_of = np.repeat(np.arange(len(padded)), lengths)
    is_space = codes == 32
    spaces_upto = np.cumsum(is_space)
    total = len(codes)
    rows, cols = [], []
    h = codes
    lo, hi = ngram_range
    with np.errstate(over="ignore"):
        for n in range(2, hi + 1):
            if total < n:
                break
            # h[i] becomes the polynomial hash of codes[i:i+n]; uint64 overflow is the modulus.
            h = h[: total - n + 1] * _PRIME + codes[n - 1 :]
            if n < lo:
                continue
            if n == 2:
                # Every text is padded with spaces, so a window crossing two texts is "  ".
                ok = ~(is_space[:-1] & is_space[1:])
            else:
                # No space strictly inside the window; this also rules out crossing two texts.
                ok = spaces_upto[n - 2 : total - 1] == spaces_upto[: total - n + 1]
            starts = np.flatnonzero(ok)
            rows.append(row_of[starts])
            cols.append(_bucket(h[starts], n, n_bits))
    if not rows:
        return np.zeros(0, np.int64), np.zeros(0, np.int64)
    return np.concatenate(rows), np.concatenate(cols)


def word_ngram_indices(docs: list[Normalised], n_bits: int):
    """Return (row, col) arrays of hashed stemmed word unigrams and bigrams plus link domains."""
    cache = _STEM_CACHE
    words = [w for d in docs for w in d.words]
    hashes = np.array([cache.get(w) or _stem_hash(w) for w in words], dtype=np.uint64)
    rows = np.repeat(np.arange(len(docs)), [len(d.words) for d in docs])
    same = rows[:-1] == rows[1:]
    with np.errstate(over="ignore"):
        bigrams = (hashes[:-1][same] * np.uint64(1000003) + hashes[1:][same] + np.uint64(1)) | np.uint64(1 << 40)
    extra_rows, extra = [], []
    for i, doc in enumerate(docs):
        for url in doc.urls:
            extra_rows.append(i)
            extra.append(zlib.crc32(b"dom:" + domain_of(url).encode("utf-8")) + (2 << 40))
    all_hashes = np.concatenate((hashes, bigrams, np.array(extra, dtype=np.uint64)))
    all_rows = np.concatenate((rows, rows[:-1][same], np.array(extra_rows, dtype=np.int64)))
    return all_rows.astype(np.int64), _bucket(all_hashes, 101, n_bits)


def unique_pairs(rows: np.ndarray, cols: np.ndarray, n_bits: int):
    """Collapse repeated (row, col) pairs into counts, sorted by row then column (CSR order)."""
    keys = (rows << n_bits) | cols
    # Stable (timsort) exploits the runs the n-gram passes leave: about twice as fast as quicksort here.
    keys.sort(kind="stable")
    if len(keys) == 0:
        return rows, cols, np.zeros(0)
    first = np.empty(len(keys), dtype=bool)
    first[0] = True
    np.not_equal(keys[1:], keys[:-1], out=first[1:])
    starts = np.flatnonzero(first)
    counts = np.diff(np.append(starts, len(keys))).astype(np.float64)
    keys = keys[starts]
    return keys >> n_bits, keys & ((1 << n_bits) - 1), counts


@dataclass
class HashedBatch:
    """Final feature values of a batch in coordinate form: the fast scorer's input.

    rows/cols/vals are the weighted n-gram entries in CSR order; signals is dense (n_rows x k).
    """

    rows: np.ndarray
    cols: np.ndarray
    vals: np.ndarray
    signals: np.ndarray
    n_bits: int

    @property
    def n_rows(self) -> int:
        """Number of comments in the batch."""
        return self.signals.shape[0]

    def dot(self, coef: np.ndarray) -> np.ndarray:
        """Row-wise dot product with a weight vector of the full feature width."""
        ngram = np.bincount(self.rows, self.vals * coef[self.cols], minlength=self.n_rows)
        return ngram + self.signals @ coef[1 << self.n_bits :]

    def dot_heads(self, coef: np.ndarray, heads: np.ndarray) -> np.ndarray:
        """Row-wise dot product, each row with its own row of `coef` (one gather, not one pass per head)."""
        if coef.shape[0] == 1 or not heads.any():
            return self.dot(coef[0])
        flat = heads[self.rows] * coef.shape[1] + self.cols
        ngram = np.bincount(self.rows, self.vals * coef.ravel().take(flat), minlength=self.n_rows)
        return ngram + np.einsum("ij,ij->i", self.signals, coef[heads, 1 << self.n_bits :])

    def column(self, index: int) -> np.ndarray:
        """Dense values of one feature column."""
        if index >= 1 << self.n_bits:
            return self.signals[:, index - (1 << self.n_bits)]
        out = np.zeros(self.n_rows)
        hit = self.cols == index
        out[self.rows[hit]] = self.vals[hit]
        return out

    def to_csr(self) -> sp.csr_matrix:
        """The same features as a scipy CSR matrix (for sklearn)."""
        indptr = np.concatenate(([0], np.cumsum(np.bincount(self.rows, minlength=self.n_rows))))
        ngrams = sp.csr_matrix((self.vals, self.cols, indptr), shape=(self.n_rows, 1 << self.n_bits))
        return sp.hstack([ngrams, sp.csr_matrix(self.signals)], format="csr")


class CommentFeaturizer(TransformerMixin, BaseEstimator):
    """Hashed char + stemmed-word n-grams with sublinear TF-IDF, then moderator signals."""

    def __init__(
        self,
        n_bits: int = 19,
        char_ngrams: tuple[int, int] = (2, 5),
        signal_weight: float = 1.0,
        letters_without_links: bool = True,
        fold_kazakh_letters: bool = True,
    ):
        self.n_bits = n_bits
        self.char_ngrams = char_ngrams
        self.signal_weight = signal_weight
        self.letters_without_links = letters_without_links
        self.fold_kazakh_letters = fold_kazakh_letters

    def __setstate__(self, state):
        # A featurizer saved before an option existed computes as it did then: with the option off.
        super().__setstate__({"letters_without_links": False, "fold_kazakh_letters": False, **state})

    def signal_column(self, name: str) -> int:
        """Column index of a named moderator signal in the feature matrix."""
        return (1 << self.n_bits) + SIGNAL_NAMES.index(name)

    def non_negative_columns(self) -> list[int]:
        """The columns of the signals whose weights may raise a score and never lower it (NON_NEGATIVE_SIGNALS)."""
        return [self.signal_column(name) for name in NON_NEGATIVE_SIGNALS]

    def ignored_columns(self, signals) -> list[int]:
        """The columns of these signals (signals.TOXICITY_IGNORED_SIGNALS: what the toxicity model ignores) and the
        n-grams of the link, e-mail, handle and phone placeholders alone, which it holds at 0 with them."""
        _, placeholders, _ = self.counts(
            [Normalised([token]) for token in (URL_TOKEN, EMAIL_TOKEN, HANDLE_TOKEN, PHONE_TOKEN)]
        )
        return sorted(set(placeholders.tolist())) + [self.signal_column(name) for name in signals]

    @property
    def n_features(self) -> int:
        """Total width of the feature matrix."""
        return (1 << self.n_bits) + len(SIGNAL_NAMES)

    def counts(self, docs: list[Normalised]):
        """Return raw hashed n-gram counts as (rows, cols, counts) in CSR order."""
        texts = [" ".join(d.words) for d in docs]
        if self.fold_kazakh_letters:
            texts, docs = fold_kazakh_letters(texts, docs)
        r1, c1 = char_ngram_indices(texts, tuple(self.char_ngrams), self.n_bits)
        r2, c2 = word_ngram_indices(docs, self.n_bits)
        return unique_pairs(np.concatenate((r1, r2)), np.concatenate((c1, c2)), self.n_bits)

    def fit(self, texts, y=None):
        """Learn IDF weights per hash bucket."""
        texts = list(texts)
        _, cols, _ = self.counts([normalise(t) for t in texts])
        df = np.bincount(cols, minlength=1 << self.n_bits)
        self.idf_ = (np.log((1 + len(texts)) / (1 + df)) + 1).astype(np.float32)
        self.feature_version_ = FEATURE_VERSION
        return self

    def hashed(self, texts: list[str], docs: list[Normalised] | None = None) -> HashedBatch:
        """Return the batch's features in coordinate form (sublinear TF-IDF, l2-normalised, + signals)."""
        texts = list(texts)
        docs = docs if docs is not None else [normalise(t) for t in texts]
        rows, cols, counts = self.counts(docs)
        vals = np.log1p(counts) * self.idf_[cols]
        norms = np.sqrt(np.bincount(rows, vals * vals, minlength=len(texts)))
        vals /= np.maximum(norms, 1e-12)[rows]
        signals = signal_matrix(texts, docs, self.letters_without_links)
        return HashedBatch(rows, cols, vals, signals * self.signal_weight, self.n_bits)

    def transform(self, texts, docs: list[Normalised] | None = None) -> sp.csr_matrix:
        """Return the feature matrix of a batch of comments."""
        return self.hashed(texts, docs).to_csr()
