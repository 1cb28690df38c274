"""Held-out metrics per source and language, the shipped decision's operating figures (ordinary
comments held, toxic comments caught) on the test split and on the in-domain news comments, and
scoring of CSV files."""

from __future__ import annotations

import csv
import hashlib
import json
from collections import defaultdict
from pathlib import Path

import numpy as np
from sklearn.metrics import average_precision_score, roc_auc_score

from .data import Corpus, Example, load_corpus
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


# Spam targets (spam_summary). Ordinary Russian comments: the toxicity corpora's forum comments
# (every one, toxic or not, is ordinary for spam) and the ham of the admissions chat.
ORDINARY_RU_FORUM = ("ru_2ch_pikabu", "ru_detox_2022")
ORDINARY_RU_CHAT = ("ru_tg_admissions",)
ORDINARY_RU = {*ORDINARY_RU_FORUM, *ORDINARY_RU_CHAT}
SPAM_RU = {"ru_tg_chat", "ru_tg_spam_library", "ru_tg_spam_extra"}
# (name, sources, label) of the rows spam_summary reports, beside each source on its own.
SPAM_TARGET_GROUPS = (
    ("ordinary_ru", tuple(sorted(ORDINARY_RU)), 0),
    ("ordinary_ru_forum", ORDINARY_RU_FORUM, 0),
    ("ordinary_ru_chat", ORDINARY_RU_CHAT, 0),
    ("spam_ru", tuple(sorted(SPAM_RU)), 1),
)
# "Caught at 5% held": the toxicity threshold is set per group so that this share of its
# ordinary comments would be held for toxicity.
HOLD_BUDGET = 0.05
# The unlabelled in-domain comments (in the data dir) and their hand labels (under the models dir).
UNLABELLED_FILE = "unlabelled_comments.csv"
IN_DOMAIN_LABELS = Path("eval") / "news_comments_labels.csv"


class LabelJoinError(ValueError):
    """The hand labels do not match the rows of unlabelled_comments.csv (row out of range or sha1 differs)."""


def _share(flag: np.ndarray, mask: np.ndarray, weights: np.ndarray | None = None) -> float | None:
    """The (weighted) share of `mask` rows where `flag` holds; None for no rows."""
    if not mask.any():
        return None
    if weights is None:
        return float(flag[mask].mean())
    return float(weights[mask & flag].sum() / weights[mask].sum())


def spam_summary(examples: list[Example], p: np.ndarray, thresholds: dict) -> dict:
    """The issue's spam targets: ordinary Russian comments flagged, Russian spam caught.

    Flat keys `ordinary_ru_*` and `spam_ru_*` cover all of ORDINARY_RU and SPAM_RU; `groups` adds
    the forum and chat parts of the ordinary comments, and `by_source` each source alone.
    """
    src = np.array([ex.source for ex in examples])
    y = np.array([ex.label for ex in examples], dtype=int)
    flagged = {name: p >= thresholds[name] for name in ("spam", "spam_hold")}

    def figures(sources, label):
        mask = np.isin(src, list(sources)) & (y == label)
        return {
            "sources": list(sources),
            "label": label,
            "n": int(mask.sum()),
            **{f"at_{name}": _share(flagged[name], mask) for name in flagged},
        }

    out = {
        "groups": {name: figures(sources, label) for name, sources, label in SPAM_TARGET_GROUPS},
        "by_source": {
            source: figures((source,), label)
            for sources, label in ((sorted(ORDINARY_RU), 0), (sorted(SPAM_RU), 1))
            for source in sources
        },
    }
    ordinary, ru_spam = out["groups"]["ordinary_ru"], out["groups"]["spam_ru"]
    out.update(ordinary_ru_n=ordinary["n"], spam_ru_n=ru_spam["n"])
    for name in flagged:
        out[f"ordinary_ru_flagged_at_{name}"] = ordinary[f"at_{name}"]
        out[f"spam_ru_caught_at_{name}"] = ru_spam[f"at_{name}"]
    return out


