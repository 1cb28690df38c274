"""Mat and insults with letters hidden behind symbols are written out; nothing else is."""

import pytest

from moderation.scoring.masked import MAX_MASKED_WORDS, is_obscene, recover, unmask


@pytest.mark.parametrize(
    "masked, plain",
    [
        ("п*здец", "пиздец"),
        ("п@здец", "пиздец"),
        ("пи#дец", "пиздец"),
        ("п****ц", "пиздец"),  # as many stars as letters
        ("б***ь", "блядь"),
        ("б*ять", "блять"),
        ("с*ки", "суки"),
        ("м*даки", "мудаки"),
        ("на@@бут", "наебут"),  # two marks for one letter
        ("на**бут", "наебут"),
        ("х*й", "хуй"),
        ("ох*ели", "охуели"),
        ("д*бил", "дебил"),  # insults of the lexicon, by their stem
        ("тв*ри", "твари"),
        ("по*уй", "похуй"),  # a hidden first letter of «х…» after a prefix
        ("за**ал", "заебал"),
        ("вы*бнуться", "выебнуться"),  # up to five letters after the root
    ],
)
def test_masked_mat_and_insults_are_written_out(masked, plain):
    assert unmask(masked) == plain


@pytest.mark.parametrize(
    "word",
    [
        "з*мечательно",  # a mask that no root of the lexicon explains
        "сам*лет",
        "к*пить",
        "на*бу*т*ы",  # three runs
        "а" * 30 + "п*зда",  # longer than any word worth the search (it would read as mat)
        "гов*рят",  # the hidden letter would end the root «говн»: a root letter must show on both sides
        "бл@го",  # «@» for «а» in spam: «бля» ends at the hidden letter
        "п*дарки",  # «подарки»: no root «пидар»
        "п@дарок",
        "по*бакам",  # a hidden first letter of a root other than «х…» («еба»), even after a prefix
    ],
)
def test_other_masked_words_are_left_alone(word):
    assert unmask(word) is None


@pytest.mark.parametrize(
    "word",
    [
        "себе",
        "застрахуйте",
        "мудрый",
        "херсон",
        "мандат",
        "педикюр",
        "ухудшение",
        "учеба",
        "колебался",
        "сукно",
        "оскорблять",
        "дуров",
        "дебо",  # «дебил» stems to «деб»: short stems count as the exact forms only
    ],
)
def test_innocent_words_are_not_obscene(word):
    assert not is_obscene(word)


def test_recover_rewrites_only_masked_mat_in_a_text():
    text = "ну да...а утром опять нас на@@бут, т..к скидка 50% и c# в школе"
    assert recover(text) == "ну да...а утром опять нас наебут, т..к скидка 50% и c# в школе"


def test_a_flood_of_distinct_masked_words_is_capped():
    letters = [chr(c) for c in range(ord("а"), ord("я") + 1)]
    junk = [f"ф*{a}{b}" for a in letters for b in letters if unmask(f"ф*{a}{b}") is None][:MAX_MASKED_WORDS]
    assert recover(" ".join(junk + ["п*здец"])).split() == junk + ["п*здец"]


def test_repeats_of_one_masked_word_do_not_use_up_the_cap():
    text = " ".join(["з*з"] * (MAX_MASKED_WORDS + 5) + ["эти", "с*ки"])
    assert recover(text).split()[-2:] == ["эти", "суки"]
