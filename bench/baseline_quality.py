"""Held-out quality of the plain baseline, for comparison with `moderation evaluate`.

Usage: python bench/baseline_quality.py [--data DIR] [--split test|dev]

Trains TF-IDF word 1-2 + char 2-5 + LogisticRegression on the same train split as the shipped
models and prints the same table (ROC-AUC, AP, precision/recall/F1 at 0.5) per source and lang.
"""

from __future__ import annotations

import argparse
from pathlib import Path

from moderation.scoring.baseline import make_baseline
from moderation.scoring.data import load_corpus
from moderation.scoring.evaluate import format_report, grouped_metrics, spam_summary

ROOT = Path(__file__).resolve().parent.parent


def main() -> None:
    """Train the baseline for both tasks and print its held-out metrics."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, default=ROOT.parent / "shared" / "data")
    parser.add_argument("--split", choices=["test", "dev"], default="test")
    args = parser.parse_args()
    corpus = load_corpus(args.data)
    results = {"version": "baseline (threshold 0.5)", "split": args.split}
    for task, parts in (("spam", corpus.spam), ("toxicity", corpus.toxicity)):
        model = make_baseline().fit([ex.text for ex in parts["train"]], [ex.label for ex in parts["train"]])
        rows = parts[args.split]
        p = model.predict_proba([ex.text for ex in rows])[:, 1]
        results[task] = grouped_metrics(rows, p, 0.5)
        if task == "spam":
            results["summary"] = spam_summary(rows, p, {"spam": 0.5, "spam_hold": 0.5})
    print(format_report(results))


if __name__ == "__main__":
    main()
