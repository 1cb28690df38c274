"""Held-out metrics per source and language, and scoring of CSV files."""
from __future__ import annotations

import csv
from collections import defaultdict
from pathlib import Path

import numpy as np
from sklearn.metrics import average_precision_score, roc_auc_score

from .data import Example, load_corpus
from .predict import ModelBundle, load_active, load_version


def binary_metrics(y: np.ndarray, p: np.ndarray, threshold: float) -> dict:
    """ROC-AUC, average precision, and precision/recall/F1 of `p >= threshold` against labels `y`."""
    y = np.asarray(y, dtype=int)
    p = np.asarray(p, dtype=float)
    flagged = p >= threshold
    tp = int((flagged & (y == 1)).sum())
    fp = int((flagged & (y == 0)).sum())
    fn = int((~flagged & (y == 1)).sum())
    both = 0 < y.sum() < len(y)
    precision = tp / (tp + fp) if tp + fp else 0.0
    recall = tp / (tp + fn) if tp + fn else 0.0
    return {
        "n": int(len(y)),
        "positives": int(y.sum()),
        "roc_auc": float(roc_auc_score(y, p)) if both else None,
        "average_precision": float(average_precision_score(y, p)) if both else None,
        "threshold": float(threshold),
        "precision": precision,
        "recall": recall,
        "f1": 2 * precision * recall / (precision + recall) if precision + recall else 0.0,
        # For all-negative groups (ordinary comments) this is the false-positive rate.
        "flagged_share": float(flagged.mean()) if len(y) else 0.0,
    }


def grouped_metrics(examples: list[Example], p: np.ndarray, threshold: float) -> dict:
    """Metrics overall, per source and per language."""
    y = np.array([ex.label for ex in examples])
    out = {"overall": binary_metrics(y, p, threshold), "by_source": {}, "by_lang": {}}
    for key, attr in (("by_source", "source"), ("by_lang", "lang")):
        groups = defaultdict(list)
        for i, ex in enumerate(examples):
            groups[getattr(ex, attr)].append(i)
        for name, idx in sorted(groups.items()):
            out[key][name] = binary_metrics(y[idx], p[idx], threshold)
    return out


def evaluate_bundle(bundle: ModelBundle, data_dir: Path, split: str = "test") -> dict:
    """Score one split of the shared data with a bundle; metrics per task, source and lang."""
    corpus = load_corpus(Path(data_dir))
    results = {"version": bundle.version, "split": split}
    for task, parts in (("spam", corpus.spam), ("toxicity", corpus.toxicity)):
        examples = parts[split]
        scores = bundle.score([ex.text for ex in examples], explain=False)
        p = np.array([getattr(s, task) for s in scores])
        if task == "spam":
            results["spam"] = grouped_metrics(examples, p, bundle.thresholds["spam"])
            results["spam_hold"] = grouped_metrics(examples, p, bundle.thresholds["spam_hold"])
            results["summary"] = spam_summary(examples, p, bundle.thresholds)
        else:
            results["toxicity"] = grouped_metrics(examples, p, bundle.thresholds["toxicity_hold"])
    return results


ORDINARY_RU = {"ru_2ch_pikabu", "ru_detox_2022"}
SPAM_RU = {"ru_tg_chat", "ru_tg_spam_library"}


def spam_summary(examples: list[Example], p: np.ndarray, thresholds: dict) -> dict:
    """The issue's spam targets: ordinary Russian comments flagged, Russian spam caught."""
    src = np.array([ex.source for ex in examples])
    y = np.array([ex.label for ex in examples])
    ordinary = np.isin(src, list(ORDINARY_RU)) & (y == 0)
    ru_spam = np.isin(src, list(SPAM_RU)) & (y == 1)
    out = {"ordinary_ru_n": int(ordinary.sum()), "spam_ru_n": int(ru_spam.sum())}
    for name in ("spam", "spam_hold"):
        flagged = p >= thresholds[name]
        out[f"ordinary_ru_flagged_at_{name}"] = float(flagged[ordinary].mean()) if ordinary.any() else None
        out[f"spam_ru_caught_at_{name}"] = float(flagged[ru_spam].mean()) if ru_spam.any() else None
    return out


