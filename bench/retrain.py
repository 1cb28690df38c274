"""Time the admins' retrain on 50,000 moderators' decisions, against the plain baseline fit on the same rows.

Usage: python bench/retrain.py [--n 50000] [--data DIR | --no-data] [--strategy adapter|full|best] [--database URL]

A throw-away SQLite database (or the PostgreSQL URL given) gets n generated comments with labels;
`retraining.retrain` then runs end to end as the worker runs it (labels read from the database, the
site adapter fitted, the held-out decisions and the base dev split scored, the version written) on
a copy of models/. The baseline (TF-IDF word 1-2 + char 2-5 + LogisticRegression, one model per
task as ours) is fit on the same training rows in the same process.
"""

from __future__ import annotations

import argparse
import random
import shutil
import sys
import tempfile
import time
from pathlib import Path

from flask_migrate import upgrade
from sqlalchemy import insert, select

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from moderation import create_app  # noqa: E402
from moderation.db import db, utcnow  # noqa: E402
from moderation.models import APPROVED, Comment, Label  # noqa: E402
from moderation.scoring import adapt  # noqa: E402
from moderation.scoring.baseline import make_baseline  # noqa: E402
from moderation.services import retraining, sites, users  # noqa: E402

WHO = [
    "Аким",
    "Депутат маслихата",
    "Мой сосед",
    "Водитель автобуса",
    "Директор школы",
    "Журналист",
    "Полицейский",
    "Управдом",
    "Министр",
    "Тренер сборной",
    "Врач поликлиники",
    "Продавец на базаре",
    "Инженер ТЭЦ",
    "Учитель",
]
DID = [
    "опять перепутал все цифры",
    "пообещал отремонтировать дорогу к осени",
    "рассказал о новых тарифах",
    "ответил на вопросы жителей",
    "открыл новый парк у реки",
    "не пришёл на встречу",
    "поднял цены на проезд",
    "поздравил ветеранов с праздником",
    "запретил парковку во дворе",
    "построил детскую площадку",
]
TAIL = [
    "в нашем микрорайоне",
    "на прошлой неделе",
    "уже третий раз за год",
    "прямо перед выборами",
    "и никто не удивился",
    "по данным акимата",
    "в центре Алматы",
    "после жалоб жителей",
    "",
    "",
]
OPINION = [
    "Спасибо за статью.",
    "Хорошая новость.",
    "Посмотрим, что будет дальше.",
    "Давно пора.",
    "А где деньги?",
    "Интересно, сколько это стоило.",
    "Молодцы!",
    "Надеюсь, доведут до конца.",
    "",
]
INSULTS = ["бырдык", "бырдыки", "бырдыка", "бырдыков", "идиот", "дебил", "придурок", "тупица", "клоун", "баран"]
SPAM = [
    "Заработок от 5000 в день без вложений, пишите в телеграм @easy_money_{n}",
    "Займ без отказа за 5 минут, звоните +7 701 {n:07d}",
    "Крипта растёт, вступай в канал t.me/pump_{n}",
    "Удалённая работа, доход 300 000 тенге, подробности в лс {n}",
]


def generate(n: int, seed: int = 7) -> list[tuple[str, bool, bool | None]]:
    """n (text, spam, toxic) moderators' decisions: 70% approved, 15% insults, 10% spam, 5% off-topic."""
    rng = random.Random(seed)
    rows = []
    for i in range(n):
        who, did, tail, opinion = rng.choice(WHO), rng.choice(DID), rng.choice(TAIL), rng.choice(OPINION)
        plain = " ".join(part for part in (f"{who} {did} {tail}".strip() + ".", opinion) if part)
        roll = rng.random()
        if roll < 0.70:
            rows.append((plain, False, False))
        elif roll < 0.85:
            rows.append(
                (f"{plain} {rng.choice(WHO)} {rng.choice(INSULTS)}, {rng.choice(OPINION).lower()}".strip(), False, True)
            )
        elif roll < 0.95:
            rows.append((rng.choice(SPAM).format(n=rng.randrange(10**6)), True, None))
        else:
            rows.append((f"{plain} Кстати, кто смотрел футбол вчера? {i}", False, None))
    return rows


def seed_database(app, rows):
    """Write the comments and their labels in bulk, oldest first."""
    with app.app_context():
        site, _key = sites.create_site(f"bench-{int(time.time())}")
        user = users.create_user(f"bench-{int(time.time())}", "correct horse battery", "moderator")
        now = utcnow()
        for start in range(0, len(rows), 5000):
            chunk = rows[start : start + 5000]
            db.session.execute(
                insert(Comment),
                [
                    {
                        "site_id": site.id,
                        "name": "Читатель",
                        "text": text,
                        "status": APPROVED,
                        "reasons": [],
                        "created_at": now,
                        "queued_at": now,
                    }
                    for text, _s, _t in chunk
                ],
            )
        ids = db.session.scalars(select(Comment.id).where(Comment.site_id == site.id).order_by(Comment.id)).all()
        for start in range(0, len(ids), 5000):
            db.session.execute(
                insert(Label),
                [
                    {
                        "comment_id": c,
                        "user_id": user.id,
                        "spam": rows[start + k][1],
                        "toxic": rows[start + k][2],
                        "created_at": now,
                    }
                    for k, c in enumerate(ids[start : start + 5000])
                ],
            )
        db.session.commit()


