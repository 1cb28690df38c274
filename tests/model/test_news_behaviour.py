"""Behavioural probes (issue 12): comments under Kazakhstan news, written for these tests.

Every text below was written for this file; none comes from the training corpora, the debiasing
rows or the held-out evaluation set. Each text is its own case, so a report can say exactly which
comments the shipped model gets wrong. Some are expected to fail: do not tune the texts to pass.
"""

import math
import re

import numpy as np
import pytest

from moderation.scoring import load_active
from moderation.scoring.predict import load_version, span_contributions
from moderation.scoring.registry import list_versions
from tests.model.test_behaviour import DISGUISES, ROOT

# 1. Ordinary political criticism, angry or sarcastic but without insults: must not be held.
POLITICAL_CRITICISM = [
    "Канада далеко, лучше бы о своих шахтёрах подумали",
    "Опять подняли тарифы на отопление, а зарплаты стоят на месте. Кто вообще считал эти цифры?",
    "Аким обещал отремонтировать мост ещё два года назад, но воз и ныне там.",
    "Браво, очередной министр ушёл в отставку и через неделю получил новую должность. Карусель какая-то.",
    "Сколько ещё шахтёров должно погибнуть, чтобы владельцы комбината начали вкладываться в безопасность?",
    "После каждого паводка обещают построить дамбы, а весной всё повторяется. Где деньги, выделенные в прошлом году?",
    "Суд опять дал условный срок за хищение миллиардов. Простому человеку за мешок картошки дали бы реальный.",
    "Пенсию проиндексировали на восемь процентов, а продукты подорожали на двадцать. Спасибо, очень заботливо.",
    "Россия, Китай, США — все хотят наши ресурсы, а мы продаём их за бесценок и радуемся.",
    "Нам не нужно вмешиваться в войну России и Украины, пусть правительство занимается своими проблемами.",
    "Почему китайские компании получают месторождения без открытого конкурса? Хотелось бы увидеть договоры.",
    "Американские гранты на развитие демократии ничего не изменили, зато отчёты получились красивые.",
    "Коррупция в акимате никуда не делась, просто её стали лучше прятать.",
    "Очень смешно: зимой отключают свет, а по телевизору рассказывают о рекордном росте экономики.",
    "Депутаты снова приняли закон, который никто не обсуждал с людьми. Зачем тогда нужны общественные слушания?",
    "Цены на бензин растут каждый месяц, хотя нефть своя. Объясните логику, господа министры.",
    "Пострадавшим от паводка до сих пор не выплатили компенсации, а наверх отчитались, что всем помогли.",
    "Каждый год одно и то же: комиссия, проверка, уволили стрелочника, а владельцы шахты ни при чём.",
    "Аким района приехал на место аварии через три дня, когда камеры уже уехали. Показательно.",
    "Судебная реформа на бумаге выглядит красиво, а на деле судьи по-прежнему ждут звонка сверху.",
    "Тарифы на воду повысили ради модернизации сетей, но трубы рвутся так же, как и десять лет назад.",
    "Пенсионный возраст для женщин подняли, а рабочих мест для людей после пятидесяти так и не появилось.",
    "Бывший аким сидит под домашним арестом в особняке, а пенсионеры стоят в очередях за льготными лекарствами. "
    "Справедливость.",
    "Москва опять указывает нам, на каком языке говорить. Пусть сначала со своими проблемами разберутся.",
    "Китайские кредиты придётся отдавать нашим детям, а те, кто их брал, давно живут в Дубае.",
    "Спасибо правительству за очередной рекорд — рекорд по росту цен на продукты.",
    "Журналисты написали о коррупции в госзакупках, и через неделю против них возбудили дело. Совпадение? Не думаю.",
    "США и Европа вводят санкции, а страдают в итоге наши экспортёры и простые работники.",
    "Сколько можно кормить обещаниями? Газ в наш посёлок тянут уже пятнадцатый год.",
    "Опять амнистия для чиновников, которые вернули часть украденного. Остальное, видимо, заслужили.",
]

