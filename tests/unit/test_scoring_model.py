"""DomainLogit: shared + per-domain weights, routed heads, and the bundle's fast path."""

import numpy as np
import pytest
from sklearn.pipeline import Pipeline

from moderation.scoring.data import Example
from moderation.scoring.features import CommentFeaturizer
from moderation.scoring.model import DomainLogit
from moderation.scoring.predict import LinearHead
from moderation.scoring.signals import TOXICITY_IGNORED_SIGNALS
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
    model = DomainLogit(
        C=5.0, domains=("forum", "kazakh"), default_domain="forum", routes=(("kazakh", column, 0.1),)
    ).fit(X, y, domain=domain)
    assert model.head_coef_.shape == (2, featurizer.n_features)
    assert list(model.route(X)) == [0] * len(RU) + [1] * len(KK)
    assert (model.predict(X) == y).mean() == 1.0


def test_fast_path_matches_sklearn_with_routes():
    featurizer = CommentFeaturizer(n_bits=12).fit([t for t, _ in RU + KK])
    settings = {
        "C": 5.0,
        "class_weight": None,
        "domains": ("forum", "kazakh"),
        "default_domain": "forum",
        "routes": (("kazakh", "kazakh_share", 0.1),),
        "domain_scale": 0.5,
    }
    pipeline = fit_model(featurizer, rows(), rows(), settings)
    assert isinstance(pipeline, Pipeline)
    texts = ["ты дебил", "сен ақымақсың", "рахмет", "", "спасибо"]
    fast = LinearHead.from_pipeline(pipeline).proba(featurizer.hashed(texts))
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
    settings = {
        "C": 5.0,
        "class_weight": None,
        "domains": ("forum", "kazakh"),
        "default_domain": "forum",
        "routes": (("kazakh", "kazakh_share", 0.1),),
        "domain_scale": 0.5,
        "head_calibration": True,
    }
    pipeline = fit_model(featurizer, rows(), rows(), settings)
    model = pipeline.steps[-1][1].calibrated_classifiers_[0].estimator.estimator
    assert len(set(model.intercepts())) == 2  # each head got its own Platt intercept
    texts = ["ты дебил", "сен ақымақсың", "рахмет", "спасибо"]
    fast = LinearHead.from_pipeline(pipeline).proba(featurizer.hashed(texts))
    assert np.allclose(fast, pipeline.predict_proba(texts)[:, 1])
    assert fast[0] > fast[3] and fast[1] > fast[2]


def test_separate_heads_learn_only_from_their_rows():
    featurizer = CommentFeaturizer(n_bits=12).fit([t for t, _ in RU + KK])
    X = featurizer.transform([ex.text for ex in rows()])
    y = np.array([ex.label for ex in rows()])
    column = featurizer.signal_column("kazakh_share")
    model = DomainLogit(C=5.0, routes=(("kazakh", column, 0.1),), separate_heads=True).fit(X, y)
    assert model.head_coef_.shape == (2, featurizer.n_features)
    assert len(set(model.intercepts())) == 2  # one model per head
    assert (model.predict(X) == y).mean() == 1.0
    # The Russian head never saw a Kazakh word: a Kazakh-only n-gram has no Russian weight.
    kazakh_only = featurizer.transform(["ақымақсың"]).nonzero()[1]
    russian = featurizer.transform(["ты тупой дебил заткнись идиот хорошая статья спасибо автору"]).nonzero()[1]
    unseen = np.setdiff1d(kazakh_only, russian)
    unseen = unseen[unseen < 1 << 12]
    assert len(unseen) and np.allclose(model.head_coef_[0, unseen], 0.0)
    assert not np.allclose(model.head_coef_[1, unseen], 0.0)


def test_shift_head_moves_only_that_head_and_fast_path_agrees():
    featurizer = CommentFeaturizer(n_bits=12).fit([t for t, _ in RU + KK])
    settings = {
        "C": 5.0,
        "class_weight": None,
        "domains": (),
        "default_domain": None,
        "routes": (("kazakh", "kazakh_share", 0.1),),
        "head_calibration": True,
        "separate_heads": True,
        "nb_weight": (1.0, 1.0),
    }
    pipeline = fit_model(featurizer, rows(), rows(), settings)
    model = pipeline.steps[-1][1].calibrated_classifiers_[0].estimator.estimator
    texts = ["ты дебил", "сен ақымақсың", "жақсы мақала", "спасибо"]
    before = pipeline.predict_proba(texts)[:, 1]
    model.shift_head(1, 1.5)
    after = pipeline.predict_proba(texts)[:, 1]
    assert np.allclose(after[[0, 3]], before[[0, 3]]) and (after[[1, 2]] > before[[1, 2]]).all()
    fast = LinearHead.from_pipeline(pipeline).proba(featurizer.hashed(texts))
    assert np.allclose(fast, after)


