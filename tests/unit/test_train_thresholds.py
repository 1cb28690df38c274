"""Choosing the toxicity threshold on labelled news comments, per head, and weighting rows by news likeness."""

import copy
from pathlib import Path

import numpy as np
import pytest

from moderation import scoring
from moderation.scoring import debias, train
from moderation.scoring.data import Example
from moderation.scoring.features import is_kazakh

MODELS = Path(__file__).resolve().parents[2] / "models"


@pytest.fixture(scope="module")
def bundle():
    return scoring.load_active(MODELS)


def labelled_news():
    """Ordinary and toxic comments in Russian and Kazakh, as the hand-labelled set would give them."""
    rows = [Example(t, 0, "news_labelled", "ru") for t, _ in debias.news_talk_rows()[:200]]
    rows += [Example(t, 0, "news_labelled", "kk") for t, _ in debias.kazakh_news_rows() if is_kazakh(t)][:80]
    rows += [Example(t, 1, "news_labelled", "ru") for t, _ in debias.news_toxic_rows()[:60]]
    rows += [Example(t, 1, "news_labelled", "kk") for t, _ in debias.kazakh_toxic_rows() if is_kazakh(t)][:40]
    return rows


def test_each_head_holds_at_most_the_budget_of_its_ordinary_comments(bundle):
    pipeline = copy.deepcopy(bundle.pipelines["toxicity"])
    news = labelled_news()
    kazakh = np.array([is_kazakh(ex.text) for ex in news])
    ordinary = np.array([ex.label == 0 for ex in news])
    # A Kazakh head that holds far too much, as the Kazakh head trained on translated posts did: the shipped
    # version's own Kazakh threshold (folded into the head's intercept) undone, and 6 log-odds more.
    model = pipeline.steps[-1][1].calibrated_classifiers_[0].estimator.estimator
    folded = bundle.manifest["toxicity_thresholds"]["heads"]["kk_hate_speech"]["log_odds_shift"]
    model.rescale_head(1, 1.0, 6.0 - folded)
    before = pipeline.predict_proba([ex.text for ex in news])[:, 1]
    assert (before[ordinary & kazakh] >= 0.8).mean() > 0.2, "the precondition: a Kazakh head holding too much"

    chosen = train.toxicity_news_thresholds(pipeline, news, budget=0.05)

    hold = chosen["toxicity_hold"]
    after = pipeline.predict_proba([ex.text for ex in news])[:, 1]
    assert (after[ordinary & ~kazakh] >= hold).mean() <= 0.05
    assert (after[ordinary & kazakh] >= hold).mean() <= 0.05
    # The Russian head is untouched; the Kazakh head's own threshold now lands on the shared one.
    assert np.allclose(after[~kazakh], before[~kazakh])
    head = chosen["heads"]["kk_hate_speech"]
    assert head["ordinary"] == int((ordinary & kazakh).sum())
    order_before, order_after = np.argsort(before[kazakh]), np.argsort(after[kazakh])
    assert (order_before == order_after).all(), "a shift of the intercept keeps the Kazakh ranking"


def test_a_head_with_too_few_labelled_comments_keeps_the_shared_threshold(bundle):
    pipeline = copy.deepcopy(bundle.pipelines["toxicity"])
    news = [ex for ex in labelled_news() if not is_kazakh(ex.text)]
    chosen = train.toxicity_news_thresholds(pipeline, news)
    assert chosen["heads"] == {}


def test_news_likeness_weights_favour_rows_like_the_news(bundle):
    featurizer = bundle.featurizers["toxicity"]
    news = [t for t, _ in debias.news_talk_rows()]
    like = news[:40]
    unlike = [
        "Free entry in a weekly competition, text WIN to 80086 now",
        "Ok lar... joking wif u oni",
        "Subscribe to my channel for more videos",
        "Call me when you get home, love you",
    ] * 10
    weights = train.news_likeness_weights(featurizer, like + unlike, news[40:])
    assert weights[:40].mean() > 2 * weights[40:].mean()
    low, high = train.DOMAIN_WEIGHT_CLIP
    assert weights.min() >= low and weights.max() <= high
