"""Metrics, splits and CSV scoring."""
import csv

import numpy as np
import pytest

from moderation.scoring import load_active, score_csv
from moderation.scoring.data import Example, split_of
from moderation.scoring.evaluate import binary_metrics, grouped_metrics

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
