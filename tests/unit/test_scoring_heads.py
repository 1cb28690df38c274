"""The weights file: written when a version is saved, scores exactly as the sklearn pipelines do, and
versions saved before it existed still load (with a warning) until `add_heads_file` gives them one."""

import json
import logging
import random
from pathlib import Path

import numpy as np
import pytest
from sklearn.calibration import CalibratedClassifierCV
from sklearn.frozen import FrozenEstimator
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import Pipeline

from moderation.scoring import ModelLoadError, load_version, registry
from moderation.scoring.data import load_corpus
from moderation.scoring.features import CommentFeaturizer
from moderation.scoring.heads import HEADS_FILE, head_weights, read_heads, write_heads
from moderation.scoring.normalise import normalise
from moderation.scoring.predict import LinearHead
from tests.conftest import unavailable
from tests.unit.test_scoring_registry import CLEAN, RUDE, SPAMMY, THRESHOLDS, toy_models

MODELS = Path(__file__).resolve().parents[2] / "models"
DATA = Path(__file__).resolve().parents[3] / "shared" / "data"
TASKS = ("spam", "toxicity")


def sample_texts(n=400):
    """Dev texts of both tasks and every source (so every head and route is used), in a fixed order."""
    if not (DATA / "spam.csv").exists():
        unavailable(f"no {DATA}: ../shared/data is not beside the checkout")
    corpus = load_corpus(DATA)
    texts = sorted({ex.text for part in (corpus.spam["dev"], corpus.toxicity["dev"]) for ex in part})
    return random.Random(7).sample(texts, n) + ["", "   ", "Сен ақымақсың ба", "FREE money!!! http://x.example"]


def test_shipped_versions_have_their_weights_file():
    versions = [p.name for p in MODELS.iterdir() if (p / "manifest.json").is_file()]
    assert len(versions) >= 2
    for version in versions:
        manifest = registry.read_manifest(MODELS, version)
        assert HEADS_FILE in manifest["files"]
        models, heads, _ = registry.load_version_files(MODELS, version)
        for task in TASKS:  # the file holds exactly what the shipped .skops files hold
            for name, value in head_weights(models[task]).arrays(task).items():
                stored = heads[task].arrays(task)[name]
                assert stored.dtype == value.dtype and np.array_equal(stored, value), name


def test_active_version_scores_as_its_calibrated_pipelines():
    version = (MODELS / "ACTIVE").read_text().strip()
    bundle = load_version(MODELS, version)
    assert registry.load_version_files(MODELS, version)[1] is not None  # built from the file, not the pipelines
    texts = sample_texts()
    for task in TASKS:
        expected = bundle.pipelines[task].predict_proba(texts)[:, 1]
        fast = bundle.heads[task].proba(bundle.featurizers[task].hashed(texts))
        np.testing.assert_allclose(fast, expected, rtol=0, atol=1e-9)
        routed = bundle.heads[task].heads_for(bundle.featurizers[task].hashed(texts))[0]
        assert len(set(routed.tolist())) == len(bundle.heads[task].routes) + 1  # every head was exercised
    scores = np.array([s.toxicity for s in bundle.score(texts, explain=True)])
    expected = bundle.pipelines["toxicity"].predict_proba(texts)[:, 1]
    # The long-comment rule may only raise a long comment's score; every other one is the pipeline's.
    raised = scores > expected + 1e-9
    assert not raised.any() or bundle.long_comments is not None
    long_enough = [len(normalise(t).words) >= bundle.long_comments.min_words for t in np.array(texts)[raised]]
    assert all(long_enough)
    np.testing.assert_allclose(scores[~raised], expected[~raised], rtol=0, atol=1e-9)
    # Explanations read the same weights.
    assert "дебил" in " ".join(bundle.score(["Ты тупой дебил, заткнись"])[0].toxicity_terms)


def saved(tmp_path, version="v1"):
    registry.save_version(tmp_path, version, toy_models(), {"created": version, "thresholds": THRESHOLDS})
    return tmp_path / version


def as_saved_before_the_weights_file(folder):
    """Turn a version folder into the layout written before heads.npz existed."""
    (folder / HEADS_FILE).unlink()
    manifest = json.loads((folder / "manifest.json").read_text())
    del manifest["files"][HEADS_FILE]
    (folder / "manifest.json").write_text(json.dumps(manifest, indent=2, ensure_ascii=False) + "\n")