def hold_shares(decisions: np.ndarray, spam: np.ndarray, tox: np.ndarray, thresholds: dict) -> dict:
    """What the shipped decision does with these comments, as shares of them.

    `held`: not approved (held or spam); `held_toxicity`: toxicity >= toxicity_hold;
    `held_spam`: spam >= spam_hold or sent to spam; `spam`: sent to spam. A comment can be held
    for both reasons, so the two parts may add up to more than `held`.
    """
    decisions, spam, tox = np.asarray(decisions), np.asarray(spam, dtype=float), np.asarray(tox, dtype=float)
    every = np.ones(len(decisions), dtype=bool)
    to_spam = decisions == "spam"
    return {
        "n": int(len(decisions)),
        "held": _share(decisions != "approved", every),
        "held_toxicity": _share(tox >= thresholds["toxicity_hold"], every),
        "held_spam": _share(to_spam | (spam >= thresholds["spam_hold"]), every),
        "spam": _share(to_spam, every),
    }


def caught_at_held(
    y: np.ndarray, p: np.ndarray, budget: float = HOLD_BUDGET, weights: np.ndarray | None = None
) -> dict:
    """Share of positives with `p >= t`, t the lowest threshold that holds at most `budget` of the negatives.

    That is the best recall with at most `budget` (weighted) of the ordinary comments held; with
    ties the held share may stay below the budget. None when a class is missing.
    """
    y, p = np.asarray(y, dtype=int), np.asarray(p, dtype=float)
    w = np.ones(len(y)) if weights is None else np.asarray(weights, dtype=float)
    neg, pos = y == 0, y == 1
    out = {"budget": budget, "threshold": None, "held": None, "caught": None}
    if not neg.any() or not pos.any():
        return out
    order = np.argsort(p[neg], kind="stable")
    pn, wn = p[neg][order], w[neg][order]
    values = np.unique(pn)
    last = np.searchsorted(pn, values, side="right") - 1
    above = 1.0 - np.cumsum(wn)[last] / wn.sum()  # share of negatives scoring strictly above each value
    cut = values[int(np.argmax(above <= budget + 1e-9))]  # the top value always qualifies
    t = float(np.nextafter(cut, np.inf))
    flagged = p >= t
    out.update(threshold=t, held=_share(flagged, neg, weights), caught=_share(flagged, pos, weights))
    return out


def operating_figures(
    y: np.ndarray,
    tox: np.ndarray,
    held: np.ndarray,
    threshold: float,
    budget: float = HOLD_BUDGET,
    weights: np.ndarray | None = None,
) -> dict:
    """Toxicity figures of a labelled group: ROC-AUC, AP, precision/recall/F1 at `threshold`,
    ordinary comments held (`held`: the shipped decision is not 'approved'), toxic comments
    caught (toxicity >= threshold) and caught at `budget` held. Optionally weighted."""
    y, tox, held = np.asarray(y, dtype=int), np.asarray(tox, dtype=float), np.asarray(held, dtype=bool)
    w = np.ones(len(y)) if weights is None else np.asarray(weights, dtype=float)
    neg, pos = y == 0, y == 1
    both = bool(neg.any() and pos.any())
    flagged = tox >= threshold
    tp, fp, fn = (float(w[m].sum()) for m in (flagged & pos, flagged & neg, ~flagged & pos))
    precision = tp / (tp + fp) if tp + fp else 0.0
    recall = tp / (tp + fn) if tp + fn else 0.0
    return {
        "n": int(len(y)),
        "ordinary": int(neg.sum()),
        "toxic": int(pos.sum()),
        "roc_auc": float(roc_auc_score(y, tox, sample_weight=weights)) if both else None,
        "average_precision": float(average_precision_score(y, tox, sample_weight=weights)) if both else None,
        "threshold": float(threshold),
        "precision": precision,
        "recall": recall,
        "f1": 2 * precision * recall / (precision + recall) if precision + recall else 0.0,
        "held_ordinary": _share(held, neg, weights),
        "held_ordinary_toxicity": _share(flagged, neg, weights),
        "caught": _share(flagged, pos, weights),
        "at_budget": caught_at_held(y, tox, budget, weights),
    }


