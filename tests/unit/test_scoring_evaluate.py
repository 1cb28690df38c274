"""Metrics, splits and CSV scoring."""

import csv
import hashlib
import json
from pathlib import Path

import numpy as np
import pytest

from moderation.scoring import Score, decide, load_active, score_csv
from moderation.scoring.data import Example, split_of
from moderation.scoring.evaluate import (
    ORDINARY_RU,
    SPAM_RU,
    LabelJoinError,
    binary_metrics,
    caught_at_held,
    evaluate,
    evaluate_bundle,
    format_report,
    grouped_metrics,
    spam_summary,
)

from ..conftest import unavailable
from .test_scoring_registry import models_dir  # noqa: F401  (fixture)


def test_binary_metrics():
    m = binary_metrics(np.array([1, 1, 0, 0]), np.array([0.9, 0.4, 0.6, 0.1]), 0.5)
    assert m["roc_auc"] == 0.75 and m["precision"] == 0.5 and m["recall"] == 0.5 and m["f1"] == 0.5
    assert binary_metrics(np.array([0, 0]), np.array([0.9, 0.1]), 0.5)["roc_auc"] is None


def test_grouped_metrics_per_source_and_lang():
    rows = [Example("a", 1, "s1", "ru"), Example("b", 0, "s1", "ru"), Example("c", 0, "s2", "kk")]
    out = grouped_metrics(rows, np.array([0.9, 0.2, 0.7]), 0.5)
    assert set(out["by_source"]) == {"s1", "s2"} and set(out["by_lang"]) == {"ru", "kk"}
    assert out["by_source"]["s2"]["flagged_share"] == 1.0


def test_split_is_deterministic_and_keeps_groups_together():
    a = Example("ты дурак", 1, "ru_detox_2022", "ru", "g1")
    b = Example("ты неправ", 0, "ru_detox_2022", "ru", "g1")
    assert split_of(a) == split_of(b) == split_of(a)
    parts = [split_of(Example(f"text {i}", 0, "src", "ru")) for i in range(2000)]
    assert 0.6 < parts.count("train") / 2000 < 0.8 and parts.count("test") > 200


def test_score_csv(models_dir, tmp_path):  # noqa: F811
    src, out = tmp_path / "in.csv", tmp_path / "out.csv"
    with open(src, "w", encoding="utf-8", newline="") as fh:
        w = csv.writer(fh)
        w.writerow(["id", "name", "text"])
        w.writerow(["1", "Аня", "спасибо за статью"])
        w.writerow(["2", "Bot", "доход от 5000 в день пишите в телеграм"])
        w.writerow(["3", "", ""])
    assert score_csv(load_active(models_dir), src, out) == 3
    rows = list(csv.DictReader(open(out, encoding="utf-8")))
    assert [r["id"] for r in rows] == ["1", "2", "3"]
    assert all(r["decision"] in {"approved", "held", "spam"} for r in rows)
    assert all(0 <= float(r["spam"]) <= 1 and 0 <= float(r["toxicity"]) <= 1 for r in rows)


def test_score_csv_names_a_row_with_more_fields_than_the_header(models_dir, tmp_path):  # noqa: F811
    src = tmp_path / "in.csv"
    src.write_text("name,text\nАня,спасибо\nBot,работа, доход от 5000\n", encoding="utf-8")
    with pytest.raises(ValueError, match="line 3: more fields than the header"):
        score_csv(load_active(models_dir), src, tmp_path / "out.csv")


# --- Operating figures: ordinary comments held, toxic comments caught, the in-domain news comments.

ROOT = Path(__file__).resolve().parents[2]
STUB_THRESHOLDS = {"spam": 0.5, "spam_hold": 0.3, "toxicity_hold": 0.5}


class StubBundle:
    """Scores looked up by text, so every decision of a test is known in advance; the real decide()."""

    version = "stub"
    thresholds = STUB_THRESHOLDS

    def __init__(self, scores):
        self.scores = scores  # text -> (spam, toxicity)

    def score(self, texts, names=None, explain=True):
        return [Score(*self.scores.get(t, (0.0, 0.0))) for t in texts]

    def decide(self, score):
        return decide(score.spam, score.toxicity, self.thresholds)


def in_test_split(source, lang, n, prefix):
    """n distinct texts that land in the test split for this source."""
    out, i = [], 0
    while len(out) < n:
        text = f"{prefix} {i}"
        if split_of(Example(text, 0, source, lang)) == "test":
            out.append(text)
        i += 1
    return out


def write_csv(path, header, rows):
    with open(path, "w", encoding="utf-8", newline="") as fh:
        writer = csv.writer(fh)
        writer.writerow(header)
        writer.writerows(rows)


