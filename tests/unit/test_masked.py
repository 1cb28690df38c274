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
        ("зае...али", "заебали"),  # dots hide mat inside one word
        ("е...анутое", "ебанутое"),
        ("с..ки", "суки"),
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
        "т..пой",  # dots hide mat only
        "хуя...овощами",  # two words: the first is mat already
        "ох...игнор",  # more than three letters after the dots
        "у...ехали",  # «у» is a word itself
        "на*бу*т*ы",  # three runs
    ],
)
def test_other_masked_words_are_left_alone(word):
    assert unmask(word) is None


@pytest.mark.parametrize(
    "word", ["себе", "застрахуйте", "мудрый", "херсон", "мандат", "педикюр", "ухудшение", "учеба", "колебался", "сукно"]
)
def test_innocent_words_are_not_obscene(word):
    assert not is_obscene(word)


def test_recover_rewrites_only_masked_mat_in_a_text():
    text = "ну да...а утром опять нас на@@бут, т..к скидка 50% и c# в школе"
    assert recover(text) == "ну да...а утром опять нас наебут, т..к скидка 50% и c# в школе"


def test_a_flood_of_masked_words_is_capped():
    words = ["п*здец"] * (MAX_MASKED_WORDS + 5)
    assert recover(" ".join(words)).split() == ["пиздец"] * MAX_MASKED_WORDS + ["п*здец"] * 5