def _groups(examples: list[Example], attr: str) -> dict[str, list[int]]:
    groups = defaultdict(list)
    for i, ex in enumerate(examples):
        groups[getattr(ex, attr)].append(i)
    return dict(sorted(groups.items()))


def held_ordinary(scored: dict, thresholds: dict, toxicity_sources: set[str]) -> dict:
    """Shares of ordinary (label 0) comments the shipped decision holds, per toxicity and spam source and lang.

    `scored[task]` is (examples, scores, decisions). The spam part leaves out the toxicity
    corpora's rows (ordinary for spam, but reported under toxicity).
    """
    out = {}
    for task in ("toxicity", "spam"):
        examples, scores, decisions = scored[task]
        keep = [
            i
            for i, ex in enumerate(examples)
            if ex.label == 0 and (task == "toxicity" or ex.source not in toxicity_sources)
        ]
        rows = [examples[i] for i in keep]
        dec = np.asarray(decisions)[keep]
        spam = np.array([scores[i].spam for i in keep])
        tox = np.array([scores[i].toxicity for i in keep])
        block = {"overall": hold_shares(dec, spam, tox, thresholds)}
        for key, attr in (("by_source", "source"), ("by_lang", "lang")):
            block[key] = {
                name: hold_shares(dec[idx], spam[idx], tox[idx], thresholds)
                for name, idx in _groups(rows, attr).items()
            }
        out[task] = block
    return out


def caught_by_group(
    examples: list[Example], scores: list, decisions: list[str], thresholds: dict, budget: float = HOLD_BUDGET
) -> dict:
    """operating_figures of the toxicity split overall, per source and per lang."""
    y = np.array([ex.label for ex in examples], dtype=int)
    tox = np.array([s.toxicity for s in scores])
    held = np.asarray(decisions) != "approved"
    t = thresholds["toxicity_hold"]
    out = {"budget": budget, "overall": operating_figures(y, tox, held, t, budget)}
    for key, attr in (("by_source", "source"), ("by_lang", "lang")):
        out[key] = {
            name: operating_figures(y[idx], tox[idx], held[idx], t, budget)
            for name, idx in _groups(examples, attr).items()
        }
    return out


def unlabelled_texts(data_dir: Path) -> list[str] | None:
    """The texts of the data's unlabelled_comments.csv, in file order; None when the file is not there."""
    path = Path(data_dir) / UNLABELLED_FILE
    return [row["text"] for row in read_unlabelled(path)] if path.exists() else None


def read_unlabelled(path: Path) -> list[dict]:
    """Rows of unlabelled_comments.csv (columns text, source, lang), in file order."""
    with open(path, encoding="utf-8-sig", newline="") as fh:
        reader = csv.DictReader(fh)
        missing = {"text", "lang"} - set(reader.fieldnames or [])
        if missing:
            raise ValueError(f"{path} has no column(s) {', '.join(sorted(missing))}")
        return list(reader)


def _flag(value: str | None, column: str, line: int, problems: list[str]) -> int:
    value = (value or "").strip()
    if value in ("", "0"):
        return 0
    if value == "1":
        return 1
    problems.append(f"line {line}: {column} is {value!r}, not 0 or 1")
    return 0