def sha1(text):
    return hashlib.sha1(text.encode("utf-8")).hexdigest()


def test_caught_at_held_holds_at_most_the_budget_of_ordinary_comments():
    ordinary = [i / 100 for i in range(1, 21)]  # 20 ordinary comments: 5% is one of them (0.20)
    toxic = [0.5, 0.195, 0.19, 0.1]
    y = np.array([0] * 20 + [1] * 4)
    out = caught_at_held(y, np.array(ordinary + toxic), 0.05)
    assert out["held"] == 0.05 and out["caught"] == 0.5  # 0.5 and 0.195 score above 0.19; 0.19 itself does not
    assert 0.19 < out["threshold"] <= 0.195
    # Ties: the two top ordinary comments share a score, so holding one means holding both (10%):
    # nothing ordinary may be held, and only toxic comments above 0.3 are caught.
    tied = caught_at_held(np.array([0] * 20 + [1, 1]), np.array([0.3, 0.3] + [0.1] * 18 + [0.4, 0.3]), 0.05)
    assert tied["held"] == 0.0 and tied["caught"] == 0.5
    # Weights: an ordinary comment weighing 1 of 20 (5%) may be held, one weighing 2 of 20 may not.
    weighted = caught_at_held(np.array([0, 0, 1]), np.array([0.9, 0.1, 0.5]), 0.05, np.array([1.0, 19.0, 1.0]))
    assert weighted["held"] == 0.05 and weighted["caught"] == 1.0
    weighted = caught_at_held(
        np.array([0, 0, 1, 1]), np.array([0.9, 0.1, 0.5, 0.95]), 0.05, np.array([2.0, 18.0, 1.0, 1.0])
    )
    assert weighted["held"] == 0.0 and weighted["caught"] == 0.5
    assert caught_at_held(np.array([0, 0]), np.array([0.1, 0.2]))["caught"] is None


def test_spam_summary_covers_the_admissions_ham_and_the_extra_spam():
    rows = [
        Example("a", 0, "ru_2ch_pikabu", "ru"),
        Example("b", 0, "ru_tg_admissions", "ru"),
        Example("c", 0, "ru_tg_admissions", "ru"),
        Example("d", 1, "ru_tg_spam_extra", "ru"),
        Example("e", 1, "ru_tg_chat", "ru"),
        Example("f", 0, "ru_tg_chat", "ru"),
    ]
    p = np.array([0.1, 0.6, 0.4, 0.9, 0.2, 0.9])
    sm = spam_summary(rows, p, STUB_THRESHOLDS)
    assert "ru_tg_admissions" in ORDINARY_RU and "ru_tg_spam_extra" in SPAM_RU
    assert sm["ordinary_ru_n"] == 3 and sm["ordinary_ru_flagged_at_spam"] == 1 / 3  # ru_tg_chat ham is not counted
    assert sm["ordinary_ru_flagged_at_spam_hold"] == 2 / 3
    assert sm["spam_ru_n"] == 2 and sm["spam_ru_caught_at_spam"] == 0.5
    assert sm["groups"]["ordinary_ru_chat"] == {
        "sources": ["ru_tg_admissions"],
        "label": 0,
        "n": 2,
        "at_spam": 0.5,
        "at_spam_hold": 1.0,
    }
    assert sm["groups"]["ordinary_ru_forum"]["at_spam_hold"] == 0.0
    assert sm["by_source"]["ru_tg_spam_extra"]["at_spam"] == 1.0 and sm["by_source"]["ru_tg_chat"]["n"] == 1