def baseline_seconds(rows) -> float:
    """Seconds to fit the baseline spam and toxicity models on the same training rows as ours."""
    train, _held = retraining.split_labels([adapt.SiteLabel(t, s, x) for t, s, x in rows])
    started = time.perf_counter()
    for pairs in adapt.task_rows(train).values():
        make_baseline().fit([t for t, _ in pairs], [y for _, y in pairs])
    return time.perf_counter() - started


def fmt(x):
    """A figure with four decimals, or a dash."""
    return "   -  " if x is None else f"{x:6.4f}"


def report(metrics):
    """Print the held-out, base dev and changed-decision figures of the new version beside the active one."""
    print(f"\nheld-out decisions: n={metrics['held_out']['n']} (trained on {metrics['labels']['train']})")
    for task in ("toxicity", "spam"):
        for name in ("active", "new"):
            m = metrics["held_out"][task][name]
            print(
                f"  {task:9} {name:6} ROC-AUC {fmt(m['roc_auc'])}  precision {fmt(m['precision'])}  "
                f"recall {fmt(m['recall'])}  (threshold {m['threshold']:.2f}, n={m['n']})"
            )
    for name, dev in (metrics.get("base_dev") or {}).items():
        print(
            f"  base dev {name:6} toxicity ROC-AUC {fmt(dev['toxicity']['roc_auc'])} F1 {fmt(dev['toxicity']['f1'])}"
            f" | forum ROC-AUC {fmt(dev['toxicity_forum']['roc_auc'])} F1 {fmt(dev['toxicity_forum']['f1'])}"
            f" | spam ROC-AUC {fmt(dev['spam']['roc_auc'])} F1 {fmt(dev['spam']['f1'])}"
            f" | ordinary flagged {fmt(dev['ordinary_ru_flagged'])}"
        )
    for warning in metrics.get("warnings") or []:
        print(f"  flagged on the models page: {warning}")
    recent = metrics["recent"]
    print(
        f"  of the last {recent['n']} decisions {recent['new']['changed']} would change "
        f"({recent['new']['toward_moderators']} toward the moderators, {recent['new']['away_from_moderators']} away)"
    )


def main(argv=None) -> int:
    """Generate the decisions, time the retrain and the baseline, print both and their ratio."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=50_000)
    parser.add_argument("--data", type=Path, default=ROOT.parent / "shared" / "data")
    parser.add_argument("--no-data", action="store_true", help="a fresh install: no base data")
    parser.add_argument("--strategy", choices=retraining.STRATEGIES, default="adapter")
    parser.add_argument("--database", help="a database URL (default: a throw-away SQLite file)")
    args = parser.parse_args(argv)
    scratch = Path(tempfile.mkdtemp(prefix="bench-retrain-"))
    try:
        models_dir, data_dir = scratch / "models", scratch / "no-data" if args.no_data else args.data
        shutil.copytree(ROOT / "models", models_dir)
        (scratch / "no-data").mkdir()
        app = create_app(
            {
                "DATABASE_URL": args.database or f"sqlite:///{scratch / 'bench.db'}",
                "SECRET_KEY": "bench",
                "MODELS_DIR": str(models_dir),
                "DATA_DIR": str(data_dir),
            }
        )
        with app.app_context():
            upgrade(directory=app.extensions["migrate"].directory)
        rows = generate(args.n)
        seed_database(app, rows)
        print(
            f"{args.n} labelled comments in {app.config['DATABASE_URL'].split(':')[0]}; base data: "
            f"{'yes' if retraining.has_base_data(data_dir) else 'no'}; strategy {args.strategy}"
        )
        steps = []
        with app.app_context():
            started = time.perf_counter()
            version, metrics = retraining.retrain(
                app.config,
                args.strategy,
                progress=lambda pct, msg=None: steps.append((time.perf_counter() - started, pct, msg)),
            )
            ours = time.perf_counter() - started
        for at, pct, msg in steps:
            print(f"  {at:6.1f}s {pct if pct is not None else '':>3} {msg or ''}")
        print(f"retrain end to end: {ours:.1f} s -> {version} ({metrics['strategy']})")
        base = baseline_seconds(rows)
        print(f"baseline TF-IDF + LogisticRegression fit, spam and toxicity, same rows: {base:.1f} s")
        print(
            f"ratio retrain / baseline fit: {ours / base:.2f}; target under 120 s: {'met' if ours < 120 else 'NOT met'}"
        )
        report(metrics)
    finally:
        shutil.rmtree(scratch, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
