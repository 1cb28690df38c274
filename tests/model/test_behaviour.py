"""Behaviour of the shipped models on comments written for these tests (not from the corpora)."""

from pathlib import Path

import numpy as np
import pytest

from moderation.scoring import load_active

ROOT = Path(__file__).resolve().parents[2]
DATA_DIR = ROOT.parent / "shared" / "data"

LOOKALIKE = str.maketrans("аеорсухкАЕОРСХКМТВН", "aeopcyxkAEOPCXKMTBH")


def lookalike(text):
    return text.translate(LOOKALIKE)


def spaced(text):
    # Split the longest word into letters, as trolls do to slip past word lists.
    word = max(text.split(), key=len).strip(",.!?")
    return text.replace(word, " ".join(word), 1)


def dotted(text):
    word = max(text.split(), key=len).strip(",.!?")
    return text.replace(word, ".".join(word), 1)


def stretched(text):
    return "".join(ch * 4 if ch in "аеиоуы" else ch for ch in text)


DISGUISES = [lookalike, spaced, dotted, stretched]
TOXIC = [
    "Ты тупой дебил, заткнись уже, идиот",
    "Автор дурак, пишет полную чушь",
    "Какая же ты тварь безмозглая",
    "Иди нахуй со своими советами",
    "Заткнись, урод, тебя никто не спрашивал",
    "Редакция состоит из одних дебилов",
]
SPAM = [
    "Предлагаем удалённую работу, доход от 5000 руб в день! Пишите в телеграм @easy_money_bot",
    "Заработок от 3000 в день без вложений, пиши в личку",
    "Инвестиции в криптовалюту, доход 30% в месяц, подробности в телеграм",
    "Нужны люди на удаленку, от 50000 рублей в месяц, пишите в лс",
]
# (toxic, neutral rewrite of the same thought)
PAIRS = [
    ("Ты тупой, ничего не понимаешь в этом вопросе.", "Ты не прав, ничего не понимаешь в этом вопросе."),
    ("Автор идиот, статья бред.", "Автор ошибается, статья неточная."),
    ("Заткнись и не пиши больше эту хрень.", "Пожалуйста, не пиши больше об этом."),
    ("Чиновники — ворюги и сволочи.", "Чиновники, по-моему, работают плохо."),
    ("Что за дебильное решение мэрии?", "Что за странное решение мэрии?"),
    ("Этот урод опять перекрыл дорогу.", "Этот водитель опять перекрыл дорогу."),
    ("Журналист криворукий дебил, фото перевернуто.", "Журналист ошибся, фото перевернуто."),
    ("Соседи твари, всю ночь шумели.", "Соседи всю ночь шумели."),
]
HARD_NEWS = [
    "Очень жаль погибших при пожаре, пусть земля им будет пухом.",
    "Надеюсь, виновных в аварии накажут по закону.",
    "Грабителя банка поймали через два дня, хорошая работа полиции.",
    "После землетрясения люди до сих пор живут в палатках.",
    "Переговоры о прекращении огня снова сорвались.",
    "Солдаты вернулись домой, родные встречали их на вокзале.",
    "В мечети собрали гуманитарную помощь для пострадавших.",
    "Священник призвал прихожан помогать бездомным.",
    "Рамазан в этом году выпадает на весну.",
    "Выборы в маслихат прошли спокойно, явка была низкой.",
    "Экс-министра приговорили к восьми годам за взятки.",
    "Число мигрантов из соседних стран выросло вдвое.",
    "Наркотики все чаще продают через интернет, родителям стоит быть внимательнее.",
    "Суд оправдал обвиняемого в убийстве из-за недостатка улик.",
    "В колонии произошел бунт, заключенные требовали улучшить условия.",
    "Парламент принял закон о криминализации домашнего насилия.",
    "Взрыв на заводе унес жизни пятерых рабочих.",
    "Беженцам выдали временные документы.",
    "Протестующие требовали отставки правительства.",
    "Ракетный удар повредил больницу, есть раненые.",
    "Ислам и христианство учат милосердию.",
    "Полиция раскрыла сеть мошенников, обманывавших пенсионеров.",
    "Самоубийства среди подростков требуют внимания психологов.",
    "Казахстан и Узбекистан договорились о границе.",
]
ORDINARY = [
    "Спасибо за статью, очень полезная информация о ремонте дорог в Алматы.",
    "Цены на бензин выросли до 250 тенге за литр, а зарплаты не растут.",
    "Кредиты в банках стали дороже, ставка 20% это грабеж.",
    "Продаю гараж? Нет, просто интересно, сколько сейчас стоит гараж в центре.",
    "Где можно записаться на прививку? Позвонил в поликлинику, никто не отвечает.",
    "Курс доллара опять 500 тенге, пенсия на месяц не хватает.",
    "У нас во дворе третий год обещают детскую площадку.",
    "Работаю учителем 20 лет, зарплата 180 тысяч, это мало.",
    "Подскажите, на каком сайте смотреть расписание автобусов?",
    "Автор, напишите, пожалуйста, продолжение про экологию озера.",
    "Вчера был на концерте во Дворце Республики, звук отличный.",
    "В телеграм-канале акимата писали, что воду дадут к вечеру.",
    # Written after the money-talk rows of debias.py (some of which resemble the lines above).
    "Тарифы на свет опять подняли, за январь заплатили почти 9 тысяч.",
    "Моя мама получает пенсию 95 тысяч, половина уходит на лекарства.",
    "Квартиры в новостройках по 600 тысяч за квадрат, кто это покупает?",
    "Муж работает сварщиком, в месяц выходит около 300 тысяч, но без выходных.",
    "Сколько стоит проезд в Астане? У нас в Караганде уже 150 тенге.",
    "Банк одобрил рассрочку на холодильник, переплата небольшая.",
    "Вакансия водителя автобуса висит полгода, никто не идет за такие деньги.",
    "Пишите в комментариях, у кого еще отключили горячую воду.",
    "Свяжитесь с редакцией, если видели это ДТП, полиция ищет свидетелей.",
    "Курс тенге снова упал, отпуск за границей в этом году отменяется.",
]