@pytest.fixture
def stub_data(tmp_path):
    """A tiny data dir (all rows in the test split) and the stub scores of every row."""
    scores = {}
    # Toxicity: tox_ru has 4 ordinary comments (approved, held for toxicity, held for spam, sent to spam)
    # and 2 toxic ones (one caught); tox_kk has 20 ordinary comments scoring 0.01 .. 0.20 and 4 toxic.
    ru_ord, ru_tox = in_test_split("tox_ru", "ru", 4, "ru ok"), in_test_split("tox_ru", "ru", 2, "ru bad")
    scores.update(zip(ru_ord, [(0.1, 0.1), (0.1, 0.6), (0.35, 0.1), (0.9, 0.1)]))
    scores.update(zip(ru_tox, [(0.0, 0.8), (0.0, 0.4)]))
    kk_ord, kk_tox = in_test_split("tox_kk", "kk", 20, "kk ok"), in_test_split("tox_kk", "kk", 4, "kk bad")
    scores.update((t, (0.0, i / 100)) for i, t in enumerate(kk_ord, start=1))
    scores.update(zip(kk_tox, [(0.0, 0.5), (0.0, 0.195), (0.0, 0.19), (0.0, 0.1)]))
    write_csv(
        tmp_path / "toxicity.csv",
        ["text", "toxic", "source", "lang", "group"],
        [[t, 0, "tox_ru", "ru", ""] for t in ru_ord]
        + [[t, 1, "tox_ru", "ru", ""] for t in ru_tox]
        + [[t, 0, "tox_kk", "kk", ""] for t in kk_ord]
        + [[t, 1, "tox_kk", "kk", ""] for t in kk_tox],
    )
    # Spam: 2 admissions ham (one held), 1 extra spam (sent to spam).
    ham, extra = in_test_split("ru_tg_admissions", "ru", 2, "ham"), in_test_split("ru_tg_spam_extra", "ru", 1, "buy")
    scores.update(zip(ham, [(0.05, 0.0), (0.45, 0.0)]))
    scores[extra[0]] = (0.95, 0.0)
    write_csv(
        tmp_path / "spam.csv",
        ["text", "spam", "source", "lang", "group"],
        [[t, 0, "ru_tg_admissions", "ru", ""] for t in ham] + [[extra[0], 1, "ru_tg_spam_extra", "ru", ""]],
    )
    # Unlabelled news comments: rows 0-3, 6, 7 ru; 4, 5 kk; 8 other.
    news = [
        ("n0 toxic", "ru", (0.0, 0.9)),
        ("n1 fine", "ru", (0.0, 0.1)),
        ("n2 fine but held", "ru", (0.0, 0.6)),
        ("n3 unsure", "ru", (0.0, 0.7)),
        ("n4 toxic missed", "kk", (0.0, 0.3)),
        ("n5 fine", "kk", (0.0, 0.2)),
        ("n6 ad", "ru", (0.8, 0.0)),
        ("n7 fine", "ru", (0.0, 0.0)),
        ("n8 emoji", "other", (0.4, 0.0)),
    ]
    scores.update((text, s) for text, _, s in news)
    write_csv(
        tmp_path / "unlabelled_comments.csv",
        ["text", "source", "lang"],
        [[text, "news", lang] for text, lang, _ in news],
    )
    labels = tmp_path / "labels.csv"
    write_csv(
        labels,
        ["row", "sha1", "lang", "toxic", "spam", "uncertain", "note"],
        [
            [0, sha1("n0 toxic"), "ru", 1, 0, 0, ""],
            [1, sha1("n1 fine"), "ru", 0, 0, 0, ""],
            [2, sha1("n2 fine but held"), "mixed", 0, 0, 0, ""],
            [3, sha1("n3 unsure"), "ru", 1, 0, 1, "hm"],
            [4, sha1("n4 toxic missed"), "kk", 1, 0, 0, ""],
            [5, sha1("n5 fine"), "kk", 0, 0, 0, ""],
        ],
    )
    return tmp_path, labels, StubBundle(scores)


def test_held_ordinary_and_caught_per_source(stub_data):
    data_dir, labels, bundle = stub_data
    results = evaluate_bundle(bundle, data_dir, labels_path=labels)
    tox = results["held_ordinary"]["toxicity"]["by_source"]["tox_ru"]
    assert tox == {"n": 4, "held": 0.75, "held_toxicity": 0.25, "held_spam": 0.5, "spam": 0.25}
    assert results["held_ordinary"]["toxicity"]["by_lang"]["kk"]["held"] == 0.0
    spam = results["held_ordinary"]["spam"]
    assert set(spam["by_source"]) == {"ru_tg_admissions"}  # neither the toxicity corpora nor the spam rows
    assert spam["by_source"]["ru_tg_admissions"] == {
        "n": 2,
        "held": 0.5,
        "held_toxicity": 0.0,
        "held_spam": 0.5,
        "spam": 0.0,
    }
    caught = results["caught_at_held"]["by_source"]
    assert caught["tox_kk"]["at_budget"]["held"] == 0.05 and caught["tox_kk"]["at_budget"]["caught"] == 0.5
    assert caught["tox_kk"]["caught"] == 0.25 and caught["tox_kk"]["held_ordinary"] == 0.0
    assert caught["tox_ru"]["held_ordinary"] == 0.75 and caught["tox_ru"]["held_ordinary_toxicity"] == 0.25
    # 4 ordinary ru comments: 5% of them is none, so t is above the top ordinary toxicity (0.6).
    assert caught["tox_ru"]["at_budget"]["held"] == 0.0 and caught["tox_ru"]["at_budget"]["caught"] == 0.5
    assert results["caught_at_held"]["by_lang"]["kk"] == caught["tox_kk"]
    summary = results["summary"]["groups"]
    assert summary["ordinary_ru_chat"]["at_spam_hold"] == 0.5 and summary["spam_ru"]["at_spam"] == 1.0


