"""A logistic regression that learns shared weights plus per-domain corrections.

The toxicity sources disagree about what "toxic" means: RUSSE detox marks any rude
sentence, the 2ch/Pikabu set marks insults in forum threads, the Kazakh set is another
language. Training one model on all of them blurs the forum notion the news sites need;
training on 2ch/Pikabu alone wastes the rest. "Frustratingly easy" domain adaptation
(Daumé III, 2007) gives every row a shared copy of its features and a copy in its own
domain's block; the shared weights learn what all sources agree on. At prediction time
each comment is routed to one head (shared + one domain's block), e.g. Kazakh text to the
Kazakh head and everything else to the forum head, so scoring stays one dot product.
"""

from __future__ import annotations

import numpy as np
import scipy.sparse as sp
from sklearn.base import BaseEstimator, ClassifierMixin
from sklearn.linear_model import LogisticRegression
from sklearn.naive_bayes import MultinomialNB


class DomainLogit(ClassifierMixin, BaseEstimator):
    """Binary logistic regression with shared + per-domain weights and routed heads.

    domains: domains that get their own block of weights (others use shared weights only).
    default_domain: the head for rows no route claims (None = shared weights only).
    routes: (domain, column, threshold) tuples; a row whose feature `column` exceeds
        `threshold` uses that domain's head. The first matching route wins.
    domain_scale: size of the domain copies; below 1 it regularises the per-domain
        corrections harder than the shared weights, so less is learnt as a domain quirk.
    head_calibration: when true, `calibrate_heads` fits a Platt map per head on held-out
        rows, so that one threshold means the same for Russian and English comments; a global
        map would put the rare Russian spam below the English spam it outnumbers on dev.
    nb_weight: adds multinomial naive Bayes log-count ratios to every head (each side scaled
        to unit spread on the train rows). NB generalises better from few examples of a class
        (about 1,000 Russian spam messages); the sum of two linear models is still one
        weight vector, so scoring costs nothing extra. A tuple gives each head its own weight
        (default head first, then the routes' heads).
    nblr_weight: blends in a second logistic regression fitted on features scaled by the
        absolute naive Bayes log-count ratio (NB-LR, Wang and Manning 2012), each side scaled to
        unit spread; its weights times the scale are again one weight vector per head.
    default_only_weight: blends into the default head a logistic regression fitted only on the
        rows of the default domain (e.g. forum comments without the detox sentences), scaled
        to unit spread like the other parts; the other heads are unchanged.
    separate_heads: when true, each head is its own model fitted only on the train rows routed
        to it (e.g. Russian spam learnt from Russian comments, English spam from English ones),
        instead of shared weights fitted on every row; scoring is unchanged (one weight row per head).
    """

    # Class-level defaults let models saved before a parameter existed load and print.
    nb_weight = 0.0
    nb_alpha = 0.01
    head_calibration = False
    separate_heads = False
    nblr_weight = 0.0
    nblr_alpha = 0.1
    default_only_weight = 0.0

    def __init__(
        self,
        C: float = 10.0,
        class_weight=None,
        domains=(),
        default_domain=None,
        routes=(),
        domain_scale: float = 1.0,
        nb_weight=0.0,
        nb_alpha: float = 0.01,
        head_calibration: bool = False,
        separate_heads: bool = False,
        nblr_weight: float = 0.0,
        nblr_alpha: float = 0.1,
        default_only_weight: float = 0.0,
        max_iter: int = 300,
    ):
        self.C = C
        self.class_weight = class_weight
        self.domains = domains
        self.default_domain = default_domain
        self.routes = routes
        self.domain_scale = domain_scale
        self.nb_weight = nb_weight
        self.nb_alpha = nb_alpha
        self.head_calibration = head_calibration
        self.separate_heads = separate_heads
        self.nblr_weight = nblr_weight
        self.nblr_alpha = nblr_alpha
        self.default_only_weight = default_only_weight
        self.max_iter = max_iter

    def _augment(self, X, domain) -> sp.csr_matrix:
        blocks = [X]
        for name in self.domains:
            blocks.append(sp.diags((domain == name) * self.domain_scale) @ X)
        return sp.hstack(blocks, format="csr")

    def _head_names(self) -> list:
        return [self.default_domain] + [r[0] for r in self.routes]

    def _nb_weights(self) -> np.ndarray:
        n_heads = len(self.routes) + 1
        if np.ndim(self.nb_weight) == 0:
            return np.full(n_heads, float(self.nb_weight))
        weights = np.asarray(self.nb_weight, dtype=np.float64)
        if len(weights) != n_heads:
            raise ValueError(f"nb_weight needs one value per head ({n_heads}), got {len(weights)}")
        return weights

    def _fit_heads(self, X, y, domain, sample_weight, names, nb_weights):
        """One logistic regression (+ naive Bayes) on these rows; one weight row per named head."""
        n = X.shape[1]

        def fit_lr(Xs):
            """Logistic regression on shared + domain copies; one weight row per named head."""
            lr = LogisticRegression(
                C=self.C, class_weight=self.class_weight, solver="liblinear", max_iter=self.max_iter
            )
            lr.fit(self._augment(Xs, domain), y, sample_weight=sample_weight)
            w = lr.coef_.ravel()

            def head(name):
                """Shared weights plus the named domain's correction."""
                if name is None or name not in self.domains:
                    return w[:n]
                k = list(self.domains).index(name) + 1
                return w[:n] + self.domain_scale * w[k * n : (k + 1) * n]

            return np.vstack([head(name) for name in names]), float(lr.intercept_[0]), lr.classes_

        heads, intercept, classes = fit_lr(X)
        if self.nblr_weight:
            nb = MultinomialNB(alpha=self.nblr_alpha).fit(X, y, sample_weight=sample_weight)
            scale = np.abs(nb.feature_log_prob_[1] - nb.feature_log_prob_[0])
            scale /= max(float(scale.mean()), 1e-12)
            heads2, intercept2, _ = fit_lr(X @ sp.diags(scale))
            heads2 = heads2 * scale  # weights on the scaled features, expressed on the plain ones
            spread = max(float(np.std(X @ heads[0])), 1e-9)
            spread2 = max(float(np.std(X @ heads2[0])), 1e-9)
            heads = heads / spread + self.nblr_weight * heads2 / spread2
            intercept = intercept / spread + self.nblr_weight * intercept2 / spread2
        intercepts = np.full(len(heads), intercept)
        own = np.flatnonzero(domain == names[0]) if self.default_only_weight and names[0] is not None else []
        if len(own) and len(np.unique(y[own])) == 2:
            lr = LogisticRegression(
                C=self.C, class_weight=self.class_weight, solver="liblinear", max_iter=self.max_iter
            )
            lr.fit(X[own], y[own], sample_weight=sample_weight[own])
            w_own = lr.coef_.ravel()
            # After an NB-LR blend each part already has unit spread; else scale the regression to it.
            unit = 1.0 if self.nblr_weight else max(float(np.std(X @ heads[0])), 1e-9)
            spread_own = max(float(np.std(X @ w_own)), 1e-9)
            heads, intercepts = heads / unit, intercepts / unit
            heads[0] = heads[0] + self.default_only_weight * w_own / spread_own
            intercepts[0] = intercepts[0] + self.default_only_weight * float(lr.intercept_[0]) / spread_own
        if np.any(nb_weights):
            nb = MultinomialNB(alpha=self.nb_alpha).fit(X, y, sample_weight=sample_weight)
            ratio = nb.feature_log_prob_[1] - nb.feature_log_prob_[0]
            lr_spread = max(float(np.std(X @ heads[0])), 1e-9)
            nb_spread = max(float(np.std(X @ ratio)), 1e-9)
            heads = heads / lr_spread + np.asarray(nb_weights)[:, None] * ratio / nb_spread
            intercepts = intercepts / lr_spread
        return heads, intercepts, classes

    def fit(self, X, y, domain=None, sample_weight=None):
        """Fit on features X, labels y and each row's domain name."""
        X = sp.csr_matrix(X)
        y = np.asarray(y)
        domain = np.asarray(domain if domain is not None else [""] * X.shape[0])
        sample_weight = np.ones(X.shape[0]) if sample_weight is None else np.asarray(sample_weight, dtype=np.float64)
        names, nb_weights = self._head_names(), self._nb_weights()
        if self.separate_heads:
            # Each head learns only from the rows it will score.
            routed = self.route(X)
            parts = []
            for k, name in enumerate(names):
                rows = np.flatnonzero(routed == k)
                if len(np.unique(y[rows])) < 2:
                    rows = np.arange(X.shape[0])  # too little of its own to learn from: use every row
                parts.append(
                    self._fit_heads(X[rows], y[rows], domain[rows], sample_weight[rows], [name], nb_weights[k : k + 1])
                )
            heads = np.vstack([p[0] for p in parts])
            intercepts = np.concatenate([p[1] for p in parts])
            classes = parts[0][2]
        else:
            heads, intercepts, classes = self._fit_heads(X, y, domain, sample_weight, names, nb_weights)
        # float32 halves the shipped file; scores move by far less than any threshold step.
        self.head_coef_ = heads.astype(np.float32)
        self.head_intercept_ = intercepts.astype(np.float64)
        self.intercept_ = self.head_intercept_[:1].copy()
        self.coef_ = self.head_coef_[:1]
        self.classes_ = classes
        self.n_features_in_ = X.shape[1]
        return self

    def shift_head(self, k: int, delta: float):
        """Add `delta` to head k's log-odds (a per-head decision threshold folded into its intercept)."""
        return self.rescale_head(k, 1.0, delta)

    def rescale_head(self, k: int, scale: float, shift: float):
        """Map head k's log-odds d to scale * d + shift (two per-head thresholds folded into its weights)."""
        if scale <= 0:
            raise ValueError("a head's log-odds can only be rescaled by a positive factor")
        self.head_intercept_ = self.intercepts().copy()
        self.head_intercept_[k] = scale * self.head_intercept_[k] + shift
        if scale != 1.0:
            coef = self.head_coef_.copy()
            coef[k] = (coef[k].astype(np.float64) * scale).astype(coef.dtype)
            self.head_coef_ = coef
            self.coef_ = self.head_coef_[:1]
        self.intercept_ = self.head_intercept_[:1].copy()
        return self

    def floor_columns(self, columns):
        """Raise every head's negative weights on these feature columns to 0: features that may add to a score
        and never take from it. Their rows' scores rise; every other row's stay as they were."""
        return self.constrain(columns)

    def zero_columns(self, columns):
        """Hold every head's weights on these feature columns at 0: features that say nothing of this task."""
        return self.constrain([], columns)

    def constrain(self, floor_columns, zero_columns=()):
        """The weight constraints a version keeps through training and a site's corrections: `floor_columns` may
        add to a score and never take from it, `zero_columns` weigh nothing."""
        coef = self.head_coef_.copy()
        floor, zero = list(floor_columns), list(zero_columns)
        coef[:, floor] = np.maximum(coef[:, floor], 0)
        coef[:, zero] = 0
        self.head_coef_ = coef
        self.coef_ = self.head_coef_[:1]
        return self

    def calibrate_heads(self, X, y, min_rows: int = 5):
        """Fit a Platt map per head on held-out rows and fold it into that head's weights."""
        X = sp.csr_matrix(X)
        y = np.asarray(y)
        heads = self.route(X)
        coef = self.head_coef_.astype(np.float64)
        for k in range(len(coef)):
            rows = np.flatnonzero(heads == k)
            # A head without enough of both classes keeps its raw log-odds.
            if min(int(y[rows].sum()), int((1 - y[rows]).sum())) < min_rows:
                continue
            d = (X[rows] @ coef[k] + self.head_intercept_[k]).reshape(-1, 1)
            platt = LogisticRegression(C=1e4).fit(d, y[rows])
            a, b = float(platt.coef_[0, 0]), float(platt.intercept_[0])
            coef[k] *= a
            self.head_intercept_[k] = a * self.head_intercept_[k] + b
        self.head_coef_ = coef.astype(np.float32)
        self.coef_ = self.head_coef_[:1]
        self.intercept_ = self.head_intercept_[:1].copy()
        return self

    def intercepts(self) -> np.ndarray:
        """Intercept of each head (models saved before per-head intercepts share one)."""
        if hasattr(self, "head_intercept_"):
            return np.asarray(self.head_intercept_, dtype=np.float64)
        return np.full(len(self.head_coef_), float(self.intercept_[0]))

    def route(self, X) -> np.ndarray:
        """Index of the head that scores each row (0 = default)."""
        X = sp.csr_matrix(X)
        heads = np.zeros(X.shape[0], dtype=np.int64)
        for k in range(len(self.routes), 0, -1):
            _, column, threshold = self.routes[k - 1]
            values = X[:, column].toarray().ravel()
            heads[values > threshold] = k
        return heads

    def decision_function(self, X) -> np.ndarray:
        """Log-odds of the positive class, each row scored by its routed head."""
        X = sp.csr_matrix(X)
        b = self.intercepts()
        d = (X @ self.head_coef_[0]).astype(np.float64) + b[0]
        if len(self.routes):
            heads = self.route(X)
            for k in np.unique(heads[heads > 0]):
                rows = np.flatnonzero(heads == k)
                d[rows] = X[rows] @ self.head_coef_[k] + b[k]
        return d

    def predict_proba(self, X) -> np.ndarray:
        """Uncalibrated probabilities (the shipped model calibrates them afterwards)."""
        p = 1.0 / (1.0 + np.exp(-self.decision_function(X)))
        return np.column_stack([1 - p, p])

    def predict(self, X) -> np.ndarray:
        """Class labels at log-odds zero."""
        return self.classes_[(self.decision_function(X) > 0).astype(int)]