def test_save_writes_the_weights_file_under_the_manifests_checksums(tmp_path):
    folder = saved(tmp_path)
    manifest = json.loads((folder / "manifest.json").read_text())
    assert sorted(manifest["files"]) == sorted(["spam.skops", "toxicity.skops", HEADS_FILE])
    assert manifest["files"][HEADS_FILE] == registry.sha256_of(folder / HEADS_FILE)
    with np.load(folder / HEADS_FILE, allow_pickle=False) as npz:  # numbers only: no text, no objects
        assert all(npz[name].dtype.kind in "iuf" for name in npz.files)


def test_a_version_saved_before_the_weights_file_loads_with_a_warning_and_can_be_given_one(tmp_path, caplog):
    texts = SPAMMY[:3] + CLEAN[:3] + RUDE[:3]
    folder = saved(tmp_path)
    current = load_version(tmp_path, "v1").score(texts)
    skops = {name: (folder / name).read_bytes() for name in ("spam.skops", "toxicity.skops")}
    as_saved_before_the_weights_file(folder)
    with caplog.at_level(logging.WARNING, logger="moderation.scoring.predict"):
        old = load_version(tmp_path, "v1").score(texts)
    assert HEADS_FILE in caplog.text and "v1" in caplog.text
    assert old == current
    registry.set_active(tmp_path, "v1")  # promote and rollback accept it too

    assert registry.add_heads_file(tmp_path, "v1") is True
    assert registry.add_heads_file(tmp_path, "v1") is False  # once only
    assert {name: (folder / name).read_bytes() for name in skops} == skops  # the models are untouched
    caplog.clear()
    with caplog.at_level(logging.WARNING, logger="moderation.scoring.predict"):
        assert load_version(tmp_path, "v1").score(texts) == current
    assert HEADS_FILE not in caplog.text


def test_a_missing_damaged_or_foreign_weights_file_is_refused(tmp_path):
    folder = saved(tmp_path)
    good = (folder / HEADS_FILE).read_bytes()
    (folder / HEADS_FILE).unlink()
    with pytest.raises(ModelLoadError, match="missing"):
        load_version(tmp_path, "v1")
    (folder / HEADS_FILE).write_bytes(good + b"x")
    with pytest.raises(ModelLoadError, match="checksum"):
        load_version(tmp_path, "v1")
    # A file that matches its checksum but holds text, or misses an array, is not one this code wrote.
    (folder / HEADS_FILE).write_bytes(good)
    with np.load(folder / HEADS_FILE, allow_pickle=False) as npz:
        arrays = {name: npz[name] for name in npz.files}
    for change in ({"spam.note": np.array(["hello"])}, {"toxicity.intercepts": None}):
        damaged = {k: v for k, v in {**arrays, **change}.items() if v is not None}
        np.savez(folder / HEADS_FILE, **damaged)
        manifest = json.loads((folder / "manifest.json").read_text())
        manifest["files"][HEADS_FILE] = registry.sha256_of(folder / HEADS_FILE)
        (folder / "manifest.json").write_text(json.dumps(manifest))
        with pytest.raises(ModelLoadError, match=HEADS_FILE):
            load_version(tmp_path, "v1")
        with pytest.raises(ModelLoadError):
            registry.set_active(tmp_path, "v1")


@pytest.mark.parametrize("method", ["isotonic", "sigmoid"])
def test_other_calibrations_and_plain_linear_models_score_as_their_pipelines(tmp_path, method):
    texts = SPAMMY + CLEAN + RUDE
    featurizer = CommentFeaturizer(n_bits=12).fit(texts)
    X, y = featurizer.transform(texts), np.array([int(t in RUDE) for t in texts])
    calibrated = CalibratedClassifierCV(FrozenEstimator(LogisticRegression(C=3.0).fit(X, y)), method=method).fit(X, y)
    pipeline = Pipeline([("features", featurizer), ("classifier", calibrated)])
    write_heads(tmp_path / HEADS_FILE, {"spam": pipeline, "toxicity": pipeline})
    head = LinearHead(read_heads(tmp_path / HEADS_FILE)["toxicity"])
    unseen = texts + ["ты урод и дебил", "статья хорошая", "", "пишите в телеграм, ты идиот"]
    np.testing.assert_allclose(
        head.proba(featurizer.hashed(unseen)), pipeline.predict_proba(unseen)[:, 1], rtol=0, atol=1e-9
    )