def evaluate(models_dir: Path, data_dir: Path, split: str = "test", version: str | None = None) -> dict:
    """Evaluate the active (or given) version on the held-out test split (or 'dev')."""
    bundle = load_version(models_dir, version) if version else load_active(models_dir)
    return evaluate_bundle(bundle, data_dir, split)


def _fmt(x) -> str:
    return "   -  " if x is None else f"{x:6.4f}"


def format_report(results: dict) -> str:
    """Render evaluate() results as a plain-text table."""
    lines = [f"model {results['version']} on the {results['split']} split"]
    for task in ("toxicity", "spam", "spam_hold"):
        if task not in results:
            continue
        block = results[task]
        lines.append("")
        lines.append(f"[{task}] threshold {block['overall']['threshold']:.3f}")
        lines.append(f"{'group':28} {'n':>6} {'pos':>6} {'ROC-AUC':>7} {'AP':>7} {'prec':>7} {'recall':>7} {'F1':>7} {'flagged':>7}")
        rows = [("overall", block["overall"])]
        rows += [(f"source={k}", v) for k, v in block["by_source"].items()]
        rows += [(f"lang={k}", v) for k, v in block["by_lang"].items()]
        for name, m in rows:
            lines.append(
                f"{name:28} {m['n']:6d} {m['positives']:6d} {_fmt(m['roc_auc']):>7} {_fmt(m['average_precision']):>7} "
                f"{_fmt(m['precision']):>7} {_fmt(m['recall']):>7} {_fmt(m['f1']):>7} {_fmt(m['flagged_share']):>7}"
            )
    if "summary" in results:
        sm = results["summary"]
        lines += ["", f"[spam targets] ordinary Russian comments n={sm['ordinary_ru_n']}, "
                      f"Russian spam (ru_tg_chat + ru_tg_spam_library) n={sm['spam_ru_n']}"]
        for name in ("spam", "spam_hold"):
            lines.append(f"at {name:9}: ordinary flagged {_fmt(sm[f'ordinary_ru_flagged_at_{name}'])}, "
                         f"Russian spam caught {_fmt(sm[f'spam_ru_caught_at_{name}'])}")
    return "\n".join(lines)


def score_csv(bundle: ModelBundle, input_path: Path, output_path: Path, batch_size: int = 2000) -> int:
    """Score every row of a CSV with a `text` column (optional `name`); write it back with
    `spam`, `toxicity` and `decision` columns. Returns the number of rows written."""
    with open(input_path, encoding="utf-8-sig", newline="") as fh:
        reader = csv.DictReader(fh)
        fields = list(reader.fieldnames or [])
        if "text" not in fields:
            raise ValueError(f"{input_path} has no 'text' column")
        rows = []
        for row in reader:
            if None in row:  # DictReader files surplus fields under None; writing them back would fail
                raise ValueError(f"{input_path}, line {reader.line_num}: more fields than the header "
                                 "(put texts that contain commas in double quotes)")
            rows.append(row)
    out_fields = fields + [f for f in ("spam", "toxicity", "decision") if f not in fields]
    with open(output_path, "w", encoding="utf-8", newline="") as fh:
        writer = csv.DictWriter(fh, fieldnames=out_fields)
        writer.writeheader()
        for start in range(0, len(rows), batch_size):
            batch = rows[start:start + batch_size]
            names = [r.get("name") or "" for r in batch] if "name" in fields else None
            scores = bundle.score([r.get("text") or "" for r in batch], names, explain=False)
            for row, s in zip(batch, scores):
                row.update(spam=f"{s.spam:.6f}", toxicity=f"{s.toxicity:.6f}", decision=bundle.decide(s))
                writer.writerow(row)
    return len(rows)