def read_labels(labels_path: Path, rows: list[dict], unlabelled_path: Path | str = UNLABELLED_FILE) -> list[dict]:
    """Read the hand labels and join them to `rows` by `row`, checking every text's sha1.

    Raises LabelJoinError, naming the first offending lines, if any label does not match its row.
    Returns dicts with row, lang (the labeller's), toxic, spam, uncertain.
    """
    with open(labels_path, encoding="utf-8-sig", newline="") as fh:
        reader = csv.DictReader(fh)
        missing = {"row", "sha1", "lang", "toxic", "uncertain"} - set(reader.fieldnames or [])
        if missing:
            raise LabelJoinError(f"{labels_path} has no column(s) {', '.join(sorted(missing))}")
        raw = list(reader)
    problems: list[str] = []
    labels, seen = [], set()
    for line, lab in enumerate(raw, start=2):
        try:
            i = int(lab["row"])
        except (TypeError, ValueError):
            problems.append(f"line {line}: row {lab['row']!r} is not a number")
            continue
        if not 0 <= i < len(rows):
            problems.append(f"line {line}: row {i} is not in {unlabelled_path} ({len(rows)} data rows)")
            continue
        if i in seen:
            problems.append(f"line {line}: row {i} is labelled twice")
        seen.add(i)
        digest = hashlib.sha1((rows[i].get("text") or "").encode("utf-8")).hexdigest()
        if digest != (lab["sha1"] or "").strip().lower():
            problems.append(f"line {line}: row {i} has sha1 {lab['sha1']} in the labels but its text's is {digest}")
        labels.append(
            {
                "row": i,
                "lang": (lab["lang"] or "").strip(),
                **{col: _flag(lab.get(col), col, line, problems) for col in ("toxic", "spam", "uncertain")},
            }
        )
    if problems:
        shown = "; ".join(problems[:5]) + (f"; and {len(problems) - 5} more" if len(problems) > 5 else "")
        raise LabelJoinError(
            f"{labels_path} does not match {unlabelled_path}: {len(problems)} problem(s) in "
            f"{len(raw)} label rows (was the CSV changed or reordered?): {shown}"
        )
    return labels


def in_domain_figures(
    labels: list[dict],
    rows: list[dict],
    decisions: np.ndarray,
    spam: np.ndarray,
    tox: np.ndarray,
    thresholds: dict,
    budget: float = HOLD_BUDGET,
) -> dict:
    """Figures on the hand-labelled rows, leaving out the uncertain ones: overall, overall weighted by
    the sampling strata (the file's lang), per file lang and per the labeller's lang."""
    idx = np.array([lab["row"] for lab in labels], dtype=int)
    y = np.array([lab["toxic"] for lab in labels], dtype=int)
    y_spam = np.array([lab["spam"] for lab in labels], dtype=int)
    certain = np.array([not lab["uncertain"] for lab in labels], dtype=bool)
    file_lang = np.array([rows[i]["lang"] for i in idx], dtype=object)
    labeller_lang = np.array([lab["lang"] for lab in labels], dtype=object)
    t, s = tox[idx], spam[idx]
    held = np.asarray(decisions)[idx] != "approved"
    # The sample takes every kk row but few ru rows: weight each row by its stratum's
    # (non-empty) rows in the file over its rows in the sample.
    population = defaultdict(int)
    for r in rows:
        if (r.get("text") or "").strip():
            population[r["lang"]] += 1
    sampled = defaultdict(int)
    for lang in file_lang:
        sampled[lang] += 1
    strata = {lang: population[lang] / n for lang, n in sorted(sampled.items())}
    weights = np.array([strata[lang] for lang in file_lang])

    def figures(mask, w=None):
        m = mask & certain
        out = operating_figures(y[m], t[m], held[m], thresholds["toxicity_hold"], budget, None if w is None else w[m])
        out["uncertain"] = int((mask & ~certain).sum())
        return out

    every = np.ones(len(labels), dtype=bool)
    return {
        "n": len(labels),
        "uncertain": int((~certain).sum()),
        "strata_weights": strata,
        "overall": figures(every),
        "overall_weighted": figures(every, weights),
        "by_file_lang": {lang: figures(file_lang == lang) for lang in sorted(set(file_lang))},
        "by_labeller_lang": {lang: figures(labeller_lang == lang) for lang in sorted(set(labeller_lang))},
        "spam": {name: binary_metrics(y_spam[certain], s[certain], thresholds[name]) for name in ("spam", "spam_hold")},
    }