# 2. A long neutral comment with exactly one insult aimed at a person: must be held.
ONE_INSULT_IN_LONG_COMMENT = [
    "Вчера ходил на собрание жильцов по поводу капитального ремонта нашего дома на улице Абая. Представитель "
    "управляющей компании полчаса рассказывал про сметы, подрядчиков и сроки, показывал какие-то графики и таблицы. "
    "Когда соседка спросила, почему крыша течёт уже третий год, этот дебил ответил, что все вопросы к акимату. "
    "В итоге договорились собраться ещё раз в следующем месяце и пригласить депутата маслихата.",
    "Прочитал статью про новые правила парковки в центре Астаны. В целом идея понятна: платные зоны, штрафы за "
    "стоянку на тротуаре, больше выделенных полос для автобусов. Но непонятно, где будут оставлять машины жители "
    "старых домов без дворов. Автор, ты идиот, если думаешь, что люди пересядут на автобусы, которые ходят раз в "
    "сорок минут. Надеюсь, акимат проведёт нормальное обсуждение с жителями.",
    "Сегодня утром в Караганде снова отключили горячую воду, на этот раз без предупреждения. Позвонил в "
    "диспетчерскую, там ответили, что идут плановые работы на теплотрассе и воду дадут к вечеру. Вечером воды так "
    "и не было. Утром позвонил снова, и какая-то мразь на том конце просто бросила трубку. Теперь пишу жалобу в "
    "акимат и в прокуратуру, посмотрим, ответят ли.",
    "На прошлой неделе возил маму в районную поликлинику на плановый осмотр. Записывались заранее через портал, "
    "пришли вовремя, но всё равно просидели в очереди почти два часа. Кабинет терапевта был закрыт, никто ничего "
    "не объяснял. Потом вышла заведующая, и эта скотина заявила, что мы сами виноваты, раз пришли к открытию. "
    "В следующий раз поедем в частную клинику, хоть это и дороже.",
    "Новость про паводки в Северо-Казахстанской области очень тяжёлая. Наши родственники в Петропавловске третий "
    "день живут у знакомых, дом подтопило до окон. Волонтёры привезли воду, одеяла и продукты, за что им огромное "
    "спасибо. А депутат, который приехал фотографироваться на фоне мешков с песком, просто урод, даже из машины "
    "толком не вышел. Надеюсь, компенсации выплатят быстро и без лишних бумаг.",
    "Читаю комментарии под этой новостью и вижу, что многие путают налог на имущество с транспортным налогом. "
    "Транспортный налог считается по объёму двигателя, а налог на имущество зависит от кадастровой стоимости "
    "квартиры. Оплатить оба можно через приложение банка до первого октября. А тот, кто выше писал, что налоги "
    "отменили, — тварь, которая специально вводит пенсионеров в заблуждение.",
    "Ездили в выходные в Бурабай всей семьёй, погода была отличная, озеро чистое, в лесу много туристов. Цены в "
    "кафе, конечно, кусаются, шашлык почти как в Алматы. На обратном пути нас остановил инспектор, полчаса "
    "проверял документы, а потом этот мудак выписал штраф за непристёгнутый ремень ребёнку, который сидел в "
    "детском кресле. Обжаловать будем через суд, фотографии есть.",
    "В нашем микрорайоне наконец открыли новую школу на тысячу двести мест. Здание светлое, есть спортзал, бассейн "
    "и столовая, учителей набрали в основном молодых. Родители довольны, что детям больше не придётся ездить через "
    "весь город. Только охранник на входе, долбоёб, не пустил родителей даже на первое сентября, требовал какой-то "
    "пропуск, которого ни у кого не было.",
    "Вчера вечером на проспекте Назарбаева произошло серьёзное ДТП с участием трёх машин. Очевидцы говорят, что "
    "водитель внедорожника ехал на красный свет с большой скоростью. К счастью, никто не погиб, но двоих "
    "пассажиров увезли в больницу. Этот урод даже не остановился и уехал с места аварии, полиция сейчас ищет его "
    "по камерам. Если кто-то видел номер, сообщите в редакцию.",
    "Смотрел вчера пресс-конференцию министра энергетики про новые тарифы на электричество. Он долго объяснял, что "
    "рост цен нужен для модернизации станций и что без этого зимой начнутся аварии. Журналисты спрашивали про "
    "сроки и конкретные объекты, но ответов почти не было. В конце этот дебил ещё и улыбнулся, сказав, что "
    "казахстанцы платят меньше всех в регионе. Посмотрим на платёжки в январе.",
    "Наш дом в Семее стоит в очереди на газификацию уже шесть лет. Каждый год приходит письмо, что работы "
    "запланированы на следующий сезон. Летом приехала бригада, раскопала всю улицу, положила трубы и исчезла. "
    "Прораб, сука, перестал брать трубку, а в акимате говорят, что подрядчик полностью выполнил обязательства. "
    "Зимой опять будем топить углём, который подорожал почти вдвое.",
    "Статья про урожай пшеницы в Костанайской области интересная, но цифры, кажется, устаревшие. В этом году "
    "собрали заметно меньше из-за июльской засухи, фермеры жалуются, что закупочные цены не покрывают затраты на "
    "топливо и удобрения. На встрече с ними глава районного отдела сельского хозяйства, идиот, посоветовал просто "
    "сажать подсолнечник вместо пшеницы, как будто это так легко.",
]

