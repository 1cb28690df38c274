"""Toxicity quality on comments from sources the model never trained on (leave one source out).

Usage: python bench/unseen_sites.py [--data DIR] [--no-reference]

For each held-out toxicity source S, our model (train.fit_model with the shipped settings) and
the plain TF-IDF + LogisticRegression baseline are trained on the train split of every other
source plus the debiasing sentences, ours is calibrated on the other sources' dev split, and
both score the test split of S. Ours weighs its rows by how much they resemble the unlabelled news comments, as
train_version does (until 2026-12-05 15:45 this script left them out: held-out detox measured 0.012 lower); unlike
train_version, which fits the featurizer on both tasks' train texts, it fits it on the toxicity rows used. Ours is
scored twice: the model alone, and as the service scores it,
with the long-comment rule set as train_version sets it ("+rule"); ours has the Kazakh head's threshold folded in
as train_version folds it (it moves that head's scores against the others'). The issue's target: ROC-AUC >= 0.90
on such unseen sites. With --no-reference the in-domain figures (both models trained on every source) are
skipped.
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

import numpy as np
from sklearn.metrics import average_precision_score, roc_auc_score

from moderation.scoring import train
from moderation.scoring.baseline import make_baseline
from moderation.scoring.data import Example, load_corpus
from moderation.scoring.evaluate import IN_DOMAIN_LABELS, UNLABELLED_FILE, unlabelled_texts
from moderation.scoring.features import CommentFeaturizer

ROOT = Path(__file__).resolve().parent.parent
HELD_OUT = ("ru_2ch_pikabu", "ru_detox_2022")
TARGET_AUC = 0.90


def training_rows(parts: dict, excluded: str | None, news: list[Example]) -> tuple[list[Example], list[Example]]:
    """Train rows (plus debias sentences and the hand-labelled news comments `news`) and calibration rows
    without `excluded`, as train_version picks them."""
    rows = [ex for ex in parts["train"] if ex.source != excluded]
    rows += train.debias_examples("toxicity") + news
    dev = [ex for ex in parts["dev"] if ex.source != excluded]
    return rows, train.calibration_rows("toxicity", dev) or dev


def fit_ours(
    rows: list[Example], calibration: list[Example], labelled: list[Example] | None, unlabelled: list[str] | None
):
    """Our toxicity pipeline, fitted as train_version fits it (but the featurizer on these texts only): rows
    weighted by how much they resemble the unlabelled news comments `unlabelled`, the Kazakh head's threshold folded
    in on the hand-labelled news comments `labelled`; return it with its `toxicity_hold` (None without `labelled`)."""
    featurizer = CommentFeaturizer(**train.FEATURE_SETTINGS).fit(list(dict.fromkeys(ex.text for ex in rows)))
    weights = train.news_likeness_weights(featurizer, [ex.text for ex in rows], unlabelled) if unlabelled else None
    pipeline = train.fit_model(
        featurizer, rows, calibration, train.CLASSIFIER_SETTINGS["toxicity"], train.TOXICITY_SOURCE_WEIGHTS, weights
    )
    hold = train.toxicity_news_thresholds(pipeline, labelled)["toxicity_hold"] if labelled else None
    return pipeline, hold


class WithRule:
    """Our pipeline scored as the service scores it: with the long-comment rule, set as train_version sets it on
    the unlabelled news comments."""

    def __init__(self, pipeline, hold: float, unlabelled: list[str]):
        thresholds = {"spam": 1.0, "spam_hold": 1.0, "toxicity_hold": hold}
        self.bundle = train.with_long_comment_rule({"spam": pipeline, "toxicity": pipeline}, thresholds, unlabelled)

    def predict_proba(self, texts: list[str]) -> np.ndarray:
        """[[1 - p, p]] per text, p the toxicity the service would store."""
        p = np.array([s.toxicity for s in self.bundle.score(texts, explain=False)])
        return np.column_stack([1 - p, p])


def fit_baseline(rows: list[Example]):
    """The plain TF-IDF word 1-2 + char 2-5 + LogisticRegression baseline on the same rows."""
    return make_baseline().fit([ex.text for ex in rows], [ex.label for ex in rows])


def score_into(out: dict, name: str, model, test: list[Example]) -> dict:
    """Add `name`'s ROC-AUC and average precision on `test` (and its counts) to `out`."""
    y = np.array([ex.label for ex in test])
    p = model.predict_proba([ex.text for ex in test])[:, 1]
    out.update(n=len(test), pos=int(y.sum()))
    out[f"{name}_auc"], out[f"{name}_ap"] = roc_auc_score(y, p), average_precision_score(y, p)
    return out