def evaluate_news_comments(
    bundle: ModelBundle, unlabelled_path: Path, labels_path: Path | None = None, budget: float = HOLD_BUDGET
) -> dict:
    """The 'unlabelled' and 'in_domain' parts of the results; each is {'skipped': why} without its file."""
    unlabelled_path = Path(unlabelled_path)
    if not unlabelled_path.exists():
        return {
            "unlabelled": {"skipped": f"no file {unlabelled_path}"},
            "in_domain": {"skipped": f"no file {unlabelled_path} to join the labels to"},
        }
    rows = read_unlabelled(unlabelled_path)
    labels = None
    if labels_path is None:
        in_domain = {"skipped": "no labels file given"}
    elif not Path(labels_path).exists():
        in_domain = {"skipped": f"no file {labels_path}"}
    else:
        labels = read_labels(Path(labels_path), rows, unlabelled_path)  # before scoring: a bad join fails fast
    scores = bundle.score([r.get("text") or "" for r in rows], explain=False)
    decisions = np.array([bundle.decide(s) for s in scores], dtype=object)
    spam = np.array([s.spam for s in scores])
    tox = np.array([s.toxicity for s in scores])
    langs = np.array([r["lang"] for r in rows], dtype=object)
    unlabelled = {
        "path": str(unlabelled_path),
        "overall": hold_shares(decisions, spam, tox, bundle.thresholds),
        "by_lang": {
            lang: hold_shares(decisions[m], spam[m], tox[m], bundle.thresholds)
            for lang in sorted(set(langs))
            for m in [langs == lang]
        },
    }
    if labels is not None:
        in_domain = {
            "labels": str(labels_path),
            "unlabelled": str(unlabelled_path),
            **in_domain_figures(labels, rows, decisions, spam, tox, bundle.thresholds, budget),
        }
    return {"unlabelled": unlabelled, "in_domain": in_domain}


def split_metrics(bundle: ModelBundle, corpus: Corpus, split: str) -> tuple[dict, dict]:
    """Score one split of both tasks; return (metrics per task, source and lang, and the spam summary;
    each task's (examples, scores, decisions))."""
    metrics, scored = {}, {}
    for task, parts in (("spam", corpus.spam), ("toxicity", corpus.toxicity)):
        examples = parts[split]
        scores = bundle.score([ex.text for ex in examples], explain=False)
        scored[task] = (examples, scores, [bundle.decide(s) for s in scores])
        p = np.array([getattr(s, task) for s in scores])
        if task == "spam":
            metrics["spam"] = grouped_metrics(examples, p, bundle.thresholds["spam"])
            metrics["spam_hold"] = grouped_metrics(examples, p, bundle.thresholds["spam_hold"])
            metrics["summary"] = spam_summary(examples, p, bundle.thresholds)
        else:
            metrics["toxicity"] = grouped_metrics(examples, p, bundle.thresholds["toxicity_hold"])
    return metrics, scored


def evaluate_bundle(
    bundle: ModelBundle,
    data_dir: Path,
    split: str = "test",
    labels_path: Path | None = None,
    budget: float = HOLD_BUDGET,
) -> dict:
    """Score one split of the shared data with a bundle; metrics per task, source and lang, the
    operating figures of the shipped decision, and the in-domain news comments when there."""
    data_dir = Path(data_dir)
    corpus = load_corpus(data_dir)
    results = {"version": bundle.version, "split": split, "thresholds": dict(bundle.thresholds)}
    metrics, scored = split_metrics(bundle, corpus, split)
    results.update(metrics)
    toxicity_sources = {ex.source for rows in corpus.toxicity.values() for ex in rows}
    results["held_ordinary"] = held_ordinary(scored, bundle.thresholds, toxicity_sources)
    results["caught_at_held"] = caught_by_group(*scored["toxicity"], bundle.thresholds, budget)
    results.update(evaluate_news_comments(bundle, data_dir / UNLABELLED_FILE, labels_path, budget))
    return results


