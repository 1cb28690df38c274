"""The long-comment rule: one insult in a long neutral comment is held, though the whole comment's n-grams dilute
it; short comments and versions without the rule score as their models do."""

import shutil
from pathlib import Path

import numpy as np
import pytest

from moderation.scoring import load_active, load_version, registry
from moderation.scoring.evaluate import read_unlabelled
from moderation.scoring.normalise import normalise
from moderation.scoring.predict import LongCommentRule, ModelBundle, strongest_spans
from moderation.scoring.train import LONG_COMMENT_TOP, add_long_comment_rule, long_comment_rule

ROOT = Path(__file__).resolve().parents[2]
DATA = ROOT.parent / "shared" / "data"
UNLABELLED = DATA / "unlabelled_comments.csv"

# About fifty words of a neighbourhood report; written for this test, in none of the probe sets of tests/model.
NEUTRAL = (
    "В субботу в нашем районе открыли новый сквер возле школы номер двенадцать. Пришли жители, дети, "
    "представители акимата и строители. Рассказали, что посадили сорок деревьев, поставили скамейки и фонари, "
    "а весной обещают сделать спортивную площадку. {} Люди спрашивали про освещение вечером и про мусорные "
    "баки, ответы записали."
)
INSULT = "Прораб, этот дебил, опять перепутал все сроки."
PLAIN = "Прораб сказал, что сроки немного сдвинулись."


@pytest.fixture(scope="module")
def bundle():
    return load_active(ROOT / "models")


def without_rule(bundle):
    return ModelBundle(
        bundle.version, bundle.pipelines, {k: v for k, v in bundle.manifest.items() if k != "long_comments"}
    )


def toxicity(bundle, texts):
    return np.array([s.toxicity for s in bundle.score(texts, explain=False)])


def test_the_active_version_has_the_rule(bundle):
    assert isinstance(bundle.long_comments, LongCommentRule)
    assert len(normalise(NEUTRAL.format(INSULT)).words) >= bundle.long_comments.min_words


def test_one_insult_in_a_long_neutral_comment_is_held_by_the_rule(bundle):
    hold = bundle.thresholds["toxicity_hold"]
    insulting, plain = NEUTRAL.format(INSULT), NEUTRAL.format(PLAIN)
    assert toxicity(without_rule(bundle), [insulting])[0] < hold  # diluted: what the rule is for
    with_rule = toxicity(bundle, [insulting, plain])
    assert with_rule[0] >= hold
    assert with_rule[1] < hold
    assert "дебил" in " ".join(bundle.score([insulting])[0].toxicity_terms)


def test_short_comments_score_as_without_the_rule(bundle):
    texts = [INSULT, PLAIN, "Ты тупой дебил, заткнись", "Спасибо за статью", "Сен ақымақсың ба"]
    np.testing.assert_allclose(toxicity(bundle, texts), toxicity(without_rule(bundle), texts), rtol=0, atol=1e-12)


def test_the_rule_reaches_the_hold_threshold_at_its_span_weight(bundle):
    rule, stated = bundle.long_comments, bundle.manifest["long_comments"]
    at_hold = rule.scale * stated["span_weight_at_hold"] + rule.shift
    assert bundle.heads["toxicity"].calibrate(np.array([at_hold]))[0] == pytest.approx(
        bundle.thresholds["toxicity_hold"], abs=1e-3
    )


@pytest.mark.skipif(not UNLABELLED.exists(), reason=f"no {UNLABELLED}")
def test_the_span_weight_at_hold_is_exceeded_by_the_top_share_of_news_comments(bundle):
    texts = [row["text"] for row in read_unlabelled(UNLABELLED)][:1500]
    rule = long_comment_rule(bundle, texts, bundle.thresholds["toxicity_hold"])
    docs = [normalise(t) for t in texts]
    head, featurizer = bundle.heads["toxicity"], bundle.featurizers["toxicity"]
    heads = head.log_odds(featurizer.hashed(texts, docs))[1]
    strongest = strongest_spans(texts, featurizer, head, heads, [d.cyrillic_text for d in docs])[heads == 0]
    assert (strongest > rule["span_weight_at_hold"]).mean() == pytest.approx(LONG_COMMENT_TOP, abs=0.005)
    assert rule["heads"] == [0] and rule["scale"] > 0


@pytest.mark.skipif(not UNLABELLED.exists(), reason=f"no {UNLABELLED}")
def test_a_version_without_the_rule_gets_it_with_the_same_model_files(tmp_path):
    # Every shipped version has the rule now: the active one without it stands for a version made before it.
    active = registry.active_version(ROOT / "models")
    shutil.copytree(ROOT / "models" / active, tmp_path / active)
    manifest = registry.read_manifest(tmp_path, active)
    manifest = {k: v for k, v in manifest.items() if k not in ("long_comments", "files")}
    base = "v-without-rule"
    registry.copy_version(tmp_path, active, base, manifest)
    registry.set_active(tmp_path, base)
    version = add_long_comment_rule(DATA, tmp_path, base, activate=True)
    assert registry.active_version(tmp_path) == version != base
    bundle, before = load_version(tmp_path, version), load_version(tmp_path, base)
    assert before.long_comments is None and isinstance(bundle.long_comments, LongCommentRule)
    assert bundle.manifest["derived_from"] == base
    assert bundle.manifest["files"] == before.manifest["files"]  # the same models, byte for byte
    assert bundle.manifest["dev_metrics"]["toxicity"]["overall"]["n"] > 0
    texts = [NEUTRAL.format(INSULT), INSULT, PLAIN]
    assert toxicity(bundle, texts)[0] > toxicity(before, texts)[0]
    np.testing.assert_allclose(toxicity(bundle, texts)[1:], toxicity(before, texts)[1:], rtol=0, atol=1e-12)