def test_unlabelled_and_in_domain_figures(stub_data):
    data_dir, labels, bundle = stub_data
    results = evaluate_bundle(bundle, data_dir, labels_path=labels)
    news = results["unlabelled"]
    assert news["overall"]["n"] == 9 and news["overall"]["held"] == 5 / 9  # rows 0, 2, 3, 6, 8
    assert news["by_lang"]["ru"] == {"n": 6, "held": 4 / 6, "held_toxicity": 3 / 6, "held_spam": 1 / 6, "spam": 1 / 6}
    assert news["by_lang"]["kk"]["held"] == 0.0
    assert news["by_lang"]["other"] == {"n": 1, "held": 1.0, "held_toxicity": 0.0, "held_spam": 1.0, "spam": 0.0}

    dom = results["in_domain"]
    assert dom["n"] == 6 and dom["uncertain"] == 1
    overall = dom["overall"]  # rows 0, 1, 2, 4, 5: toxic 0.9 and 0.3, ordinary 0.1, 0.6, 0.2
    assert (overall["n"], overall["toxic"], overall["uncertain"]) == (5, 2, 1)
    assert overall["roc_auc"] == pytest.approx(5 / 6)
    assert overall["held_ordinary"] == pytest.approx(1 / 3) and overall["caught"] == 0.5
    assert overall["precision"] == overall["recall"] == overall["f1"] == 0.5
    assert overall["at_budget"]["held"] == 0.0 and overall["at_budget"]["caught"] == 0.5  # only 0.9 is above 0.6
    ru, kk = dom["by_file_lang"]["ru"], dom["by_file_lang"]["kk"]
    assert (ru["n"], ru["uncertain"], ru["roc_auc"], ru["held_ordinary"], ru["caught"]) == (3, 1, 1.0, 0.5, 1.0)
    assert (kk["n"], kk["roc_auc"], kk["held_ordinary"], kk["caught"]) == (2, 1.0, 0.0, 0.0)
    assert set(dom["by_labeller_lang"]) == {"ru", "kk", "mixed"} and dom["by_labeller_lang"]["mixed"]["n"] == 1
    # Strata: 6 ru rows in the file, 4 sampled -> 1.5; 2 kk of 2 -> 1.
    assert dom["strata_weights"] == {"kk": 1.0, "ru": 1.5}
    weighted = dom["overall_weighted"]
    assert weighted["held_ordinary"] == pytest.approx(1.5 / 4) and weighted["caught"] == pytest.approx(1.5 / 2.5)
    assert dom["spam"]["spam"]["positives"] == 0 and dom["spam"]["spam"]["flagged_share"] == 0.0

    report = format_report(results)
    for title in (
        "[held ordinary comments]",
        "[toxic caught at 5% held]",
        "[unlabelled news comments]",
        "[in-domain news comments, hand-labelled]",
        "[spam targets]",
        "[toxicity]",
        "spam: no spam labels",
    ):
        assert title in report
    assert "ru_tg_admissions" in report and "ru_tg_spam_extra" in report
    json.dumps(results)  # --json writes it as it is


def test_in_domain_join_fails_loudly_on_a_sha1_mismatch(stub_data):
    data_dir, labels, bundle = stub_data
    text = labels.read_text(encoding="utf-8").replace(sha1("n5 fine"), sha1("n5 fine, edited"))
    labels.write_text(text, encoding="utf-8")
    with pytest.raises(LabelJoinError, match=r"1 problem.*line 7: row 5 has sha1"):
        evaluate_bundle(bundle, data_dir, labels_path=labels)
    labels.write_text(text.replace("\n5,", "\n50,"), encoding="utf-8")
    with pytest.raises(LabelJoinError, match="row 50 is not in"):
        evaluate_bundle(bundle, data_dir, labels_path=labels)


def test_news_sections_are_skipped_without_their_files(stub_data):
    data_dir, labels, bundle = stub_data
    results = evaluate_bundle(bundle, data_dir, labels_path=data_dir / "missing.csv")
    assert "skipped" in results["in_domain"] and results["unlabelled"]["overall"]["n"] == 9
    (data_dir / "unlabelled_comments.csv").unlink()
    results = evaluate_bundle(bundle, data_dir, labels_path=labels)
    assert "skipped" in results["unlabelled"] and "skipped" in results["in_domain"]
    report = format_report(results)
    assert "[unlabelled news comments] skipped: no file" in report
    assert "[in-domain news comments, hand-labelled] skipped" in report


