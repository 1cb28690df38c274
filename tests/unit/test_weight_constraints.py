"""A shipped version gets the weight constraints training now applies, without a retrain (add_weight_constraints)."""

import shutil
from pathlib import Path

import numpy as np
import pytest

from moderation.scoring import load_version, registry
from moderation.scoring.train import add_weight_constraints

ROOT = Path(__file__).resolve().parents[2]
DATA = ROOT.parent / "shared" / "data"
INSULT = "Судья продажная мразь, позор такому суду"


def unconstrained_version() -> str | None:
    """A shipped version whose toxicity model still weighs spam evidence (the rollback target, when it does)."""
    for version in [v["version"] for v in registry.list_versions(ROOT / "models")]:
        if not registry.read_manifest(ROOT / "models", version).get("toxicity_ignores_spam_evidence"):
            return version
    return None


@pytest.mark.skipif(not (DATA / "toxicity.csv").exists(), reason="shared data not available")
def test_a_version_gets_the_constraints_and_only_its_toxicity_weights_on_spam_evidence_change(tmp_path):
    base = unconstrained_version()
    if base is None:
        pytest.skip("every shipped version ignores spam evidence already")
    shutil.copytree(ROOT / "models" / base, tmp_path / base)
    registry.set_active(tmp_path, base)
    version = add_weight_constraints(DATA, tmp_path, base)
    before, after = load_version(tmp_path, base), load_version(tmp_path, version)
    assert after.manifest["derived_from"] == base
    assert after.manifest["classifiers"]["toxicity"]["ignores_spam_evidence"] is True
    assert after.manifest["toxicity_ignores_spam_evidence"]["signals"]
    columns = after.featurizers["toxicity"].spam_evidence_columns()
    tox_before, tox_after = before.heads["toxicity"].coef, after.heads["toxicity"].coef
    assert (tox_before[:, columns] != 0).any() and (tox_after[:, columns] == 0).all()
    others = np.setdiff1d(np.arange(tox_before.shape[1]), columns)
    np.testing.assert_array_equal(tox_after[:, others], tox_before[:, others])
    np.testing.assert_array_equal(after.heads["spam"].coef, before.heads["spam"].coef)
    # A phone-like number appended to an insult lowers its score less (no weight of phones and long numbers; the
    # longer text's dilution is left).
    appended = [INSULT + " 1234 5678 9012"]
    assert after.score(appended, explain=False)[0].toxicity > before.score(appended, explain=False)[0].toxicity
