"""Scoring with the active model version: batched probabilities plus the spans that raised them."""

from __future__ import annotations

import logging
import math
import re
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from .features import FEATURE_VERSION, CommentFeaturizer, HashedBatch
from .heads import HEADS_FILE, HeadWeights, head_weights
from .normalise import _SPACED_RE, LINK_PATTERNS, PHONE_RE, Normalised, normalise
from .registry import ModelLoadError, active_version, load_version_files

log = logging.getLogger(__name__)

# Explanations cost a second pass over the words, so they are only computed for scores a
# moderator will look at.
EXPLAIN_MIN = 0.3
MAX_TERMS = 5
_SPAN_CACHE: dict[tuple[str, bool], Normalised] = {}
_SPAN_CACHE_MAX = 200_000
_SPAN_RE = re.compile(
    "|".join(f"(?:{r.pattern})" for r in (*LINK_PATTERNS, PHONE_RE, _SPACED_RE))
    + r"|[^\s.,;:!?()\[\]{}«»\"“”]+(?:[.\-_*][^\s.,;:!?()\[\]{}«»\"“”]+)*",
    re.IGNORECASE,
)


@dataclass
class Score:
    """Spam and toxicity probabilities of one comment, with the original words that raised each."""

    spam: float
    toxicity: float
    spam_terms: list[str] = field(default_factory=list)
    toxicity_terms: list[str] = field(default_factory=list)


class LinearHead:
    """A task's linear heads and calibration map, applied directly to hashed features.

    Going through `predict_proba` re-validates inputs and loops in Python; for one comment that
    overhead alone exceeds our latency budget, so the bundle applies the same maths itself, from
    the plain arrays of `heads.HeadWeights` (read from a version's weights file).
    """

    def __init__(self, weights: HeadWeights):
        self.coef = weights.coef  # one weight row per head
        self.intercepts = weights.intercepts
        self.routes = list(zip(weights.route_columns.tolist(), weights.route_thresholds.tolist()))
        self.sigmoid = None if weights.sigmoid is None else tuple(weights.sigmoid.tolist())  # (a, b)
        self.isotonic = weights.isotonic
        self.span_cache: dict[tuple[str, bool, int], float] = {}  # see explain_terms

    @classmethod
    def from_pipeline(cls, pipeline) -> LinearHead:
        """The head of a fitted pipeline that has no weights file yet (unsaved, or saved before the file existed)."""
        return cls(head_weights(pipeline))

    def calibrate(self, d: np.ndarray) -> np.ndarray:
        """Map log-odds to calibrated probabilities."""
        if self.sigmoid is not None:
            a, b = self.sigmoid
            return 1.0 / (1.0 + np.exp(a * d + b))
        # IsotonicRegression(out_of_bounds="clip") interpolates linearly and holds its end values outside.
        x, y = self.isotonic
        return np.clip(np.interp(d, x, y), 0.0, 1.0)

    def log_odds_at(self, p: float) -> float:
        """The uncalibrated log-odds that the (sigmoid) calibration maps to probability p."""
        if self.sigmoid is None:
            raise ValueError("only a sigmoid calibration can be inverted in closed form")
        a, b = self.sigmoid
        return (math.log(1 / p - 1) - b) / a

    def proba(self, batch: HashedBatch) -> np.ndarray:
        """Calibrated positive-class probabilities, each row scored by its routed head."""
        return self.calibrate(self.log_odds(batch)[0])

    def log_odds(self, batch: HashedBatch) -> tuple[np.ndarray, np.ndarray]:
        """(uncalibrated log-odds of each row under its routed head, the head of each row)."""
        heads, coef = self.heads_for(batch)
        return batch.dot_heads(coef, heads) + self.intercepts[heads], heads

    def heads_for(self, batch: HashedBatch) -> tuple[np.ndarray, np.ndarray]:
        """(head index of each row, weight matrix with one row per head), as DomainLogit routes."""
        heads = np.zeros(batch.n_rows, dtype=np.int64)
        for k in range(len(self.routes), 0, -1):
            column, threshold = self.routes[k - 1]
            heads[batch.column(column) > threshold] = k
        return heads, self.coef