def test_evaluate_with_the_shipped_model(stub_data):
    """The shipped model on the tiny data: the figures match its own decisions row by row."""
    data_dir, labels, _ = stub_data
    clean = "Спасибо за статью, очень полезная информация о ремонте дорог в Алматы."
    toxic = "Ты тупой дебил, заткнись уже, идиот"
    spam = "Пpeдлaгaeм yдaлённyю paбoтy, дoхoд от 5000 рyб в день! Пишите в тeлeгpaм @easy_money_bot"
    texts = [clean, toxic, spam, clean + " Жду продолжения."]
    write_csv(data_dir / "unlabelled_comments.csv", ["text", "source", "lang"], [[t, "news", "ru"] for t in texts])
    write_csv(
        labels,
        ["row", "sha1", "lang", "toxic", "spam", "uncertain", "note"],
        [[i, sha1(t), "ru", int(t == toxic), int(t == spam), 0, ""] for i, t in enumerate(texts)],
    )
    models = ROOT / "models"
    bundle = load_active(models)
    decisions = [bundle.decide(s) for s in bundle.score(texts, explain=False)]
    assert decisions[:3] == ["approved", "held", "spam"]  # as the behaviour tests require
    results = evaluate(models, data_dir, labels_path=labels)
    assert results["version"] == bundle.version
    assert results["unlabelled"]["by_lang"]["ru"]["held"] == np.mean([d != "approved" for d in decisions])
    assert results["unlabelled"]["by_lang"]["ru"]["spam"] == 0.25
    dom = results["in_domain"]["overall"]
    assert dom["toxic"] == 1 and dom["caught"] == 1.0
    assert dom["held_ordinary"] == np.mean([d != "approved" for t, d in zip(texts, decisions) if t != toxic])
    assert results["in_domain"]["spam"]["spam"]["positives"] == 1
    assert "spam labels:" in format_report(results)


def test_news_training_rows_join_by_sha1_and_never_overlap_the_evaluation_set(stub_data, tmp_path_factory):
    from moderation.scoring.evaluate import IN_DOMAIN_LABELS
    from moderation.scoring.train import NEWS_TRAIN_LABELS, news_training_rows

    data_dir, labels, _ = stub_data
    models = tmp_path_factory.mktemp("models")
    assert news_training_rows(data_dir, models) == []  # no label file: nothing to add
    (models / IN_DOMAIN_LABELS).parent.mkdir()
    (models / IN_DOMAIN_LABELS).write_bytes(labels.read_bytes())  # evaluation rows 0-5
    (models / NEWS_TRAIN_LABELS).parent.mkdir()
    header = ["row", "sha1", "lang", "toxic", "uncertain", "note"]
    write_csv(
        models / NEWS_TRAIN_LABELS,
        header,
        [
            [6, sha1("n6 ad"), "ru", 0, 0, ""],
            [7, sha1("n7 fine"), "ru", 1, 1, "hm"],
            [8, sha1("n8 emoji"), "other", 1, 0, ""],
        ],
    )
    rows = news_training_rows(data_dir, models)  # the uncertain row 7 is left out
    assert [(ex.text, ex.label, ex.source, ex.lang) for ex in rows] == [
        ("n6 ad", 0, "news_labelled", "ru"),
        ("n8 emoji", 1, "news_labelled", "other"),
    ]
    write_csv(models / NEWS_TRAIN_LABELS, header, [[5, sha1("n5 fine"), "kk", 0, 0, ""]])
    with pytest.raises(ValueError, match=r"share 1 row\(s\), e.g. \[5\]"):
        news_training_rows(data_dir, models)
    write_csv(models / NEWS_TRAIN_LABELS, header, [[6, sha1("n6 edited"), "ru", 0, 0, ""]])
    with pytest.raises(LabelJoinError, match="row 6 has sha1"):
        news_training_rows(data_dir, models)


def test_the_shipped_training_labels_match_the_data_and_stay_out_of_the_evaluation_set():
    from moderation.scoring.train import news_training_rows

    data_dir = ROOT.parent / "shared" / "data"
    if not (data_dir / "unlabelled_comments.csv").exists():
        unavailable("../shared/data is not beside the checkout")
    rows = news_training_rows(data_dir, ROOT / "models")
    assert len(rows) == 2677 - 376 and sum(ex.label for ex in rows) == 383 - 153  # the uncertain ones left out
