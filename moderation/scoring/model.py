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
        weight vector, so scoring costs nothing extra.
    """

    # Class-level defaults let models saved before a parameter existed load and print.
    nb_weight = 0.0
    nb_alpha = 0.01
    head_calibration = False

    def __init__(self, C: float = 10.0, class_weight=None, domains=(), default_domain=None, routes=(),
                 domain_scale: float = 1.0, nb_weight: float = 0.0, nb_alpha: float = 0.01, head_calibration: bool = False,
                 max_iter: int = 300):
        self.C = C
        self.class_weight = class_weight
        self.domains = domains
        self.default_domain = default_domain
        self.routes = routes
        self.domain_scale = domain_scale
        self.nb_weight = nb_weight
        self.nb_alpha = nb_alpha
        self.head_calibration = head_calibration
        self.max_iter = max_iter

    def _augment(self, X, domain) -> sp.csr_matrix:
        blocks = [X]
        for name in self.domains:
            blocks.append(sp.diags((domain == name) * self.domain_scale) @ X)
        return sp.hstack(blocks, format="csr")

    def fit(self, X, y, domain=None, sample_weight=None):
        """Fit on features X, labels y and each row's domain name."""
        X = sp.csr_matrix(X)
        domain = np.asarray(domain if domain is not None else [""] * X.shape[0])
        lr = LogisticRegression(C=self.C, class_weight=self.class_weight, solver="liblinear", max_iter=self.max_iter)
        lr.fit(self._augment(X, domain), y, sample_weight=sample_weight)
        n = X.shape[1]
        w = lr.coef_.ravel()

        def head(name):
            """Shared weights plus the named domain's correction."""
            if name is None or name not in self.domains:
                return w[:n]
            k = list(self.domains).index(name) + 1
            return w[:n] + self.domain_scale * w[k * n:(k + 1) * n]

        names = [self.default_domain] + [r[0] for r in self.routes]
        heads = np.vstack([head(name) for name in names])
        intercept = float(lr.intercept_[0])
        if self.nb_weight:
            nb = MultinomialNB(alpha=self.nb_alpha).fit(X, y, sample_weight=sample_weight)
            ratio = nb.feature_log_prob_[1] - nb.feature_log_prob_[0]
            lr_spread = max(float(np.std(X @ heads[0])), 1e-9)
            nb_spread = max(float(np.std(X @ ratio)), 1e-9)
            heads = heads / lr_spread + self.nb_weight * ratio / nb_spread
            intercept /= lr_spread
        # float32 halves the shipped file; scores move by far less than any threshold step.
        self.head_coef_ = heads.astype(np.float32)
        self.intercept_ = np.array([intercept])
        self.head_intercept_ = np.full(len(heads), intercept)
        self.coef_ = self.head_coef_[:1]
        self.classes_ = lr.classes_
        self.n_features_in_ = n
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