# 3. Ordinary Kazakh and code-switched Kazakh–Russian comments, some mildly critical: must be approved.
KAZAKH_NATIVE = [
    "Шахтадағы апатта қаза тапқандардың отбасыларына көңіл айтамын. Қауіпсіздік ережелерін қатаң тексеру керек.",
    "Су тасқынынан зардап шеккендерге көмек қашан жетеді? Ауылдағы үйлер әлі су астында тұр.",
    "Зейнетақы аздап өсті, бірақ дәрі-дәрмек бағасы одан да тез қымбаттап жатыр.",
    "Әкімдік жол жөндеуге көп ақша бөлді дейді, бірақ біздің көшедегі шұңқырлар әлі сол күйінде.",
    "Коммуналдық төлемдер тағы көтерілді, жалақы болса өзгерген жоқ. Үкімет бұған назар аударса екен.",
    "Сот шешімі әділ болмады деп ойлаймын, істі қайта қарау керек.",
    "Жас мамандарға ауылда жұмыс істеу үшін баспана берілсе, жақсы болар еді.",
    "Наурыз мерекесі құтты болсын! Барлығыңызға амандық пен береке тілеймін.",
    "Қытаймен жасалған келісімшарттардың мазмұнын халыққа ашық жариялау керек.",
    "Бұл мақалада бірнеше қате бар сияқты, деректерді тағы бір рет тексеріңіздерші.",
    "Емханаға жазылу үшін үш күн бойы тырыстым, электронды жүйе жиі істемейді.",
    "Шымкентте жаңа саябақ ашылғаны өте қуантады, балалармен барып қайттық.",
    "Депутаттар халықпен жиі кездесіп, ауылдың мәселелерін тыңдаса екен.",
    "Нан бағасы өсетін болса, әлеуметтік дүкендерді көбейту қажет.",
    "Біздің ауылға интернет әлі жеткен жоқ, балалар онлайн сабаққа қосыла алмай жүр.",
]
KAZAKH_MIXED = [
    "Рахмет за статью, өте пайдалы ақпарат, но цены на газ всё равно непонятные.",
    "Әкім обещал жолды жөндеуді до конца лета, қазір қазан айы, ничего не сделали.",
    "Коммуналка тағы көтерілді, зарплата на месте, қалай өмір сүреміз?",
    "Балабақшаға очередь бес жыл, это вообще нормально ма?",
    "Шахтёрлардың отбасыларына көмектесу керек, а не просто соболезнование жазу.",
    "Су тасқыны жыл сайын болады, а дамбу так и не построили, неге?",
    "Жақсы жаңалық, наконец-то біздің ауылға автобус ходит.",
    "Пенсия өсті деп жазыпты, а по факту мың теңгеге ғана өсті.",
    "Ертең тұрғындармен встреча бола ма, әлде опять перенесли?",
    "Мақала жақсы, но фото не из Астаны, бұл Алматы ғой.",
]