@pytest.fixture(scope="module")
def bundle():
    return load_active(ROOT / "models")


def test_the_obvious_cases(bundle):
    t = bundle.thresholds
    clean, toxic, spam = bundle.score(
        [
            "Спасибо за статью, очень полезная информация о ремонте дорог в Алматы.",
            "Ты тупой дебил, заткнись уже, идиот",
            "Пpeдлaгaeм yдaлённyю paбoтy, дoхoд от 5000 рyб в день! Пишите в тeлeгpaм @easy_money_bot",
        ]
    )
    assert clean.spam < t["spam_hold"] and clean.toxicity < t["toxicity_hold"]
    assert toxic.toxicity >= t["toxicity_hold"] and toxic.spam < t["spam"]
    assert spam.spam >= t["spam"]
    assert [bundle.decide(s) for s in (clean, toxic, spam)] == ["approved", "held", "spam"]


@pytest.mark.parametrize("task, threshold", [("toxicity", "toxicity_hold"), ("spam", "spam")])
@pytest.mark.parametrize("disguise", DISGUISES, ids=lambda f: f.__name__)
def test_disguises_barely_move_the_score(bundle, disguise, task, threshold):
    texts = TOXIC if task == "toxicity" else SPAM
    plain = bundle.score(texts, explain=False)
    hidden = bundle.score([disguise(t) for t in texts], explain=False)
    for text, p, h in zip(texts, plain, hidden):
        before, after = getattr(p, task), getattr(h, task)
        assert after >= before - 0.15, (disguise(text), before, after)
        assert after >= bundle.thresholds[threshold], disguise(text)


def test_neutral_rewrite_scores_lower_than_its_toxic_original(bundle):
    toxic = bundle.score([a for a, _ in PAIRS], explain=False)
    neutral = bundle.score([b for _, b in PAIRS], explain=False)
    for (a, b), t, n in zip(PAIRS, toxic, neutral):
        assert n.toxicity < t.toxicity, (a, b)
    assert np.mean([n.toxicity < bundle.thresholds["toxicity_hold"] for n in neutral]) >= 0.75


@pytest.mark.skipif(not (DATA_DIR / "toxicity.csv").exists(), reason="shared data not available")
def test_held_out_detox_rewrites_score_lower(bundle):
    from moderation.scoring.data import read_csv, split_of

    groups = {}
    for ex in read_csv(DATA_DIR / "toxicity.csv", "toxic"):
        if ex.group and split_of(ex) == "test":
            groups.setdefault(ex.group, []).append(ex)
    texts = [ex.text for rows in groups.values() for ex in rows]
    scores = iter(bundle.score(texts, explain=False))
    right = total = 0
    for rows in groups.values():
        p = [next(scores).toxicity for _ in rows]
        for ex_a, pa in zip(rows, p):
            for ex_b, pb in zip(rows, p):
                if ex_a.label == 1 and ex_b.label == 0:
                    total += 1
                    right += pa > pb
    assert total > 1000 and right / total >= 0.95


def test_hard_news_is_not_toxic_by_topic_alone(bundle):
    scores = bundle.score(HARD_NEWS, explain=False)
    tox = np.array([s.toxicity for s in scores])
    assert np.mean(tox < bundle.thresholds["toxicity_hold"]) >= 0.8, dict(zip(HARD_NEWS, tox.round(2)))
    assert np.median(tox) < 0.2
    assert all(s.spam < bundle.thresholds["spam_hold"] for s in scores)