def test_nblr_and_default_only_blends_stay_one_weight_row_per_head():
    featurizer = CommentFeaturizer(n_bits=12).fit([t for t, _ in RU + KK])
    X = featurizer.transform([ex.text for ex in rows()])
    y = np.array([ex.label for ex in rows()])
    domain = np.array([ex.source for ex in rows()])
    column = featurizer.signal_column("kazakh_share")
    settings = dict(C=5.0, domains=("forum", "kazakh"), default_domain="forum", routes=(("kazakh", column, 0.1),))
    plain = DomainLogit(**settings).fit(X, y, domain=domain)
    blended = DomainLogit(**settings, nblr_weight=1.0, default_only_weight=0.5).fit(X, y, domain=domain)
    assert blended.head_coef_.shape == plain.head_coef_.shape == (2, featurizer.n_features)
    assert (blended.predict(X) == y).mean() == 1.0
    assert not np.allclose(blended.head_coef_, plain.head_coef_)


def test_lower_head_thresholds_folds_a_dev_threshold_into_one_head():
    from moderation.scoring.train import lower_head_thresholds

    featurizer = CommentFeaturizer(n_bits=12).fit([t for t, _ in RU + KK])
    settings = {
        "C": 0.5,
        "class_weight": None,
        "domains": (),
        "default_domain": None,
        "routes": (("kazakh", "kazakh_share", 0.1),),
        "head_calibration": True,
        "separate_heads": True,
    }
    train = rows()
    pipeline = fit_model(featurizer, train, train, settings)
    # Dev: ordinary comments of both heads (sources the thresholds count as ordinary) and positives.
    dev = (
        [Example(t, 0, "ru_2ch_pikabu", "ru") for t, y in RU if not y]
        + [Example(t, 0, "kk_hate_speech", "kk") for t, y in KK if not y]
        + [Example(t, 1, "spam", "kk") for t, y in KK if y]
    )
    texts = [ex.text for ex in dev]
    before = pipeline.predict_proba(texts)[:, 1]
    done = lower_head_thresholds(pipeline, dev, before, {"kazakh": 0.5})
    after = pipeline.predict_proba(texts)[:, 1]
    kazakh = np.array([ex.source != "ru_2ch_pikabu" for ex in dev])
    assert set(done) == {"kazakh"} and done["kazakh"]["threshold"] < 0.5
    assert np.allclose(after[~kazakh], before[~kazakh])  # the other head is untouched
    # What the chosen threshold flagged before is what 0.5 flags now.
    t = done["kazakh"]["threshold"]
    assert ((before[kazakh] >= t) == (after[kazakh] >= 0.5 - 1e-9)).all()
    assert np.allclose(LinearHead.from_pipeline(pipeline).proba(featurizer.hashed(texts)), after)


def test_lower_head_thresholds_folds_two_dev_thresholds_into_one_head():
    from moderation.scoring.train import lower_head_thresholds

    featurizer = CommentFeaturizer(n_bits=12).fit([t for t, _ in RU + KK])
    settings = {
        "C": 0.5,
        "class_weight": None,
        "domains": (),
        "default_domain": None,
        "routes": (("kazakh", "kazakh_share", 0.1),),
        "head_calibration": True,
        "separate_heads": True,
    }
    pipeline = fit_model(featurizer, rows(), rows(), settings)
    dev = (
        [Example(t, 0, "ru_2ch_pikabu", "ru") for t, y in RU if not y]
        + [Example(t, 0, "kk_hate_speech", "kk") for t, y in KK if not y]
        + [Example(t, 1, "spam", "kk") for t, y in KK if y]
    )
    texts = [ex.text for ex in dev]
    before = pipeline.predict_proba(texts)[:, 1]
    done = lower_head_thresholds(pipeline, dev, before, {"kazakh": {"spam": 0.5, "spam_hold": 0.9}})
    after = pipeline.predict_proba(texts)[:, 1]
    kazakh = np.array([ex.source != "ru_2ch_pikabu" for ex in dev])
    t, t_hold = done["kazakh"]["threshold"], done["kazakh"]["hold_threshold"]
    assert t_hold < t < 0.5 and done["kazakh"]["log_odds_scale"] != 1.0
    assert np.allclose(after[~kazakh], before[~kazakh])
    # The map is monotone: the order of the head's scores is kept, and both thresholds land on theirs.
    order = np.argsort(before[kazakh])
    assert (np.diff(after[kazakh][order]) >= -1e-9).all()
    # (The reported thresholds are rounded; scores right at them may fall either side.)
    b, a = before[kazakh], after[kazakh]
    for old, new in ((t, 0.5), (t_hold, 0.3)):
        clear = np.abs(b - old) > 1e-3
        assert clear.sum() >= 3 and ((b >= old) == (a >= new))[clear].all()
    assert np.allclose(LinearHead.from_pipeline(pipeline).proba(featurizer.hashed(texts)), after, atol=1e-6)