# 3b. Kazakh typed on a Russian keyboard, without Kazakh-only letters («жаксы» for «жақсы»), as about a fifth of the
# native Kazakh YouTube comments are: ordinary ones must be approved, insults held.
KAZAKH_RUSSIAN_KEYBOARD = [
    "Бул дурыс шешим, колдаймын",
    "Рахмет, жаксы жаналык екен",
    "Акимдик жолды калай жондейди, кашан битеди?",
    "Бизде де солай, су жок уш кун болды",
    "Балаларга мектеп керек, оны салу керек",
    "Казир бари кымбат, жалакы жетпейди",
    "Журналистке рахмет, шындыкты айттыныз",
    "Кудай сактасын, аман болындар",
    "Ауылда интернет жок, сондыктан видеоны коре алмадым",
    "Осы жобаны колдаймыз, жастарга жумыс болады",
    "Тенге тагы кулады, не болады екен",
    "Мен де сонда турамын, рас айтасыз",
    "Президент дурыс айтты",
    "Казакша сойлеу керек бари",
    "Жол салганы жаксы, бирак сапасы нашар",
]
KAZAKH_RUSSIAN_KEYBOARD_INSULTS = [
    "Акымак аким, халыкты алдаганын жетер!",
    "Онбагандар, зейнеткерлердин акшасын урладындар",
    "Депутаттар есек сиякты, окымай кол кояды",
    "Мисыз депутаттар тагы акымак зан шыгарды",
    "Арамтамактар, халыктын канын сорады",
    "Топас журналист, тексермей жазасын",
    "Ит шенеуниктер халыктын акшасын жеп отыр",
    "Малгундар, жетим балалардын акшасын жымкырдыныздар",
    "Саткын онбаган аким",
    "Хайуандар, жануарды кинап отыр",
]

# 4. Kazakh insults aimed at a person: must be held.
KAZAKH_INSULTS = [
    "Сен нағыз ақымақсың, не жазғаныңды өзің түсінесің бе?",
    "Әй, есек, аузыңды жауып отыр!",
    "Мына әкім оңбаған, халықтың ақшасын жеп қойды.",
    "Иттің баласы, тағы да өтірік жазып отырсың!",
    "Малғұн, сен сияқтылар елді құртады.",
    "Сен оңбаған неме, ұятың жоқ па?",
    "Иттің баласы сол депутат, ауылға бір рет те келген жоқ.",
    "Автор ақымақ, мақаласы да ақымақ.",
]

# 5. News-style insults and Russian spam with contacts, to be disguised by the helpers of test_behaviour.
NEWS_INSULTS = [
    "Этот депутат конченый дебил, лучше бы молчал",
    "Судья продажная мразь, позор такому суду",
    "Автор статьи тупая скотина, разберись сначала в теме",
    "Заткнись, идиот, ты ничего не знаешь о шахтёрах",
    "Пресс-секретарь акимата лживая тварь",
]
NEWS_SPAM = [
    "Работа вахтой в Астане, зарплата от 400 000 тенге, жильё и питание бесплатно! Звоните +7 701 555 12 34",
    "Крипто-сигналы с доходом 50% в неделю, вступай в канал t.me/kz_crypto_profit",
    "Онлайн казино, бонус 200% на первый депозит, промокод KZWIN, переходи на win-kz.bet",
    "Нужны курьеры, оплата каждый день от 25 000 тенге, пиши в WhatsApp +7 777 123 45 67",
    "Купи USDT по лучшему курсу без комиссии, обмен за 5 минут, пиши @kz_usdt_obmen",
]
# 6. Mat and insults with letters hidden behind symbols, as readers write them when they know a filter reads them:
# held like their plain spellings. And ordinary comments with the same symbols, which must stay approved.
MASKED_MAT = [
    "Полный п*здец с этими дорогами, каждый год одно и то же",
    "Эти с*ки опять подняли тарифы",
    "Депутаты - м*даки, ничего для людей не делают",
    "Опять нас на@@бут эти чиновники",
    "Б*ять, опять свет отключили на весь день",
    "Аким е**нутый совсем, снёс остановку зимой",
    "Да пошли они все на х*й со своими тарифами",
]
ORDINARY_WITH_MASKS = [
    "Ну да...а утром опять пробки на Абая",
    "М...да, дела у нас в акимате",
    "О...я тоже так думал, пока не прочитал статью",
    "У...на нашей улице опять нет света",
    "Так...вот, опять тарифы подняли, а зарплаты те же",
    "Зам*чательно, что наконец отремонтировали школу в нашем районе",
    "Сбер#банк опять поднял комиссию за переводы",
]
# 7. What readers append to a comment and which says nothing of an insult: the handle it answers, a source, emoji.
# Appended to an insult, none lowers its log-odds by more than 0.3 (what is left: the word pairs the link placeholder
# forms with its neighbours, -0.24 at most in v20261205-112834). The insults of 5 and weaker ones, which score near
# the threshold; v20261205-070559 lost 0.76-1.02 with a link appended (0.80 -> 0.65 and 0.79 -> 0.57 for the first
# two), 0.23-0.46 with a handle, up to 0.32 with emoji.
TRAILERS = [" @aidar_kz_2024", " https://tengrinews.kz/kazakhstan_news/tarify-2026", " 😂😂😂"]
WEAKER_INSULTS = [
    "Министр энергетики пустое место и лжец",
    "Позорище, а не полиция",
    "Чиновники-воры, чтоб вам пусто было",
    "Автор, ты бы хоть немного думал головой, балбес",
]