@dataclass(frozen=True)
class LongCommentRule:
    """One insult must not be diluted by a long neutral text (manifest `long_comments`).

    The whole-comment features are l2-normalised, so in a long comment one insult's n-grams weigh little. For a
    comment of at least `min_words` normalised words (a link or a handle counts as one) scored by one of the heads
    `head_ids`, the weight of its strongest single span (what the span's own n-grams add to the log-odds, as
    explanations compute it) is a second opinion: its log-odds are `scale * weight + shift`, and the comment takes
    the larger of the two. So a long comment's score can rise below the threshold too, never fall.
    """

    min_words: int
    head_ids: tuple[int, ...]
    scale: float
    shift: float

    @classmethod
    def from_manifest(cls, manifest: dict) -> LongCommentRule | None:
        """The rule a version's manifest states, or None (versions before it have none)."""
        rule = manifest.get("long_comments")
        if not rule:
            return None
        return cls(int(rule["min_words"]), tuple(rule["heads"]), float(rule["scale"]), float(rule["shift"]))

    def rows_to_weigh(self, docs: list[Normalised], heads: np.ndarray) -> np.ndarray:
        """Indices of the rows the rule looks at, given each row's normalised text and head."""
        long_enough = np.fromiter((len(d.words) >= self.min_words for d in docs), dtype=bool, count=len(docs))
        return np.flatnonzero(long_enough & np.isin(heads, self.head_ids))

    def apply(
        self,
        d: np.ndarray,
        texts: list[str],
        docs: list[Normalised],
        featurizer: CommentFeaturizer,
        head: LinearHead,
        heads: np.ndarray,
    ) -> np.ndarray:
        """The log-odds `d` (each row under its head `heads[i]`) with each long comment's strongest span weighed."""
        rows = self.rows_to_weigh(docs, heads)
        if not len(rows):
            return d
        strongest = strongest_spans(
            [texts[i] for i in rows], featurizer, head, heads[rows], [docs[i].cyrillic_text for i in rows]
        )
        d = d.copy()
        d[rows] = np.maximum(d[rows], self.scale * strongest + self.shift)
        return d


def decide(spam: float, toxicity: float, thresholds: dict) -> str:
    """Map the two scores to 'spam', 'held' or 'approved' with thresholds spam, spam_hold, toxicity_hold."""
    if spam >= thresholds["spam"]:
        return "spam"
    if spam >= thresholds["spam_hold"] or toxicity >= thresholds["toxicity_hold"]:
        return "held"
    return "approved"


class ModelBundle:
    """The spam and toxicity models of one version, ready to score comments."""

    def __init__(self, version: str, models: dict, manifest: dict, heads: dict[str, HeadWeights] | None = None):
        self.version = version
        self.manifest = manifest
        self.thresholds = dict(manifest["thresholds"])
        self.pipelines = models
        # `heads` comes from the version's weights file; models not saved yet have none to read.
        self.heads = {
            name: LinearHead(heads[name]) if heads else LinearHead.from_pipeline(models[name])
            for name in ("spam", "toxicity")
        }
        self.featurizers = {name: models[name].steps[0][1] for name in ("spam", "toxicity")}
        for name, featurizer in self.featurizers.items():
            if getattr(featurizer, "feature_version_", None) != FEATURE_VERSION:
                raise ModelLoadError(
                    f"{version}/{name}: features of version {getattr(featurizer, 'feature_version_', None)}, "
                    f"this code computes version {FEATURE_VERSION}; retrain"
                )
        self.long_comments = LongCommentRule.from_manifest(manifest)
        a, b = self.featurizers["spam"], self.featurizers["toxicity"]
        # Both models are trained on one featurizer; when they are identical, featurize once.
        self.shared = a.get_params() == b.get_params() and np.array_equal(a.idf_, b.idf_)

    def decide(self, score: Score) -> str:
        """Return 'spam', 'held' or 'approved' by the manifest's thresholds."""
        return decide(score.spam, score.toxicity, self.thresholds)

    def score(
        self,
        texts: list[str],
        names: list[str] | None = None,
        explain: bool = True,
        docs: list[Normalised] | None = None,
    ) -> list[Score]:
        """Score a batch of comments; `names` is accepted for the service's sake but not used yet.

        `docs` are the texts' normalise() when the caller has them already.
        """
        texts = ["" if t is None else str(t) for t in texts]
        if not texts:
            return []
        docs = docs or [normalise(t) for t in texts]
        probs = {}
        batch = None
        for name in ("spam", "toxicity"):
            if batch is None or not self.shared:
                batch = self.featurizers[name].hashed(texts, docs)
            head = self.heads[name]
            d, heads = head.log_odds(batch)
            if name == "toxicity" and self.long_comments is not None:
                d = self.long_comments.apply(d, texts, docs, self.featurizers[name], head, heads)
            probs[name] = head.calibrate(d)
        scores = [Score(float(s), float(t)) for s, t in zip(probs["spam"], probs["toxicity"])]
        if explain:
            for name in ("spam", "toxicity"):
                rows = np.flatnonzero(probs[name] >= EXPLAIN_MIN)
                if len(rows):
                    if not self.shared:
                        batch = self.featurizers[name].hashed(texts, docs)
                    heads = self.heads[name].heads_for(batch)[0][rows]
                    terms = explain_terms(
                        [texts[i] for i in rows],
                        self.featurizers[name],
                        self.heads[name],
                        heads,
                        [docs[i].cyrillic_text for i in rows],
                    )
                    for i, found in zip(rows, terms):
                        setattr(scores[i], f"{name}_terms", found)
        return scores