def evaluate(
    models_dir: Path, data_dir: Path, split: str = "test", version: str | None = None, labels_path: Path | None = None
) -> dict:
    """Evaluate the active (or given) version on the held-out test split (or 'dev'), and on the
    in-domain news comments (labels default to models_dir/eval/news_comments_labels.csv)."""
    bundle = load_version(models_dir, version) if version else load_active(models_dir)
    labels_path = Path(labels_path) if labels_path else Path(models_dir) / IN_DOMAIN_LABELS
    return evaluate_bundle(bundle, data_dir, split, labels_path)


def _json_default(value):
    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, Path):
        return str(value)
    raise TypeError(f"{type(value).__name__} is not JSON serialisable")


def write_json(results: dict, path: Path) -> None:
    """Write evaluate() results as JSON."""
    with open(path, "w", encoding="utf-8") as fh:
        json.dump(results, fh, indent=2, ensure_ascii=False, default=_json_default)
        fh.write("\n")


def _fmt(x) -> str:
    return "   -  " if x is None else f"{x:6.4f}"


def _table(header: list[str], rows: list[tuple[str, list]], width: int = 28) -> list[str]:
    """Right-aligned columns after a left-aligned group name; ints as ints, floats to 4 places."""
    cols = [max(7, len(h)) for h in header]
    lines = [f"{'group':{width}} " + " ".join(f"{h:>{c}}" for h, c in zip(header, cols))]
    for name, values in rows:
        cells = [f"{v:d}" if isinstance(v, int) else _fmt(v).strip() for v in values]
        lines.append(f"{name:{width}} " + " ".join(f"{v:>{c}}" for v, c in zip(cells, cols)))
    return lines


def _grouped_rows(block: dict, prefix: str = "") -> list[tuple[str, dict]]:
    rows = [(f"{prefix}overall", block["overall"])]
    rows += [(f"{prefix}source={k}", v) for k, v in block.get("by_source", {}).items()]
    rows += [(f"{prefix}lang={k}", v) for k, v in block.get("by_lang", {}).items()]
    return rows


def _hold_rows(rows: list[tuple[str, dict]]) -> list[tuple[str, list]]:
    return [(name, [m["n"], m["held"], m["held_toxicity"], m["held_spam"], m["spam"]]) for name, m in rows]


HOLD_HEADER = ["n", "held", "by tox", "by spam", "to spam"]


def _format_summary(sm: dict) -> list[str]:
    if "groups" not in sm:  # a summary in the old shape
        return [
            "",
            f"[spam targets] ordinary Russian comments n={sm['ordinary_ru_n']}, Russian spam n={sm['spam_ru_n']}",
        ] + [
            f"at {name:9}: ordinary flagged {_fmt(sm[f'ordinary_ru_flagged_at_{name}'])}, "
            f"Russian spam caught {_fmt(sm[f'spam_ru_caught_at_{name}'])}"
            for name in ("spam", "spam_hold")
        ]
    lines = [
        "",
        "[spam targets] share of each group with spam >= threshold: ordinary comments flagged (label 0), "
        "spam caught (label 1)",
    ]
    for name in ("spam", "spam_hold"):
        g = sm["groups"]
        lines.append(
            f"at {name:9}: ordinary Russian flagged {_fmt(sm[f'ordinary_ru_flagged_at_{name}'])} "
            f"(of which {' + '.join(ORDINARY_RU_CHAT)} ham {_fmt(g['ordinary_ru_chat'][f'at_{name}'])}), "
            f"Russian spam caught {_fmt(sm[f'spam_ru_caught_at_{name}'])}"
        )
    rows = [
        (
            f"{name} ({'+'.join(m['sources'])})" if name != "ordinary_ru" else f"{name} (all {len(m['sources'])})",
            [m["label"], m["n"], m["at_spam"], m["at_spam_hold"]],
        )
        for name, m in sm["groups"].items()
    ]
    rows += [(f"source={k}", [m["label"], m["n"], m["at_spam"], m["at_spam_hold"]]) for k, m in sm["by_source"].items()]
    width = max(28, max(len(name) for name, _ in rows))
    return lines + _table(["label", "n", "at spam", "at spam_hold"], rows, width)