KAZAKH_LETTERS = set("әғқңөұүһіӘҒҚҢӨҰҮҺІ")


def cases(prefix, texts):
    return [pytest.param(text, id=f"{prefix}{i:02d}") for i, text in enumerate(texts, 1)]


def plain(text):
    return text


@pytest.fixture(scope="module")
def bundle():
    return load_active(ROOT / "models")


# What the shipped version still gets wrong (models/README.md, "Known weak spots"): each is an expected
# failure that must keep failing (strict), so a version that fixes one makes the suite say so.
KNOWN_MISSES = {
    "kk_insult01": "«иттің баласы» is in no training source",
    "kk_insult04": "«иттің баласы» is in no training source",
    "kk_insult07": "a Kazakh insult in a short comment scores below the Kazakh head's threshold, set to hold "
    "5% of ordinary Kazakh news comments",
    "kk_keyboard14": "«everyone must speak Kazakh», an opinion on language without an insult, scores as ethnic talk",
}


@pytest.fixture(autouse=True)
def known_misses(request):
    """Mark the cases listed in KNOWN_MISSES as expected (strict) failures."""
    case = getattr(getattr(request.node, "callspec", None), "id", None)
    if case in KNOWN_MISSES:
        request.applymarker(pytest.mark.xfail(strict=True, reason=KNOWN_MISSES[case]))


def score(bundle, text):
    return bundle.score([text], explain=False)[0]


def log_odds(p):
    p = min(max(p, 1e-9), 1 - 1e-9)
    return math.log(p / (1 - p))


def test_probe_sets_are_as_the_issue_asks():
    assert len(POLITICAL_CRITICISM) >= 25
    assert any("Канада далеко, лучше бы о своих шахтёрах подумали" in t for t in POLITICAL_CRITICISM)
    assert len(ONE_INSULT_IN_LONG_COMMENT) >= 10
    for text in ONE_INSULT_IN_LONG_COMMENT:
        assert 40 <= len(re.findall(r"\w[\w-]*", text)) <= 80, text
    assert len(KAZAKH_NATIVE) >= 12 and len(KAZAKH_MIXED) >= 8
    for text in KAZAKH_NATIVE + KAZAKH_MIXED:
        assert KAZAKH_LETTERS & set(text), text
    assert len(KAZAKH_INSULTS) >= 6
    assert len(KAZAKH_RUSSIAN_KEYBOARD) >= 12 and len(KAZAKH_RUSSIAN_KEYBOARD_INSULTS) >= 8
    for text in KAZAKH_RUSSIAN_KEYBOARD + KAZAKH_RUSSIAN_KEYBOARD_INSULTS:
        assert not KAZAKH_LETTERS & set(text) and not re.search("[A-Za-z]", text), text
    assert len(NEWS_INSULTS) >= 4 and len(NEWS_SPAM) >= 4


@pytest.mark.parametrize("text", cases("politics", POLITICAL_CRITICISM))
def test_political_criticism_without_insults_is_not_held(bundle, text):
    s = score(bundle, text)
    assert s.toxicity < bundle.thresholds["toxicity_hold"], (text, round(s.toxicity, 3))