def _normalise_span(span: str, cyrillic: bool) -> Normalised:
    # Spans are mostly ordinary words that recur across comments, so a bounded cache
    # makes explanations cheap.
    key = (span, cyrillic)
    doc = _SPAN_CACHE.get(key)
    if doc is None:
        if len(_SPAN_CACHE) > _SPAN_CACHE_MAX:
            _SPAN_CACHE.clear()
        doc = _SPAN_CACHE[key] = normalise(span, cyrillic_text=cyrillic)
    return doc


def span_contributions(
    texts: list[str], featurizer: CommentFeaturizer, head: LinearHead, heads: np.ndarray, cyrillic: list[bool]
) -> tuple[list[str], np.ndarray, np.ndarray]:
    """(every original span of the texts, the text each belongs to, what its own n-grams alone add to the log-odds
    under the head that scored that text). N-grams spanning two words are left out."""
    spans_of = [_SPAN_RE.findall(t) for t in texts]  # the pattern has no capturing groups
    words = [span for spans in spans_of for span in spans]
    owner = np.repeat(np.arange(len(texts)), [len(spans) for spans in spans_of])
    if not words:
        return words, owner, np.zeros(0)
    # A span's contribution depends only on its text, the script guess and the head, and
    # ordinary words recur in almost every comment: each head keeps a bounded cache of them.
    cache = head.span_cache
    keys = list(zip(words, [cyrillic[i] for i in owner.tolist()], heads[owner].tolist()))
    contribution = np.array([cache.get(key, np.nan) for key in keys])
    missing = np.flatnonzero(np.isnan(contribution))
    if len(missing):
        if len(cache) > _SPAN_CACHE_MAX:
            cache.clear()
        flat = [_normalise_span(keys[k][0], keys[k][1]) for k in missing.tolist()]
        rows, cols, counts = featurizer.counts(flat)
        span_head = heads[owner[missing]]
        weights = np.log1p(counts) * featurizer.idf_[cols] * head.coef[span_head[rows], cols]
        contribution[missing] = np.bincount(rows, weights, minlength=len(flat))
        for k, c in zip(missing.tolist(), contribution[missing].tolist()):
            cache[keys[k]] = c
    return words, owner, contribution


def strongest_spans(
    texts: list[str], featurizer: CommentFeaturizer, head: LinearHead, heads: np.ndarray, cyrillic: list[bool]
) -> np.ndarray:
    """The largest span contribution of each text (0 when none adds anything)."""
    _, owner, contribution = span_contributions(texts, featurizer, head, heads, cyrillic)
    strongest = np.zeros(len(texts))
    np.maximum.at(strongest, owner, contribution)
    return strongest


def explain_terms(
    texts: list[str],
    featurizer: CommentFeaturizer,
    head: LinearHead,
    heads: np.ndarray | None = None,
    cyrillic: list[bool] | None = None,
) -> list[list[str]]:
    """Return, per text, the original spans whose own n-grams weigh most toward the positive class.

    A span's weight is what its n-grams alone add to the log-odds under the head that scored
    the comment; n-grams spanning two words are left out, which is fine for highlighting.
    """
    if heads is None or cyrillic is None:
        docs = [normalise(t) for t in texts]
        heads = head.heads_for(featurizer.hashed(texts, docs))[0]
        cyrillic = [d.cyrillic_text for d in docs]
    words, owner, contribution = span_contributions(texts, featurizer, head, heads, cyrillic)
    out: list[list[tuple[float, str]]] = [[] for _ in texts]
    positive = np.flatnonzero(contribution > 0)  # only these can be named; skip the rest in numpy
    for k, i, c in zip(positive.tolist(), owner[positive].tolist(), contribution[positive].tolist()):
        out[i].append((c, words[k]))
    result = []
    for found in out:
        if not found:
            result.append([])
            continue
        top = max(c for c, _ in found)
        best = sorted(found, key=lambda cs: -cs[0])[:MAX_TERMS]
        result.append(list(dict.fromkeys(s for c, s in best if c >= 0.25 * top)))
    return result


def load_version(models_dir: Path, version: str) -> ModelBundle:
    """Load a given version (checksums and manifest verified)."""
    models, heads, manifest = load_version_files(Path(models_dir), version)
    if heads is None:
        # Kept loadable so that a rollback to it still works; the weights come out of the sklearn objects.
        log.warning(
            "model version %s was saved without %s: its head weights are read from its models "
            "(registry.add_heads_file adds the file)",
            version,
            HEADS_FILE,
        )
    try:
        return ModelBundle(version, models, manifest, heads)
    except (KeyError, AttributeError, IndexError, TypeError, ValueError) as exc:
        # The files matched their checksums but are not models this code can score with.
        raise ModelLoadError(f"model version {version} has an unexpected structure: {exc!r}") from exc


def load_active(models_dir: Path) -> ModelBundle:
    """Load the version named by `models_dir/ACTIVE`; raises ModelLoadError when it cannot."""
    return load_version(models_dir, active_version(Path(models_dir)))
