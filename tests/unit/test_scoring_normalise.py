"""Normalisation undoes the disguises spammers and trolls use."""

import pytest

from moderation.scoring.normalise import domain_of, normalise, normalise_text


@pytest.mark.parametrize(
    "disguised, plain",
    [
        ("Пpeдлaгaeм yдaлённyю paбoтy", "предлагаем удаленную работу"),  # Latin look-alikes
        ("д у р а к", "дурак"),  # letters split by spaces
        ("д.у.р.а.к", "дурак"),
        ("иди на.ху.й", "иди нахуй"),  # split by punctuation
        ("дууууурак", "дурак"),  # stretched letters
        ("п0рн0", "порно"),  # digits as letters
        ("ты cyka", "ты сука"),  # a Latin word of look-alikes inside a Russian comment
        ("ты suka blyat", "ты сука блят"),  # transliteration
        ("ＤＵＲＡＫ ёлка", "дурак елка"),  # NFKC full-width, ё, transliteration
        ("ду\u200bрак", "дурак"),  # invisible characters
        ("Полный П*ЗДЕЦ", "полный пиздец"),  # letters hidden behind symbols (masked.py)
        ("опять нас на@@бут", "опять нас наебут"),
        ("эти с*ки", "эти суки"),
    ],
)
def test_disguises_are_undone(disguised, plain):
    assert normalise_text(disguised) == plain


def test_numbers_and_english_are_left_alone():
    assert normalise_text("в 2022г за 5000 руб") == "в 2022г за 5000 руб"
    assert normalise_text("Free entry to win cash") == "free entry to win cash"


def test_single_letter_words_are_not_glued():
    assert normalise_text("я и ты") == "я и ты"


def test_links_handles_phones_become_signals():
    doc = normalise("Пишите @easy_money_bot или https://t.me/+abc, тел. +7 (701) 123-45-67")
    assert doc.handles == 1 and doc.phones == 1
    assert doc.urls == ["https://t.me/+abc,"] or doc.urls[0].startswith("https://t.me/+abc")
    assert domain_of(doc.urls[0]) == "t.me"


def test_an_address_is_an_address_not_a_link_and_a_word():
    for text in ("Пишите на info@tengrinews.kz", "Пишите на ivan.petrov@mail.ru"):
        doc = normalise(text)
        assert (doc.emails, doc.urls) == (1, []), text
        assert doc.words == normalise("Пишите на a@b.am").words, text  # no «инфо», «иван», «петров»
    for link in (
        "https://editor@tengrinews.kz/news",
        "https://editor.name@tengrinews.kz/news",
        "https://user:pass@tengrinews.kz/news",
        "https://tengrinews.kz/news?mail=ivan@mail.ru",
    ):
        doc = normalise(f"см. {link}")
        assert (doc.emails, doc.urls) == (0, [link]), link


def test_a_handle_split_into_characters_is_still_a_handle():
    for text in ("пиши @ k z _ u s d t _ o b m e n", "пиши @.k.z._.u.s.d.t._.o.b.m.e.n", "пиши @-k-z-_-u-s-d-t"):
        doc = normalise(text)
        assert (doc.handles, doc.spaced_runs) == (1, 1), text
        assert doc.words == normalise("пиши @kz_usdt").words, text
    assert normalise("a @ b c").handles == 0  # too short for a handle, as «@abc» is
    assert (normalise("звоните @ 8 7 0 1 2 3 4 5 6 7").handles, normalise("звоните @ 8 7 0 1 2 3 4 5 6 7").phones) == (
        0,
        1,
    )
    assert normalise("к @ 2 0 2 6 году").handles == 0  # a handle starts with a letter or «_»


def test_mixed_script_words_are_counted():
    assert normalise("Пpeдлaгaeм paбoтy").mixed_words == 2
    assert normalise("Предлагаем работу").mixed_words == 0


def test_empty_text():
    assert normalise("").words == []