def _format_in_domain(block: dict) -> list[str]:
    t = block["overall"]["threshold"]
    budget = block["overall"]["at_budget"]["budget"]
    lines = [
        "",
        f"[in-domain news comments, hand-labelled] {block['labels']} joined to {block['unlabelled']} by row "
        f"(sha1 checked): {block['n']} rows, {block['uncertain']} uncertain left out",
        f"toxicity at toxicity_hold {t:.3f}; 'held ord' = ordinary comments not approved (held or spam), "
        f"'caught' = toxic with toxicity >= toxicity_hold, 'caught@{budget:.0%}' = toxic caught when t is set "
        f"so {budget:.0%} of the group's ordinary comments are held for toxicity",
        "'weighted' = rows weighted by the sampling strata (file lang): "
        + ", ".join(f"{k} x{v:.2f}" for k, v in block["strata_weights"].items()),
    ]
    rows = [("overall", block["overall"]), ("overall, weighted", block["overall_weighted"])]
    rows += [(f"file lang={k}", v) for k, v in block["by_file_lang"].items()]
    rows += [(f"labeller lang={k}", v) for k, v in block["by_labeller_lang"].items()]
    lines += _table(
        [
            "n",
            "uncert",
            "toxic",
            "ROC-AUC",
            "AP",
            "prec",
            "recall",
            "F1",
            "held ord",
            "caught",
            f"t@{budget:.0%}",
            f"caught@{budget:.0%}",
        ],
        [
            (
                name,
                [
                    m["n"],
                    m["uncertain"],
                    m["toxic"],
                    m["roc_auc"],
                    m["average_precision"],
                    m["precision"],
                    m["recall"],
                    m["f1"],
                    m["held_ordinary"],
                    m["caught"],
                    m["at_budget"]["threshold"],
                    m["at_budget"]["caught"],
                ],
            )
            for name, m in rows
        ],
    )
    spam = block["spam"]["spam"]
    if spam["positives"]:
        lines.append("spam labels:")
        lines += _table(
            ["n", "pos", "ROC-AUC", "AP", "prec", "recall", "F1", "flagged"],
            [
                (
                    f"at {name} {m['threshold']:.3f}",
                    [
                        m["n"],
                        m["positives"],
                        m["roc_auc"],
                        m["average_precision"],
                        m["precision"],
                        m["recall"],
                        m["f1"],
                        m["flagged_share"],
                    ],
                )
                for name, m in block["spam"].items()
            ],
        )
    else:
        lines.append(
            f"spam: no spam labels among the {spam['n']} rows; share with spam >= spam "
            f"{_fmt(spam['flagged_share']).strip()}, spam >= spam_hold "
            f"{_fmt(block['spam']['spam_hold']['flagged_share']).strip()}"
        )
    return lines


