"""Hashed features: Kazakh typed on a Russian keyboard reads as the same words."""

import skops.io as sio

from moderation.scoring.features import CommentFeaturizer
from moderation.scoring.registry import TRUSTED_TYPES
from moderation.scoring.signals import SIGNAL_NAMES

KAZAKH = "Соттау керек оңбағандарды, арамтамақтар!"
RUSSIAN_KEYBOARD = "Соттау керек онбагандарды, арамтамактар!"  # the same comment without Kazakh-only letters
RUSSIAN = "Депутаты опять подняли тарифы, а зарплаты стоят"
CORPUS = [KAZAKH, RUSSIAN, "Бұл дұрыс шешім", "Жол жөндеу керек"]


def ngrams(featurizer, text):
    batch = featurizer.hashed([text])
    return batch.cols.tolist(), batch.vals.round(6).tolist()


def test_kazakh_letters_and_their_russian_keyboard_spelling_give_the_same_ngrams():
    featurizer = CommentFeaturizer(n_bits=14).fit(CORPUS)
    assert ngrams(featurizer, KAZAKH) == ngrams(featurizer, RUSSIAN_KEYBOARD)
    # Without the option they are different words, as in versions trained before it.
    plain = CommentFeaturizer(n_bits=14, fold_kazakh_letters=False).fit(CORPUS)
    assert ngrams(plain, KAZAKH)[0] != ngrams(plain, RUSSIAN_KEYBOARD)[0]
    # Texts without a Kazakh-only letter have the n-grams they had (their IDF follows the corpus).
    for text in (RUSSIAN, RUSSIAN_KEYBOARD):
        assert ngrams(featurizer, text)[0] == ngrams(plain, text)[0]


def test_the_kazakh_share_that_routes_a_comment_counts_the_letters_as_written():
    featurizer = CommentFeaturizer(n_bits=14).fit(CORPUS)
    column = SIGNAL_NAMES.index("kazakh_share")
    shares = featurizer.hashed([KAZAKH, RUSSIAN_KEYBOARD]).signals[:, column]
    assert shares[0] > 0 and shares[1] == 0


def test_a_featurizer_saved_before_the_option_keeps_kazakh_letters_apart(tmp_path):
    featurizer = CommentFeaturizer(n_bits=14).fit(CORPUS)
    del featurizer.fold_kazakh_letters  # as a featurizer saved before the option existed
    path = tmp_path / "featurizer.skops"
    sio.dump(featurizer, path)
    loaded = sio.load(path, trusted=TRUSTED_TYPES)
    assert loaded.get_params()["fold_kazakh_letters"] is False
    assert ngrams(loaded, KAZAKH)[0] != ngrams(loaded, RUSSIAN_KEYBOARD)[0]
