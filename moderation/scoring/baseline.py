"""The plain reference model the issue compares against: TF-IDF word 1-2 + char 2-5 + LogisticRegression."""

from __future__ import annotations

from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import FeatureUnion, Pipeline


def make_baseline(C: float = 4.0) -> Pipeline:
    """Return the unfitted baseline pipeline (vocabulary-based, so never shipped: it stores corpus words)."""
    features = FeatureUnion(
        [
            (
                "word",
                TfidfVectorizer(analyzer="word", ngram_range=(1, 2), min_df=2, sublinear_tf=True, max_features=300_000),
            ),
            (
                "char",
                TfidfVectorizer(analyzer="char", ngram_range=(2, 5), min_df=2, sublinear_tf=True, max_features=300_000),
            ),
        ]
    )
    return Pipeline([("features", features), ("classifier", LogisticRegression(C=C, solver="liblinear", max_iter=300))])