def format_report(results: dict) -> str:
    """Render evaluate() results as plain-text tables."""
    lines = [f"model {results['version']} on the {results['split']} split"]
    for task in ("toxicity", "spam", "spam_hold"):
        if task not in results:
            continue
        block = results[task]
        lines.append("")
        lines.append(f"[{task}] threshold {block['overall']['threshold']:.3f}")
        columns = ("ROC-AUC", "AP", "prec", "recall", "F1", "flagged")
        lines.append(f"{'group':28} {'n':>6} {'pos':>6} " + " ".join(f"{c:>7}" for c in columns))
        rows = [("overall", block["overall"])]
        rows += [(f"source={k}", v) for k, v in block["by_source"].items()]
        rows += [(f"lang={k}", v) for k, v in block["by_lang"].items()]
        for name, m in rows:
            lines.append(
                f"{name:28} {m['n']:6d} {m['positives']:6d} {_fmt(m['roc_auc']):>7} {_fmt(m['average_precision']):>7} "
                f"{_fmt(m['precision']):>7} {_fmt(m['recall']):>7} {_fmt(m['f1']):>7} {_fmt(m['flagged_share']):>7}"
            )
    if "summary" in results:
        lines += _format_summary(results["summary"])
    thresholds = results.get("thresholds") or {}
    limits = ", ".join(f"{k} {v:.3f}" for k, v in sorted(thresholds.items()))
    if "held_ordinary" in results:
        lines += [
            "",
            f"[held ordinary comments] ordinary (label 0) comments of the {results['split']} split "
            f"the shipped decision does not approve ({limits})",
            "'held' = held or spam; 'by tox' = toxicity >= toxicity_hold; 'by spam' = spam >= spam_hold "
            "(a comment can be both); 'to spam' = sent to spam",
        ]
        block = results["held_ordinary"]
        lines.append("toxicity sources:")
        lines += _table(HOLD_HEADER, _hold_rows(_grouped_rows(block["toxicity"])))
        lines.append("spam sources (spam.csv only):")
        lines += _table(HOLD_HEADER, _hold_rows(_grouped_rows(block["spam"])))
    if "caught_at_held" in results:
        block = results["caught_at_held"]
        budget = block["budget"]
        lines += [
            "",
            f"[toxic caught at {budget:.0%} held] toxicity {results['split']} split: t set per group so that "
            f"{budget:.0%} of its ordinary comments score >= t; beside it the shipped toxicity_hold "
            f"{block['overall']['threshold']:.3f}",
        ]
        lines += _table(
            [
                "ordinary",
                "toxic",
                "held@hold",
                "caught@hold",
                f"t@{budget:.0%}",
                f"held@{budget:.0%}",
                f"caught@{budget:.0%}",
            ],
            [
                (
                    name,
                    [
                        m["ordinary"],
                        m["toxic"],
                        m["held_ordinary_toxicity"],
                        m["caught"],
                        m["at_budget"]["threshold"],
                        m["at_budget"]["held"],
                        m["at_budget"]["caught"],
                    ],
                )
                for name, m in _grouped_rows(block)
            ],
        )
    if "unlabelled" in results:
        block = results["unlabelled"]
        if "skipped" in block:
            lines += ["", f"[unlabelled news comments] skipped: {block['skipped']}"]
        else:
            lines += [
                "",
                f"[unlabelled news comments] {block['path']}: share of all comments the shipped decision "
                f"does not approve, per the file's lang ({limits})",
            ]
            lines += _table(
                HOLD_HEADER,
                _hold_rows([("overall", block["overall"])] + [(f"lang={k}", v) for k, v in block["by_lang"].items()]),
            )
    if "in_domain" in results:
        block = results["in_domain"]
        if "skipped" in block:
            lines += ["", f"[in-domain news comments, hand-labelled] skipped: {block['skipped']}"]
        else:
            lines += _format_in_domain(block)
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
                raise ValueError(
                    f"{input_path}, line {reader.line_num}: more fields than the header "
                    "(put texts that contain commas in double quotes)"
                )
            rows.append(row)
    out_fields = fields + [f for f in ("spam", "toxicity", "decision") if f not in fields]
    with open(output_path, "w", encoding="utf-8", newline="") as fh:
        writer = csv.DictWriter(fh, fieldnames=out_fields)
        writer.writeheader()
        for start in range(0, len(rows), batch_size):
            batch = rows[start : start + batch_size]
            names = [r.get("name") or "" for r in batch] if "name" in fields else None
            scores = bundle.score([r.get("text") or "" for r in batch], names, explain=False)
            for row, s in zip(batch, scores):
                row.update(spam=f"{s.spam:.6f}", toxicity=f"{s.toxicity:.6f}", decision=bundle.decide(s))
                writer.writerow(row)
    return len(rows)