def test_lower_head_thresholds_refuses_two_thresholds_that_coincide():
    from moderation.scoring.train import lower_head_thresholds

    featurizer = CommentFeaturizer(n_bits=12).fit([t for t, _ in RU + KK])
    settings = {
        "C": 0.5,
        "class_weight": None,
        "domains": (),
        "default_domain": None,
        "routes": (("kazakh", "kazakh_share", 0.1),),
        "head_calibration": True,
        "separate_heads": True,
    }
    pipeline = fit_model(featurizer, rows(), rows(), settings)
    dev = [Example(t, 0, "kk_hate_speech", "kk") for t, y in KK if not y] + [
        Example(t, 1, "spam", "kk") for t, y in KK if y
    ]
    before = pipeline.predict_proba([ex.text for ex in dev])[:, 1]
    with pytest.raises(ValueError, match="too close"):
        lower_head_thresholds(pipeline, dev, before, {"kazakh": {"spam": 0.01, "spam_hold": 0.01}})


def fitted_on_ru():
    """A DomainLogit fitted on RU, its weights before any change, and its most negative and most positive columns."""
    featurizer = CommentFeaturizer(n_bits=12).fit([t for t, _ in RU])
    X = featurizer.transform([t for t, _ in RU])
    model = DomainLogit(C=5.0).fit(X, np.array([label for _, label in RU]))
    before = model.head_coef_.copy()
    return model, before, [int(np.argmin(before[0])), int(np.argmax(before[0]))]


def test_floor_columns_raises_only_negative_weights_of_those_columns():
    model, before, columns = fitted_on_ru()
    assert before[0, columns[0]] < 0 < before[0, columns[1]]
    model.floor_columns(columns)
    assert model.head_coef_[0, columns[0]] == 0 and model.head_coef_[0, columns[1]] == before[0, columns[1]]
    others = np.setdiff1d(np.arange(before.shape[1]), columns)
    assert np.array_equal(model.head_coef_[:, others], before[:, others])


def test_training_never_lets_letters_split_apart_lower_a_score():
    """Here every comment with letters split by spaces is ordinary, so a free weight for the signal would be
    negative (it is without signals.NON_NEGATIVE_SIGNALS); trained, it is 0, and splitting an insult's letters
    leaves its score as it was."""
    spaced = [("и т.д и т.п", 0), ("в л/с и т.к", 0), ("ж и м", 0), ("т.е и т.д", 0)] * 5
    train = [Example(t, y, "forum", "ru") for t, y in RU + spaced]
    featurizer = CommentFeaturizer(n_bits=12).fit([ex.text for ex in train])
    settings = {"C": 5.0, "class_weight": None, "domains": ("forum",), "default_domain": "forum", "routes": ()}
    pipeline = fit_model(featurizer, train, train, settings)
    head = LinearHead.from_pipeline(pipeline)
    assert head.coef[0, featurizer.signal_column("spaced")] == 0
    plain, split = head.proba(featurizer.hashed(["ты тупой дебил", "ты тупой д е б и л"]))
    assert split >= plain - 0.001  # the same words; only the text's length differs


def test_zero_columns_holds_only_those_columns_at_zero():
    model, before, columns = fitted_on_ru()
    model.zero_columns(columns)
    assert (model.head_coef_[:, columns] == 0).all()
    others = np.setdiff1d(np.arange(before.shape[1]), columns)
    assert np.array_equal(model.head_coef_[:, others], before[:, others])


def test_a_model_that_ignores_spam_evidence_and_emoji_gives_them_no_weight():
    """Here every reply to a handle and every comment with a long number or emoji is ordinary, so free weights for
    them would be negative (they are without `ignored_signals`); trained with it, they are 0, and appending a handle,
    numbers and emoji to an insult lowers its score by less than half as much (what is left: the longer text's
    dilution)."""
    replies = [("@ivan_petrov спасибо, согласен 😂", 0), ("@aigerim_k хорошая мысль 2024 1990 👍👍", 0)] * 10
    train = [Example(t, y, "forum", "ru") for t, y in RU + replies]
    featurizer = CommentFeaturizer(n_bits=12).fit([ex.text for ex in train])
    settings = {"C": 5.0, "class_weight": None, "domains": ("forum",), "default_domain": "forum", "routes": ()}
    texts = ["ты тупой дебил", "ты тупой дебил @ivan_petrov 1234 5678 😂😂"]
    free = LinearHead.from_pipeline(fit_model(featurizer, train, train, settings))
    assert free.coef[0, featurizer.signal_column("has_handle")] < 0
    assert free.coef[0, featurizer.signal_column("emoji_share")] < 0
    free_drop = -np.diff(free.proba(featurizer.hashed(texts)))[0]
    ignoring = {**settings, "ignored_signals": TOXICITY_IGNORED_SIGNALS}
    blind = LinearHead.from_pipeline(fit_model(featurizer, train, train, ignoring))
    assert (blind.coef[:, featurizer.ignored_columns(TOXICITY_IGNORED_SIGNALS)] == 0).all()
    assert blind.coef[0, featurizer.signal_column("emoji_share")] == 0
    blind_drop = -np.diff(blind.proba(featurizer.hashed(texts)))[0]
    assert blind_drop < free_drop / 2
