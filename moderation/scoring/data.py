"""Reading the labelled CSVs and splitting them deterministically into train / dev / test."""

from __future__ import annotations

import csv
import zlib
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

SPLIT_SEED = "moderation-2026"
# Percent of split keys per part; test is the rest. Test is never trained on, dev is for choices.
TRAIN_PCT, DEV_PCT = 70, 15


@dataclass(frozen=True)
class Example:
    """One labelled text with its provenance."""

    text: str
    label: int
    source: str
    lang: str
    group: str = ""


def split_of(example: Example, seed: str = SPLIT_SEED) -> str:
    """Return 'train', 'dev' or 'test' for an example, stable across runs and machines.

    The key is the detox `group` when present (a toxic sentence and its rewrites are minimal
    pairs and must stay together) and otherwise the text itself, so duplicates never straddle
    the train/test border.
    """
    key = example.group or example.text.strip().lower()
    bucket = zlib.crc32(f"{seed}|{example.source}|{key}".encode()) % 100
    if bucket < TRAIN_PCT:
        return "train"
    return "dev" if bucket < TRAIN_PCT + DEV_PCT else "test"


def read_csv(path: Path, label_column: str) -> list[Example]:
    """Read one of the shared data files into examples."""
    with open(path, encoding="utf-8", newline="") as fh:
        return [
            Example(row["text"], int(row[label_column]), row["source"], row["lang"], row.get("group") or "")
            for row in csv.DictReader(fh)
        ]


@dataclass
class Corpus:
    """Spam and toxicity examples split into parts."""

    spam: dict[str, list[Example]]
    toxicity: dict[str, list[Example]]

    def sources(self) -> dict:
        """Row counts per task, source and label, for the manifest."""
        out: dict = {}
        for task, parts in (("spam", self.spam), ("toxicity", self.toxicity)):
            counts = Counter()
            for part, rows in parts.items():
                for ex in rows:
                    counts[f"{ex.source}|{part}|{ex.label}"] += 1
            out[task] = dict(sorted(counts.items()))
        return out


def _split(rows: Iterable[Example]) -> dict[str, list[Example]]:
    parts: dict[str, list[Example]] = {"train": [], "dev": [], "test": []}
    for ex in rows:
        parts[split_of(ex)].append(ex)
    return parts


def load_corpus(data_dir: Path, extra_spam_rows=None, extra_toxicity_rows=None) -> Corpus:
    """Load spam.csv and toxicity.csv, split them, and add the toxicity comments as extra non-spam.

    Extra rows from moderators' decisions are (text, label) pairs; they join the train part only,
    so the held-out figures stay comparable between versions.
    """
    data_dir = Path(data_dir)
    spam = read_csv(data_dir / "spam.csv", "spam")
    tox = read_csv(data_dir / "toxicity.csv", "toxic")
    spam_parts, tox_parts = _split(spam), _split(tox)
    # Every toxicity row is an ordinary comment from the spam point of view; they keep the
    # toxicity split so a test comment is held out of both models.
    for part, rows in tox_parts.items():
        spam_parts[part].extend(Example(ex.text, 0, ex.source, ex.lang, ex.group) for ex in rows)
    for text, label in extra_spam_rows or ():
        spam_parts["train"].append(Example(text, int(label), "site_decisions", "ru"))
    for text, label in extra_toxicity_rows or ():
        tox_parts["train"].append(Example(text, int(label), "site_decisions", "ru"))
    return Corpus(spam_parts, tox_parts)
