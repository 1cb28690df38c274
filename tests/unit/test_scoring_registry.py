"""Model versions: saving, checksum and manifest checks, the active pointer, rollback."""

import json

import numpy as np
import pytest

from moderation.scoring import ModelLoadError, Score, list_versions, load_active, rollback, set_active
from moderation.scoring.data import Example
from moderation.scoring.features import CommentFeaturizer
from moderation.scoring.registry import copy_version, save_version
from moderation.scoring.train import CLASSIFIER_SETTINGS, fit_model

SPAMMY = ["заработок в интернете пишите в телеграм", "доход от 5000 в день @bot_money", "работа на дому пишите"] * 4
CLEAN = ["хорошая статья спасибо", "дороги в городе опять ремонтируют", "интересное мнение автора"] * 4
RUDE = ["ты тупой дебил", "заткнись идиот", "какой же ты урод"] * 4


def toy_models():
    """Two tiny models in the shipped format, trained in milliseconds."""
    featurizer = CommentFeaturizer(n_bits=12).fit(SPAMMY + CLEAN + RUDE)
    out = {}
    for name, positives in (("spam", SPAMMY), ("toxicity", RUDE)):
        rows = [Example(t, int(t in positives), "ru_2ch_pikabu", "ru") for t in SPAMMY + CLEAN + RUDE]
        out[name] = fit_model(featurizer, rows, rows, {**CLASSIFIER_SETTINGS[name], "C": 10.0})
    return out


THRESHOLDS = {"spam_hold": 0.4, "spam": 0.7, "toxicity_hold": 0.5}


@pytest.fixture
def models_dir(tmp_path):
    models = toy_models()
    for version in ("v1", "v2"):
        save_version(tmp_path, version, models, {"created": version, "thresholds": THRESHOLDS})
    set_active(tmp_path, "v1")
    return tmp_path


def test_load_active_scores_a_batch(models_dir):
    bundle = load_active(models_dir)
    assert bundle.version == "v1" and bundle.thresholds == THRESHOLDS
    scores = bundle.score(["доход от 5000 в день пишите в телеграм", "спасибо за статью", "ты тупой дебил"])
    assert all(isinstance(s, Score) for s in scores)
    assert scores[0].spam > scores[1].spam and scores[2].toxicity > scores[1].toxicity
    assert all(0.0 <= s.spam <= 1.0 and 0.0 <= s.toxicity <= 1.0 for s in scores)
    assert bundle.score([]) == []


def test_fast_path_matches_sklearn(models_dir):
    bundle = load_active(models_dir)
    texts = ["доход от 5000 в день", "спасибо", "", "ты дебил"]
    fast = [s.toxicity for s in bundle.score(texts, explain=False)]
    slow = bundle.pipelines["toxicity"].predict_proba(texts)[:, 1]
    assert np.allclose(fast, slow)


def test_tampered_file_is_refused(models_dir):
    path = models_dir / "v1" / "spam.skops"
    path.write_bytes(path.read_bytes() + b"x")
    with pytest.raises(ModelLoadError, match="checksum"):
        load_active(models_dir)


def test_a_copied_version_has_the_base_files_byte_for_byte_under_its_own_manifest(models_dir):
    copy_version(models_dir, "v1", "v3", {"created": "v3", "thresholds": {**THRESHOLDS, "toxicity_hold": 0.6}})
    for name in ("spam.skops", "toxicity.skops", "heads.npz"):
        assert (models_dir / "v3" / name).read_bytes() == (models_dir / "v1" / name).read_bytes()
    set_active(models_dir, "v3")
    assert load_active(models_dir).thresholds["toxicity_hold"] == 0.6


def test_a_base_whose_files_do_not_match_its_manifest_is_not_copied(models_dir):
    path = models_dir / "v1" / "toxicity.skops"
    path.write_bytes(path.read_bytes() + b"x")
    with pytest.raises(ModelLoadError, match="checksums"):
        copy_version(models_dir, "v1", "v3", {"created": "v3", "thresholds": THRESHOLDS})
    assert not (models_dir / "v3").exists()
    assert not [p for p in models_dir.iterdir() if p.name.startswith(".v3")]  # no staging folder left


def test_manifest_naming_another_version_is_refused(models_dir):
    manifest_path = models_dir / "v1" / "manifest.json"
    manifest = json.loads(manifest_path.read_text())
    manifest["version"] = "v9"
    manifest_path.write_text(json.dumps(manifest))
    with pytest.raises(ModelLoadError):
        load_active(models_dir)


def test_missing_pointer_or_version_is_refused(tmp_path):
    with pytest.raises(ModelLoadError):
        load_active(tmp_path)
    (tmp_path / "ACTIVE").write_text("nope\n")
    with pytest.raises(ModelLoadError):
        load_active(tmp_path)


def test_set_active_and_rollback(models_dir):
    set_active(models_dir, "v2")
    assert load_active(models_dir).version == "v2"
    assert [m["version"] for m in list_versions(models_dir) if m["active"]] == ["v2"]
    assert rollback(models_dir) == "v1"
    assert load_active(models_dir).version == "v1"
    with pytest.raises(ModelLoadError):
        rollback(models_dir)


def test_set_active_refuses_a_broken_version(models_dir):
    (models_dir / "v2" / "toxicity.skops").write_bytes(b"junk")
    with pytest.raises(ModelLoadError):
        set_active(models_dir, "v2")
    assert load_active(models_dir).version == "v1"


def test_decide_follows_thresholds(models_dir):
    bundle = load_active(models_dir)
    assert bundle.decide(Score(0.9, 0.0)) == "spam"
    assert bundle.decide(Score(0.5, 0.0)) == "held"
    assert bundle.decide(Score(0.1, 0.6)) == "held"
    assert bundle.decide(Score(0.1, 0.1)) == "approved"


def test_a_version_fitted_on_other_features_is_refused(models_dir):
    save_version(
        models_dir,
        "v_old",
        toy_models(),
        {"created": "v3", "thresholds": THRESHOLDS, "features": {"feature_version": -1}},
    )
    with pytest.raises(ModelLoadError, match="features of version -1"):
        set_active(models_dir, "v_old")
    assert load_active(models_dir).version == "v1"


@pytest.mark.parametrize("name", ["..", ".", "", "../models", ".hidden", "no-such-version", "ACTIVE"])
def test_remove_version_refuses_anything_but_a_version_folder(tmp_path, name):
    from moderation.scoring.registry import remove_version

    models = tmp_path / "models"
    (models / "v1").mkdir(parents=True)
    (models / "v1" / "manifest.json").write_text("{}")
    (models / "ACTIVE").write_text("v1\n")
    (models / ".hidden").mkdir()
    with pytest.raises(ValueError):
        remove_version(models, name)
    assert (models / "v1").is_dir() and (models / ".hidden").is_dir()
