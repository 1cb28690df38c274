"""Spam and toxicity scoring for comments: a pure library (no web, database or queue imports)."""

from .evaluate import evaluate, evaluate_bundle, format_report, score_csv
from .normalise import normalise_text
from .predict import ModelBundle, Score, decide, load_active, load_version
from .registry import ModelLoadError, list_versions, remove_version, rollback, set_active
from .train import train_version

__all__ = [
    "ModelBundle",
    "ModelLoadError",
    "Score",
    "decide",
    "evaluate",
    "evaluate_bundle",
    "format_report",
    "list_versions",
    "load_active",
    "load_version",
    "normalise_text",
    "remove_version",
    "rollback",
    "score_csv",
    "set_active",
    "train_version",
]
