"""Realistic data for the browser tests, written straight to the database (no worker needed).

Comments read like those of a regional news site in Kazakhstan: Russian mostly, a little Kazakh, spam in
Russian and English. Held comments carry the scores and reasons (with the spans that drove them) the
worker would have written.
"""

import random
from datetime import timedelta

from moderation.db import db, utcnow
from moderation.models import APPROVED, HELD, REJECTED, SPAM, AuditEvent, Comment, Label

MODEL_VERSION = "v20261125-093621"

ROADS = (
    "15823",
    "Аким области ответил на вопросы о ремонте дорог",
    "https://karaganda-today.kz/news/15823-akim-oblasti-otvetil-na-voprosy-o-remonte-dorog",
)
BRIDGE = (
    "15840",
    "Мост на Сатпаева закроют на ремонт до октября",
    "https://karaganda-today.kz/news/15840-most-na-satpaeva-zakroyut-na-remont",
)
TARIFFS = (
    "15851",
    "С 1 декабря в Караганде вырастут тарифы на отопление",
    "https://karaganda-today.kz/news/15851-tarify-na-otoplenie",
)

# key: (minutes ago, article, name, e-mail, IP, language, text, spam, toxicity, {reason: spans})
HELD_COMMENTS = {
    "insult": (
        24,
        ROADS,
        "Серик Ахметов",
        "serik.akhmetov@mail.kz",
        "95.56.12.40",
        "ru",
        "Автор статьи явно не понимает, о чём пишет. Дебил, а не журналист, таких увольнять надо.",
        0.04,
        0.86,
        {"toxicity": ["Дебил"]},
    ),
    "earnings": (
        7,
        TARIFFS,
        "Работа на дому",
        "dohod.online24@gmail.com",
        "185.220.101.7",
        "ru",
        "Заработок от 15 000 тенге в день без вложений! Пишите в телеграм @bystryi_dohod_kz, обучение бесплатно.",
        0.93,
        0.02,
        {"spam": ["Заработок от 15 000 тенге в день", "без вложений", "телеграм"]},
    ),
    "credit": (
        12,
        TARIFFS,
        "Кредит Онлайн",
        "kredit.bystro@yandex.ru",
        "185.220.101.9",
        "ru",
        "Кредит онлайн за 5 минут без справок и поручителей, одобрение 99%! Подробности на kredit-bystro.kz",
        0.88,
        0.01,
        {"spam": ["Кредит онлайн", "без справок", "kredit-bystro.kz"]},
    ),
    "crypto": (
        31,
        BRIDGE,
        "Crypto Master",
        "signals@cryptoprofit.example",
        "45.141.84.20",
        "en",
        "Best crypto signals in Kazakhstan, 300% profit guaranteed. Join our channel now!",
        0.81,
        0.03,
        {"spam": ["crypto signals", "profit guaranteed", "Join our channel"]},
    ),
    "threat": (
        48,
        ROADS,
        "Ержан",
        "erzhan1987@mail.ru",
        "2.133.40.17",
        "ru",
        "Таких чиновников гнать надо поганой метлой. Ещё раз увижу его у нас во дворе — пожалеет, что родился.",
        0.02,
        0.74,
        {"toxicity": ["гнать надо поганой метлой", "пожалеет, что родился"]},
    ),
    "akimat": (
        65,
        ROADS,
        "Марина К.",
        "marina.k@inbox.ru",
        "37.99.33.5",
        "ru",
        "Опять перекопали всю Гоголя, а отвечать некому. В акимате одни бездельники сидят, только деньги осваивают.",
        0.05,
        0.58,
        {"toxicity": ["бездельники"]},
    ),
    "bridge": (
        90,
        BRIDGE,
        "Галина Петровна",
        "galina.petrovna56@mail.ru",
        "92.46.150.3",
        "ru",
        "Хорошая новость, наконец-то отремонтируют мост на Сатпаева. Жаль только, что к зиме опять "
        "не успеют, как всегда.",
        0.08,
        0.41,
        {"toxicity": []},
    ),
    "kazakh": (
        130,
        TARIFFS,
        "Айгүл",
        "aigul.n@mail.kz",
        "147.30.81.2",
        "kk",
        "Жаңалық үшін рахмет! Біздің ауылда да жол жөндеу керек, әкімдік назар аударса екен.",
        0.12,
        0.37,
        {"toxicity": []},
    ),
}

# Earlier comments of some held authors, so the queue shows their record: (key, status, days ago, text).
PAST_COMMENTS = (
    ("threat", APPROVED, 9, "Дороги у нас в городе хуже, чем в селе, стыдно перед гостями."),
    ("threat", APPROVED, 6, "Правильно написали, наконец кто-то обратил внимание."),
    ("threat", REJECTED, 3, "Этих депутатов всех в шею гнать, толку ноль."),
    ("insult", APPROVED, 12, "Спасибо редакции за оперативность."),
    ("akimat", APPROVED, 20, "Когда уже во дворах освещение сделают?"),
)