@pytest.mark.parametrize("text", cases("long", ONE_INSULT_IN_LONG_COMMENT))
def test_one_insult_in_a_long_neutral_comment_is_held(bundle, text):
    s = score(bundle, text)
    assert s.toxicity >= bundle.thresholds["toxicity_hold"], (text, round(s.toxicity, 3))


@pytest.mark.parametrize(
    "text", cases("kk", KAZAKH_NATIVE) + cases("mixed", KAZAKH_MIXED) + cases("kk_keyboard", KAZAKH_RUSSIAN_KEYBOARD)
)
def test_ordinary_kazakh_and_code_switched_comments_are_approved(bundle, text):
    s = score(bundle, text)
    assert bundle.decide(s) == "approved", (text, round(s.spam, 3), round(s.toxicity, 3))


@pytest.mark.parametrize(
    "text", cases("kk_insult", KAZAKH_INSULTS) + cases("kk_keyboard_insult", KAZAKH_RUSSIAN_KEYBOARD_INSULTS)
)
def test_kazakh_insults_are_held(bundle, text):
    s = score(bundle, text)
    assert s.toxicity >= bundle.thresholds["toxicity_hold"], (text, round(s.toxicity, 3))


def test_each_shipped_version_folds_kazakh_letters_as_it_was_trained():
    """The rollback target, trained before the fold, must compute as it did: its featurizers load with it off."""
    for manifest in list_versions(ROOT / "models"):
        expected = manifest["features"].get("fold_kazakh_letters", False)
        bundle = load_version(ROOT / "models", manifest["version"])
        for featurizer in bundle.featurizers.values():
            assert featurizer.get_params()["fold_kazakh_letters"] is expected, manifest["version"]


def test_explanations_weigh_both_spellings_of_a_kazakh_insult_alike(bundle):
    featurizer, head = bundle.featurizers["toxicity"], bundle.heads["toxicity"]
    assert featurizer.get_params()["fold_kazakh_letters"]
    kazakh_head = np.array([1, 1])
    _, _, weights = span_contributions(["оңбағандар", "онбагандар"], featurizer, head, kazakh_head, [True, True])
    assert weights[0] > 0 and weights[0] == pytest.approx(weights[1])


# `plain` is the undisguised baseline, so a failure can be told apart from a disguise failure.
@pytest.mark.parametrize("disguise", [plain] + DISGUISES, ids=lambda f: f.__name__)
@pytest.mark.parametrize("text", cases("insult", NEWS_INSULTS))
def test_disguised_news_insults_are_still_held(bundle, text, disguise):
    hidden = disguise(text)
    s = score(bundle, hidden)
    assert s.toxicity >= bundle.thresholds["toxicity_hold"], (hidden, round(s.toxicity, 3))


@pytest.mark.parametrize("trailer", TRAILERS, ids=("handle", "link", "emoji"))
@pytest.mark.parametrize("text", cases("insult", NEWS_INSULTS) + cases("weaker", WEAKER_INSULTS))
def test_a_handle_a_link_or_emoji_appended_does_not_soften_an_insult(bundle, text, trailer):
    plain, trailed = (log_odds(score(bundle, t).toxicity) for t in (text, text + trailer))
    assert trailed >= plain - 0.3, (text + trailer, round(plain, 2), round(trailed, 2))


@pytest.mark.parametrize("text", cases("masked", MASKED_MAT))
def test_masked_mat_is_held(bundle, text):
    s = score(bundle, text)
    assert s.toxicity >= bundle.thresholds["toxicity_hold"], (text, round(s.toxicity, 3))


@pytest.mark.parametrize("text", cases("masks", ORDINARY_WITH_MASKS))
def test_ordinary_comments_with_mask_symbols_are_approved(bundle, text):
    s = score(bundle, text)
    assert bundle.decide(s) == "approved", (text, round(s.spam, 3), round(s.toxicity, 3))


@pytest.mark.parametrize("disguise", [plain] + DISGUISES, ids=lambda f: f.__name__)
@pytest.mark.parametrize("text", cases("spam", NEWS_SPAM))
def test_disguised_news_spam_is_still_caught(bundle, text, disguise):
    hidden = disguise(text)
    s = score(bundle, hidden)
    assert s.spam >= bundle.thresholds["spam_hold"], (hidden, round(s.spam, 3))
