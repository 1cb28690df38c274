"""Scoring throughput of the shipped models against the plain TF-IDF + LogisticRegression baseline.

Usage: python bench/bench.py [--data DIR] [--models DIR] [--n 5000] [--single 1000]

Both are measured in this one process on one core, on the same held-out comments: the
baseline is trained here on the same train split the shipped models were trained on.
"""

from __future__ import annotations

import os

# One core: pin the numeric libraries before they are imported.
for _var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_var, "1")

import argparse  # noqa: E402
import random  # noqa: E402
import statistics  # noqa: E402
import time  # noqa: E402
from pathlib import Path  # noqa: E402

from moderation.scoring import load_active  # noqa: E402
from moderation.scoring.baseline import make_baseline  # noqa: E402
from moderation.scoring.data import load_corpus  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent


def batched_rate(score, texts: list[str], batch: int = 1000, repeat: int = 3) -> float:
    """Best-of-`repeat` comments per second when scoring in batches of `batch`."""
    best = 0.0
    for _ in range(repeat):
        start = time.perf_counter()
        for i in range(0, len(texts), batch):
            score(texts[i : i + batch])
        best = max(best, len(texts) / (time.perf_counter() - start))
    return best


def single_latency(score, texts: list[str]) -> tuple[float, float]:
    """Mean and 95th-percentile milliseconds to score one comment alone."""
    times = []
    for text in texts:
        start = time.perf_counter()
        score([text])
        times.append((time.perf_counter() - start) * 1000)
    times.sort()
    return statistics.fmean(times), times[int(0.95 * (len(times) - 1))]


def main() -> None:
    """Train the baseline, time both models, print throughput and ratios."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, default=ROOT.parent / "shared" / "data")
    parser.add_argument("--models", type=Path, default=ROOT / "models")
    parser.add_argument("--n", type=int, default=5000, help="comments for the batched runs")
    parser.add_argument("--single", type=int, default=1000, help="comments scored one at a time")
    args = parser.parse_args()

    corpus = load_corpus(args.data)
    held_out = [ex.text for ex in corpus.spam["test"]]  # includes every toxicity test comment
    random.Random(7).shuffle(held_out)
    texts, singles = held_out[: args.n], held_out[: args.single]
    mean_len = statistics.fmean(len(t) for t in texts)
    print(f"{len(texts)} held-out comments (mean {mean_len:.0f} chars), one core")

    bundle = load_active(args.models)
    print(f"shipped model {bundle.version}: spam + toxicity scored together")
    print("training the baseline (TF-IDF word 1-2 + char 2-5 + LogisticRegression) on the same train split ...")
    baselines = {}
    for task, parts in (("spam", corpus.spam), ("toxicity", corpus.toxicity)):
        rows = parts["train"]
        baselines[task] = make_baseline().fit([ex.text for ex in rows], [ex.label for ex in rows])

    def ours(batch):
        """Both scores with explanations, as the service calls it."""
        return bundle.score(batch)

    def ours_plain(batch):
        """Both scores, no explanations (CSV scoring and evaluation)."""
        return bundle.score(batch, explain=False)

    def base_one(batch):
        """The baseline's toxicity model alone."""
        return baselines["toxicity"].predict_proba(batch)

    def base_two(batch):
        """Two baseline models, to do the same job as ours."""
        return baselines["spam"].predict_proba(batch), baselines["toxicity"].predict_proba(batch)

    for fn in (ours, ours_plain, base_one, base_two):
        fn(texts[:50])  # warm caches and lazy imports

    rows = []
    for name, fn in (
        ("ours: both scores + explanations", ours),
        ("ours: both scores, no explanations", ours_plain),
        ("baseline: one model", base_one),
        ("baseline: two models (spam + toxicity)", base_two),
    ):
        rate = batched_rate(fn, texts)
        mean_ms, p95_ms = single_latency(fn, singles)
        rows.append((name, rate, mean_ms, p95_ms))
    print()
    print(f"{'':42} {'batched/s':>10} {'single ms':>10} {'p95 ms':>8}")
    for name, rate, mean_ms, p95_ms in rows:
        print(f"{name:42} {rate:10.0f} {mean_ms:10.3f} {p95_ms:8.3f}")
    print()
    for ours_row in rows[:2]:
        for base_row in rows[2:]:
            print(
                f"{ours_row[0]} vs {base_row[0]}: throughput x{ours_row[1] / base_row[1]:.2f}, "
                f"single-comment latency x{base_row[2] / ours_row[2]:.2f} faster"
            )


if __name__ == "__main__":
    main()