PLAIN_TEXTS = (
    "Спасибо за статью, всё по делу.",
    "А когда дорогу на Юго-Восток сделают? Третий год обещают.",
    "Правильное решение, давно пора было.",
    "У нас в Темиртау то же самое, никто ничего не чинит.",
    "Хорошо, что пишете об этом, иначе никто бы не узнал.",
    "Рахмет, пайдалы ақпарат.",
    "Интересно, сколько это всё стоило бюджету?",
    "Жители сами виноваты, на собрания никто не ходит.",
)
SPAM_TEXTS = (
    "Ставки на спорт с гарантией выигрыша, пиши в личку!",
    "Cheap followers and likes, visit our site today",
    "Снять квартиру посуточно недорого, звоните 8 701 000 00 00",
)
REJECTED_TEXTS = ("Да вы там все идиоты в редакции.", "Не по теме: продам гараж в Майкудуке.")


def add_comment(
    site_id, *, name, text, status=HELD, spam=0.0, toxicity=0.0, reasons=None, created_at=None, lang="ru", **fields
):
    """One comment as the worker would have left it; the caller commits."""
    created_at = created_at or utcnow()
    reason_list = [
        {"code": code, "score": round(spam if code == "spam" else toxicity, 4), "spans": list(spans)}
        for code, spans in (reasons or {}).items()
    ]
    comment = Comment(
        site_id=site_id,
        name=name,
        text=text,
        status=status,
        spam_score=spam,
        toxicity_score=toxicity,
        risk=max(spam, toxicity),
        reasons=reason_list,
        lang=lang,
        model_version=MODEL_VERSION,
        reason_codes=f" {' '.join(r['code'] for r in reason_list)} " if reason_list else "",
        created_at=created_at,
        queued_at=created_at,
        decided_at=created_at + timedelta(seconds=2),
        **fields,
    )
    db.session.add(comment)
    return comment


def seed_queue(site_id):
    """The held comments of HELD_COMMENTS; returns their ids by key. Run inside an app context."""
    now = utcnow()
    comments = {}
    for key, (
        minutes,
        (article_id, title, url),
        name,
        email,
        ip,
        lang,
        text,
        spam,
        toxicity,
        reasons,
    ) in HELD_COMMENTS.items():
        comments[key] = add_comment(
            site_id,
            name=name,
            text=text,
            spam=spam,
            toxicity=toxicity,
            reasons=reasons,
            lang=lang,
            email=email,
            author_ip=ip,
            article_id=article_id,
            article_title=title,
            article_url=url,
            created_at=now - timedelta(minutes=minutes),
            user_agent="Mozilla/5.0 (Linux; Android 13) AppleWebKit/537.36 Chrome/126.0 Mobile Safari/537.36",
            referrer=url,
        )
    for key, status, days, text in PAST_COMMENTS:
        author = HELD_COMMENTS[key]
        add_comment(
            site_id,
            name=author[2],
            email=author[3],
            author_ip=author[4],
            text=text,
            status=status,
            toxicity=0.6 if status == REJECTED else 0.1,
            created_at=now - timedelta(days=days),
            reject_reason="insult" if status == REJECTED else None,
        )
    db.session.commit()
    return {key: comment.id for key, comment in comments.items()}


def _outcome(rng):
    """(status, text, spam, toxicity, moderated?) of a past comment: mostly fine, some spam, a few held ones."""
    roll = rng.random()
    if roll < 0.62:
        return APPROVED, rng.choice(PLAIN_TEXTS), rng.uniform(0, 0.2), rng.uniform(0, 0.2), False
    if roll < 0.84:
        return SPAM, rng.choice(SPAM_TEXTS), rng.uniform(0.8, 1), rng.uniform(0, 0.1), False
    # The filter held the doubtful ones; a moderator decided them.
    if roll < 0.93:
        return APPROVED, rng.choice(PLAIN_TEXTS), rng.uniform(0, 0.3), rng.uniform(0.35, 0.5), True
    return REJECTED, rng.choice(REJECTED_TEXTS), rng.uniform(0, 0.3), rng.uniform(0.5, 0.9), True


def seed_history(site_id, moderator_id, days=28, seed=4):
    """Decided comments over the past days, some by the filter and some by a moderator, for the statistics."""
    rng = random.Random(seed)
    now = utcnow()
    # Oldest first, so ids and audit events follow time as they would on a real site.
    moments = sorted(
        now - timedelta(days=day, minutes=rng.randint(0, 22 * 60))
        for day in range(days, 0, -1)
        for _n in range(rng.randint(6, 16))
    )
    for created in moments:
        status, text, spam, toxicity, moderated = _outcome(rng)
        comment = add_comment(
            site_id,
            name=rng.choice(("Алексей", "Нурлан", "Ольга", "Дана", "Виктор")),
            text=text,
            status=status,
            spam=spam,
            toxicity=toxicity,
            created_at=created,
            lang="kk" if text.startswith("Рахмет") else "ru",
        )
        if not moderated:
            continue
        comment.moderated_by_id = moderator_id
        comment.moderated_at = created + timedelta(minutes=rng.randint(4, 300))
        comment.reject_reason = "insult" if status == REJECTED else None
        db.session.flush()
        db.session.add(
            AuditEvent(
                user_id=moderator_id,
                action="approve" if status == APPROVED else "reject",
                comment_id=comment.id,
                from_status=HELD,
                to_status=status,
                reason=comment.reject_reason,
                created_at=comment.moderated_at,
                batch=f"seed{comment.id}",
                detail={"previous": {}},
            )
        )
        db.session.add(
            Label(
                comment_id=comment.id,
                user_id=moderator_id,
                spam=False,
                toxic=status == REJECTED,
                created_at=comment.moderated_at,
            )
        )
    db.session.commit()