def evaluate(rows: list[Example], calibration: list[Example], test: list[Example], news: tuple) -> dict:
    """Fit both models, score `test` (ours also with the rule, when `news`, the labelled and the unlabelled news
    comments, are there to set it); return metrics and timings."""
    out = {}
    started = time.perf_counter()
    ours, hold = fit_ours(rows, calibration, *news)
    score_into(out, "ours", ours, test)
    out["ours_s"] = time.perf_counter() - started
    if hold is not None and news[1]:
        score_into(out, "rule", WithRule(ours, hold, news[1]), test)
    started = time.perf_counter()
    score_into(out, "base", fit_baseline(rows), test)
    out["base_s"] = time.perf_counter() - started
    return out


def format_row(label: str, m: dict) -> str:
    """One table line: counts, AUC and AP of both models, their difference and error ratio."""
    err_ratio = (1 - m["ours_auc"]) / max(1 - m["base_auc"], 1e-9)
    hit = "yes" if m["ours_auc"] >= TARGET_AUC else "no"
    return (
        f"{label:<24}{m['n']:>6}{m['pos']:>6}{m['ours_auc']:>9.4f}{m.get('rule_auc', float('nan')):>9.4f}"
        f"{m['base_auc']:>9.4f}"
        f"{m['ours_auc'] - m['base_auc']:>+8.4f}{err_ratio:>7.2f}{m['ours_ap']:>8.4f}{m['base_ap']:>8.4f}"
        f"{m['ours_auc'] / m['base_auc']:>7.3f}{hit:>5}"
        + (f"   fit+score ours {m['ours_s']:.0f}s, base {m['base_s']:.0f}s" if "ours_s" in m else "")
    )


def main() -> None:
    """Run the leave-one-source-out comparison and print the table."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, default=ROOT.parent / "shared" / "data")
    parser.add_argument("--no-reference", action="store_true", help="skip the in-domain reference rows")
    args = parser.parse_args()
    print(
        "Leave one source out: both models train on the train split of the other toxicity sources + debias "
        "sentences + hand-labelled news comments, ours calibrates on their dev split, both score the held-out "
        "source's test split."
    )
    started = time.perf_counter()
    parts = load_corpus(args.data).toxicity
    news = train.news_training_rows(args.data, ROOT / "models")
    # What sets the long-comment rule, as in train_version: the hand-labelled and the unlabelled news comments.
    rule_news = (train.news_dev_rows(args.data, ROOT / "models" / IN_DOMAIN_LABELS), unlabelled_texts(args.data))
    if None in rule_news:
        print(
            f"no hand labels or no {UNLABELLED_FILE}: ours is fitted without what the missing file sets (the labels "
            "set the Kazakh threshold, the unlabelled comments the row weights, both the rule)"
        )
    sources = sorted({ex.source for ex in parts["train"]})
    print(f"toxicity sources: {', '.join(sources)}; target ROC-AUC >= {TARGET_AUC} on unseen sources")
    settings = train.CLASSIFIER_SETTINGS["toxicity"]
    results = []
    for held in HELD_OUT:
        rows, calibration = training_rows(parts, held, news)
        test = [ex for ex in parts["test"] if ex.source == held]
        if held == settings["default_domain"]:
            print(
                f"note: default domain {held} is held out; its head learns from the debias sentences only "
                "(DomainLogit runs with the settings unchanged)"
            )
        cal_sources = sorted({ex.source for ex in calibration})
        print(f"held out {held}: train {len(rows)} rows,", end=" ")
        print(f"calibration {len(calibration)} dev rows ({', '.join(cal_sources)})")
        results.append((f"unseen {held}", evaluate(rows, calibration, test, rule_news)))
    if not args.no_reference:
        rows, calibration = training_rows(parts, None, news)
        fit_started = time.perf_counter()
        # One fit on every source serves both test splits.
        ours, hold = fit_ours(rows, calibration, *rule_news)
        shared = {"ours": ours, "base": fit_baseline(rows)}
        if hold is not None and rule_news[1]:
            shared["rule"] = WithRule(ours, hold, rule_news[1])
        fit_seconds = time.perf_counter() - fit_started
        print(f"in-domain reference: train {len(rows)} rows, both models fitted in {fit_seconds:.0f}s")
        for held in HELD_OUT:
            test = [ex for ex in parts["test"] if ex.source == held]
            m = {}
            for name, model in shared.items():
                score_into(m, name, model, test)
            results.append((f"in-domain {held}", m))
    print()
    print(
        f"{'test split of':<24}{'n':>6}{'pos':>6}{'AUC ours':>9}{'+rule':>9}{'AUC base':>9}{'dAUC':>8}{'errX':>7}"
        f"{'AP ours':>8}{'AP base':>8}{'ratio':>7}{'>=.9':>5}"
    )
    for label, m in results:
        print(format_row(label, m))
    print(
        "+rule = ours scored with the long-comment rule, as the service scores; dAUC = ours - baseline; "
        "errX = (1 - AUC ours) / (1 - AUC base); ratio = AUC ours / AUC base."
    )
    print(f"total {time.perf_counter() - started:.0f}s")


if __name__ == "__main__":
    main()