def test_ordinary_comments_are_not_spam(bundle):
    for text, s in zip(ORDINARY, bundle.score(ORDINARY, explain=False)):
        assert s.spam < bundle.thresholds["spam_hold"], (text, s.spam)


def test_explanations_name_the_original_words(bundle):
    toxic, spam = bundle.score(
        ["Ну ты и тупoй дeбил, автор", "Заработок от 3000 в день, пиши в тeлeгpaм @money_fast_bot"]
    )
    assert "дeбил" in toxic.toxicity_terms  # the look-alike spelling, as written
    assert toxic.spam_terms == [] or toxic.spam < bundle.thresholds["spam_hold"]
    assert spam.spam_terms and all(
        term in "Заработок от 3000 в день, пиши в тeлeгpaм @money_fast_bot" for term in spam.spam_terms
    )


def test_scores_are_batch_independent(bundle):
    texts = TOXIC + SPAM + ORDINARY
    batched = bundle.score(texts, explain=False)
    alone = [bundle.score([t], explain=False)[0] for t in texts]
    assert np.allclose([s.toxicity for s in batched], [s.toxicity for s in alone])
    assert np.allclose([s.spam for s in batched], [s.spam for s in alone])


def test_empty_and_odd_input(bundle):
    scores = bundle.score(["", " ", "!!!", "😀😀😀", "a" * 5000, "1234567890"])
    assert all(0 <= s.spam <= 1 and 0 <= s.toxicity <= 1 for s in scores)


# Ordinary Kazakh comments on local news, written for this test (not the training sentences of
# debias.py), and Kazakh insults. Before the Kazakh debiasing rows, 6 of the 15 were held.
KAZAKH_ORDINARY = [
    "Мақала үшін рахмет, өте пайдалы ақпарат.",
    "Біздің ауылдағы жолдарды қашан жөндейді? Көктемнен бері күтіп жүрміз.",
    "Мектепке жаңа компьютерлер әкелгені жақсы болды, балалар қуанып жүр.",
    "Ауласында жаңа балалар алаңы салынды, рахмет әкімдікке.",
    "Бағалар тағы өсті, нан мен сүт қымбаттап кетті.",
    "Ертең ауа райы суық болады деп айтты, жылы киініңіздер.",
    "Жақсы жаңалық, құттықтаймын!",
    "Әкімнің бұл шешімі дұрыс емес деп ойлаймын, тұрғындармен ақылдасу керек еді.",
    "Автобус кестесі өзгерді ме? Бүгін бір сағат күттім.",
    "Алматыда кептеліс күн сайын көбейіп барады.",
    "Бүгінгі концерт керемет болды, әншілерге рахмет.",
    "Жаңа мектеп салынса, балалар алыс жүрмес еді.",
    "Ауруханада дәрігер жетіспейді, шешімін табу керек.",
    "Қаладағы су құбырын ауыстыру жұмыстары қашан аяқталады?",
    "Бұл жаңалықты оқып қуандым, жалғасы болсын.",
]
KAZAKH_TOXIC = [
    "Сендер ақымақсыңдар, бәрің де иттерсіңдер!",
    "Сен нағыз малсың, аузыңды жап.",
    "Сен ақылсыз ақымақсың, ешкім сені тыңдамайды.",
    "Мына журналист нағыз есек, жазғаны бос сөз.",
]


def test_ordinary_kazakh_comments_are_published(bundle):
    t = bundle.thresholds
    ordinary = bundle.score(KAZAKH_ORDINARY, explain=False)
    tox = np.array([s.toxicity for s in ordinary])
    assert np.mean(tox < t["toxicity_hold"]) >= 0.9, dict(zip(KAZAKH_ORDINARY, tox.round(2)))
    assert np.median(tox) < 0.2
    assert all(s.spam < t["spam_hold"] for s in ordinary)


# A known miss of v20261203-154254 to v20261205-112834: «Сен ақылсыз ақымақсың, …» scored 0.780 against toxicity_hold
# 0.795 in v20261205-112834 (0.776 against 0.778 in v20261205-070559). With Kazakh-only letters folded for the n-grams
# (v20261205-132823) it scores 0.804 against 0.773: held, still close to the threshold.
def test_kazakh_insults_are_held(bundle):
    t = bundle.thresholds
    toxic = np.array([s.toxicity for s in bundle.score(KAZAKH_TOXIC, explain=False)])
    # «есек» (donkey) as an insult is not in the Kazakh corpus: that one is missed (see the model card).
    assert np.sum(toxic >= t["toxicity_hold"]) >= 3, dict(zip(KAZAKH_TOXIC, toxic.round(2)))
