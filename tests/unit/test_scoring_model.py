"""DomainLogit: shared + per-domain weights, routed heads, and the bundle's fast path."""
import numpy as np
from sklearn.pipeline import Pipeline

from moderation.scoring.data import Example
from moderation.scoring.features import CommentFeaturizer
from moderation.scoring.model import DomainLogit
from moderation.scoring.predict import LinearHead
from moderation.scoring.train import fit_model

RU = [("ты тупой дебил", 1), ("заткнись идиот", 1), ("хорошая статья", 0), ("спасибо автору", 0)] * 5
KK = [("сен ақымақсың", 1), ("жаман адамсың", 1), ("рахмет әке", 0), ("жақсы мақала екен", 0)] * 5


def rows():
    return [Example(t, y, "forum", "ru") for t, y in RU] + [Example(t, y, "kazakh", "kk") for t, y in KK]


def test_heads_are_shared_plus_domain_block():
    featurizer = CommentFeaturizer(n_bits=12).fit([t for t, _ in RU + KK])
    X = featurizer.transform([ex.text for ex in rows()])
    y = np.array([ex.label for ex in rows()])
    domain = np.array([ex.source for ex in rows()])
    column = featurizer.signal_column("kazakh_share")
    model = DomainLogit(C=5.0, domains=("forum", "kazakh"), default_domain="forum",
                        routes=(("kazakh", column, 0.1),)).fit(X, y, domain=domain)
    assert model.head_coef_.shape == (2, featurizer.n_features)
    assert list(model.route(X)) == [0] * len(RU) + [1] * len(KK)
    assert (model.predict(X) == y).mean() == 1.0


def test_fast_path_matches_sklearn_with_routes():
    featurizer = CommentFeaturizer(n_bits=12).fit([t for t, _ in RU + KK])
    settings = {"C": 5.0, "class_weight": None, "domains": ("forum", "kazakh"), "default_domain": "forum",
                "routes": (("kazakh", "kazakh_share", 0.1),), "domain_scale": 0.5}
    pipeline = fit_model(featurizer, rows(), rows(), settings)
    assert isinstance(pipeline, Pipeline)
    texts = ["ты дебил", "сен ақымақсың", "рахмет", "", "спасибо"]
    fast = LinearHead(pipeline).proba(featurizer.hashed(texts))
    assert np.allclose(fast, pipeline.predict_proba(texts)[:, 1])


def test_naive_bayes_blend_stays_one_linear_model():
    featurizer = CommentFeaturizer(n_bits=12).fit([t for t, _ in RU])
    X = featurizer.transform([t for t, _ in RU])
    y = np.array([label for _, label in RU])
    model = DomainLogit(C=5.0, nb_weight=1.0).fit(X, y)
    assert model.head_coef_.shape == (1, featurizer.n_features)
    assert (model.predict(X) == y).mean() == 1.0


def test_head_calibration_fits_each_head_and_fast_path_agrees():
    featurizer = CommentFeaturizer(n_bits=12).fit([t for t, _ in RU + KK])
    settings = {"C": 5.0, "class_weight": None, "domains": ("forum", "kazakh"), "default_domain": "forum",
                "routes": (("kazakh", "kazakh_share", 0.1),), "domain_scale": 0.5, "head_calibration": True}
    pipeline = fit_model(featurizer, rows(), rows(), settings)
    model = pipeline.steps[-1][1].calibrated_classifiers_[0].estimator.estimator
    assert len(set(model.intercepts())) == 2  # each head got its own Platt intercept
    texts = ["ты дебил", "сен ақымақсың", "рахмет", "спасибо"]
    fast = LinearHead(pipeline).proba(featurizer.hashed(texts))
    assert np.allclose(fast, pipeline.predict_proba(texts)[:, 1])
    assert fast[0] > fast[3] and fast[1] > fast[2]
