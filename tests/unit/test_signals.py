"""Moderator signals: what links, handles and e-mail addresses may and may not change."""

import skops.io as sio

from moderation.scoring.features import CommentFeaturizer
from moderation.scoring.normalise import normalise
from moderation.scoring.registry import TRUSTED_TYPES
from moderation.scoring.signals import KAZAKH_ROUTE, SIGNAL_NAMES, is_kazakh, signal_matrix

INSULT = "Депутаты тупые бараны"
KAZAKH = "Бұл дұрыс емес"  # 2 of 12 letters are Kazakh-only
TRAILERS = (
    " @ivan_petrov_official",
    " https://tengrinews.kz/kazakhstan_news/some-long-article-slug",
    " akimat@almaty.kz",
    " akimat.press@gov.am",
    " @\u200bivan_petrov_official",  # an invisible character after «@»
    " ＠ivan_petrov_official",  # a full-width «@»
    " https://editor@tengrinews.kz/news",  # a link with a user name
)
STYLED = "Депутаты 𝐭𝐮𝐩𝐲𝐞 𝐛𝐚𝐫𝐚𝐧𝐲"  # styled letters, which NFKC folds to Latin ones


def signals(texts, letters_without_links):
    matrix = signal_matrix(texts, [normalise(t) for t in texts], letters_without_links)
    return {name: matrix[:, i] for i, name in enumerate(SIGNAL_NAMES)}


def test_links_handles_and_addresses_do_not_change_the_shares_of_a_comments_own_letters():
    texts = [INSULT] + [INSULT + trailer for trailer in TRAILERS]
    counted, skipped = signals(texts, False), signals(texts, True)
    assert (counted["cyrillic_share"][1:] < counted["cyrillic_share"][0]).all()  # Latin letters lowered it
    for name in ("cyrillic_share", "caps_share"):
        assert (skipped[name] == skipped[name][0]).all(), (name, skipped[name])
    assert skipped["has_handle"][[1, 5, 6]].all() and skipped["has_url"][[2, 7]].all()
    assert skipped["has_email"][[3, 4]].all()


def test_a_handle_appended_to_styled_letters_changes_no_share_of_the_letters():
    texts = [STYLED, STYLED + TRAILERS[0]]
    skipped = signals(texts, True)
    for name in ("cyrillic_share", "caps_share", "emoji_share"):
        assert skipped[name][0] == skipped[name][1], (name, skipped[name])


def test_numbers_and_exclamations_inside_links_still_count():
    texts = ["Работа тут wa.me/77011234567", "Скидки https://site.kz/promo!!!"]
    plain, skipped = signals(texts, False), signals(texts, True)
    for name in ("long_numbers", "exclaim"):
        assert (skipped[name] == plain[name]).all(), name
    assert skipped["long_numbers"][0] > 0 and skipped["exclaim"][1] > 0


def test_a_link_does_not_route_a_kazakh_comment_away_from_the_kazakh_head():
    text = KAZAKH + TRAILERS[1] * 2  # a reader citing two sources
    assert signals([text], False)["kazakh_share"][0] <= KAZAKH_ROUTE  # what a link did before
    assert signals([text], True)["kazakh_share"][0] > KAZAKH_ROUTE
    assert is_kazakh(KAZAKH) and is_kazakh(text)


def test_a_featurizer_saved_before_the_option_counts_links_as_it_did(tmp_path):
    featurizer = CommentFeaturizer(n_bits=12, letters_without_links=True).fit([INSULT, KAZAKH])
    del featurizer.letters_without_links  # as a featurizer saved before the option existed
    path = tmp_path / "featurizer.skops"
    sio.dump(featurizer, path)
    loaded = sio.load(path, trusted=TRUSTED_TYPES)
    assert loaded.get_params()["letters_without_links"] is False
    text = INSULT + TRAILERS[0]
    column = SIGNAL_NAMES.index("cyrillic_share")
    assert loaded.hashed([text]).signals[0, column] == signals([text], False)["cyrillic_share"][0]
