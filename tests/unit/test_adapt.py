"""The site adapter: learns a site's own insult from moderators' labels, folds exactly, saves as a version."""

import random
import shutil
from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pytest
from scipy.special import expit, logit

from moderation import scoring
from moderation.scoring import adapt, registry
from moderation.scoring.signals import SPAM_EVIDENCE_SIGNALS, TOXICITY_IGNORED_SIGNALS
from tests.unit.test_long_comments import INSULT, NEUTRAL, PLAIN

MODELS = Path(__file__).resolve().parents[2] / "models"
DATA = Path(__file__).resolve().parents[3] / "shared" / "data"
# «бырдык» is an invented local insult: the shipped model has never seen it and lets these through.
INSULT_TRAIN = [
    "Бырдык опять всё перепутал в статье",
    "Очередной бырдык из акимата",
    "Эти бырдыки из ЖКХ опять отключили воду",
    "Спросите у этих бырдыков, где деньги",
    "Все бырдыки собрались в маслихате",
    "Новый аким такой же бырдык, как прежний",
    "Этого бырдыка опять выбрали в совет",
    "Опять бырдыки решают за нас",
    "Благоустройством двора занимаются бырдыки",
    "Бырдыку из горсовета виднее, конечно",
    "С бырдыками из управления не договоришься",
    "Ремонт дороги доверили бырдыкам",
]
# The same sentences with an ordinary word: the adapter must learn the insult, not the sentences.
NEUTRAL_TWINS = [
    "Журналист опять всё перепутал в статье",
    "Очередной чиновник из акимата",
    "Эти ребята из ЖКХ опять отключили воду",
    "Спросите у этих депутатов, где деньги",
    "Все депутаты собрались в маслихате",
    "Новый аким такой же строгий, как прежний",
    "Этого ветерана опять выбрали в совет",
    "Опять чиновники решают за нас",
    "Благоустройством двора занимаются волонтёры",
    "Депутату из горсовета виднее, конечно",
    "С инженерами из управления не договоришься",
    "Ремонт дороги доверили подрядчикам",
]
ORDINARY = [
    "Спасибо за статью, очень полезная информация о ремонте дорог в Алматы.",
    "Когда наконец откроют новую школу в нашем микрорайоне?",
    "Автобус номер 32 ходит очень редко, особенно вечером.",
    "Хорошая новость, давно пора было построить парк.",
    "Цены на продукты растут каждый месяц, зарплаты нет.",
    "В нашем дворе до сих пор не убрали снег.",
    "Погода в выходные обещает быть тёплой, поедем в горы.",
    "Поздравляю победителей олимпиады, молодцы ребята!",
    "Интересно, сколько стоил этот проект городу?",
    "Фото к статье отличные, видно, что автор старался.",
    "Надеюсь, светофор на перекрёстке всё-таки поставят.",
    "Моя дочь ходит в эту библиотеку, там очень уютно.",
    "А где можно узнать расписание приёма у врача?",
    "Хорошо, что начали ремонтировать теплотрассу летом.",
    "В статье ошибка в дате, поправьте, пожалуйста.",
    "Согласен с автором, проблема с парковками серьёзная.",
]
# Unseen sentences and other inflections, each with its ordinary twin.
INSULT_NEW = [
    "Главный инженер у них бырдык",
    "Снова бырдыком назвали, и правильно",
    "Дороги у нас строят бырдыки",
    "Передайте бырдыкам из акимата привет",
    "Этот бырдык даже снег убрать не может",
    "Вчера видел бырдыка на остановке",
]
NEUTRAL_NEW = [
    "Главный инженер у них молодой",
    "Снова мастером назвали, и правильно",
    "Дороги у нас строят подрядчики",
    "Передайте ребятам из акимата привет",
    "Этот дворник даже снег убрать не может",
    "Вчера видел соседа на остановке",
]


def site_decisions(seed=3):
    """(text, toxic) of the moderators' decisions: each sentence plain and with a lead-in, shuffled."""

    def variants(sentence):
        return [sentence, "Честно говоря, " + sentence[0].lower() + sentence[1:]]

    rows = [(v, True) for s in INSULT_TRAIN for v in variants(s)]
    rows += [(v, False) for s in NEUTRAL_TWINS for v in variants(s)] + [(s, False) for s in ORDINARY]
    random.Random(seed).shuffle(rows)
    return rows


@pytest.fixture(scope="module")
def base():
    """The shipped active version (read only)."""
    return scoring.load_active(MODELS)


@pytest.fixture(scope="module")
def adapted(base):
    """The shipped version adapted on the site's decisions: (models, account)."""
    labels = [adapt.SiteLabel(text, False, toxic) for text, toxic in site_decisions()]
    return adapt.adapt(base, adapt.task_rows(labels))


def toxicity(bundle, texts):
    return np.array([s.toxicity for s in bundle.score(texts, explain=False)])


def test_the_site_insult_is_learnt_in_new_sentences_and_inflections(base, adapted):
    models, account = adapted
    new = adapt.bundle_of("v-test", models, base.manifest)
    hold = base.thresholds["toxicity_hold"]
    assert (toxicity(base, INSULT_NEW) < hold).all(), "the shipped model must let the insult through"
    assert (toxicity(new, INSULT_NEW) >= hold).all()
    assert (toxicity(new, NEUTRAL_NEW) < hold).all() and (toxicity(new, ORDINARY) < hold).all()
    assert (toxicity(new, ORDINARY) - toxicity(base, ORDINARY)).max() < 0.15
    terms = [s.toxicity_terms for s in new.score(INSULT_NEW)]
    assert all(any(t.lower().startswith("бырдык") for t in found) for found in terms), terms
    assert account["toxicity"]["adapted"] and account["toxicity"]["rows"] == 2 * 24 + 16
    # Every label is a non-spam one: spam keeps the base model itself.
    assert not account["spam"]["adapted"] and models["spam"] is base.pipelines["spam"]


def test_the_correction_folds_exactly_into_the_heads(base):
    texts = [t for t, _ in site_decisions()] + [
        "Қазақ тілінде жазылған пікір, рахмет",
        "Buy cheap pills now www.pills.example",
    ]
    labels = np.array([int(toxic) for _, toxic in site_decisions()] + [0, 1])
    batch = base.featurizers["toxicity"].hashed(texts)
    log_odds = adapt.base_log_odds(base, "toxicity", batch)
    correction = adapt.fit_correction(batch.to_csr(), log_odds, labels)
    expected = expit((1 + correction.scale) * log_odds + batch.to_csr() @ correction.weights + correction.intercept)
    folded = adapt.bundle_of(
        "v-test",
        {"spam": base.pipelines["spam"], "toxicity": adapt.fold(base.pipelines["toxicity"], correction)},
        base.manifest,
    )
    np.testing.assert_allclose(toxicity(folded, texts), expected, atol=2e-4)
    # The sklearn path (predict_proba) agrees with the fast scorer.
    proba = folded.pipelines["toxicity"].predict_proba(texts)[:, 1]
    np.testing.assert_allclose(proba, expected, atol=2e-4)
    assert np.allclose(toxicity(base, texts), expit(log_odds), atol=1e-6), "the base pipeline is left as it was"


def test_an_adapted_version_moves_the_long_comment_rule_as_every_comment(base):
    # A correction without word weights moves every calibrated logit the same way: the long comment held by the
    # base's long-comment rule must move exactly as the short comments do.
    width = base.featurizers["toxicity"].n_features
    correction = adapt.Correction(0.3, -0.5, np.zeros(width), rows=2, positives=1, iterations=0, converged=True)
    models = {"spam": base.pipelines["spam"], "toxicity": adapt.fold(base.pipelines["toxicity"], correction)}
    account = {"spam": {"adapted": False}, "toxicity": {"adapted": True, **correction.summary()}}
    new = adapt.bundle_of("v-test", models, adapt.adapted_manifest(base, "v-test", account))
    texts = [NEUTRAL.format(INSULT), NEUTRAL.format(PLAIN), INSULT, *ORDINARY[:3]]
    before = toxicity(base, texts)
    assert before[0] >= base.thresholds["toxicity_hold"]  # held by the rule (tests/unit/test_long_comments.py)
    np.testing.assert_allclose(toxicity(new, texts), expit(1.3 * logit(before) - 0.5), atol=1e-4)
    # The manifest's span weight at the hold is the adapted rule's own.
    rule = new.manifest["long_comments"]
    at_hold = np.array([rule["scale"] * rule["span_weight_at_hold"] + rule["shift"]])
    assert new.heads["toxicity"].calibrate(at_hold)[0] == pytest.approx(base.thresholds["toxicity_hold"], abs=1e-3)


def test_a_sites_correction_cannot_make_split_letters_lower_a_score(base):
    """A site's moderators approving many «и т.д» must not teach the model that letters split apart mean an
    ordinary comment: a correction either way leaves the signal's weight at 0 or above
    (signals.NON_NEGATIVE_SIGNALS)."""
    featurizer = base.featurizers["toxicity"]
    column = featurizer.signal_column("spaced")
    folded_weights = []
    for push in (-5.0, 5.0):
        weights = np.zeros(featurizer.n_features)
        weights[column] = push
        correction = adapt.Correction(0.0, 0.0, weights, rows=2, positives=1, iterations=0, converged=True)
        _featurizer, model, _calibrator = adapt.linear_parts(adapt.fold(base.pipelines["toxicity"], correction))
        folded_weights.append(model.head_coef_[:, column])
    assert all((w >= 0).all() for w in folded_weights)
    assert any((w > 0).any() for w in folded_weights)  # the push that raises it does


def test_a_sites_correction_cannot_make_links_handles_or_emoji_evidence_of_an_insult(base):
    """A version whose toxicity model ignores spam evidence and emoji keeps ignoring them after a site's correction,
    whichever way the correction pushes (signals.TOXICITY_IGNORED_SIGNALS); a version without that constraint is
    left as is."""
    featurizer = base.featurizers["toxicity"]
    columns = featurizer.ignored_columns(TOXICITY_IGNORED_SIGNALS)
    assert featurizer.signal_column("emoji_share") in columns
    assert adapt.zero_columns(base, "toxicity") == columns  # the shipped version states the constraint
    assert adapt.zero_columns(base, "spam") == []
    for push in (-5.0, 5.0):
        weights = np.zeros(featurizer.n_features)
        weights[columns] = push
        correction = adapt.Correction(0.0, 0.0, weights, rows=2, positives=1, iterations=0, converged=True)
        folded = adapt.fold(base.pipelines["toxicity"], correction, adapt.zero_columns(base, "toxicity"))
        assert (adapt.linear_parts(folded)[1].head_coef_[:, columns] == 0).all()
        unconstrained = adapt.fold(base.pipelines["toxicity"], correction)
        assert (adapt.linear_parts(unconstrained)[1].head_coef_[:, columns] != 0).any()


def test_a_version_keeps_the_constraint_its_manifest_states_under_either_key(base):
    """Versions before v20261205-102632 state what toxicity ignores as `toxicity_ignores_spam_evidence` (no emoji);
    one that states nothing has no columns held at 0."""
    featurizer = base.featurizers["toxicity"]
    record = {"signals": list(SPAM_EVIDENCE_SIGNALS), "placeholders": ["url", "email", "handle", "phone"]}

    def stating(**manifest):
        return SimpleNamespace(manifest=manifest, featurizers=base.featurizers)

    older = adapt.zero_columns(stating(toxicity_ignores_spam_evidence=record), "toxicity")
    assert older == featurizer.ignored_columns(SPAM_EVIDENCE_SIGNALS)
    assert featurizer.signal_column("has_handle") in older and featurizer.signal_column("emoji_share") not in older
    assert adapt.zero_columns(stating(), "toxicity") == []
    newer = adapt.zero_columns(stating(toxicity_ignores={**record, "signals": ["emoji_share"]}), "toxicity")
    assert featurizer.signal_column("emoji_share") in newer and featurizer.signal_column("has_handle") not in newer


def test_without_evidence_the_adapted_model_is_the_base(base):
    texts = ORDINARY + INSULT_NEW
    batch = base.featurizers["toxicity"].hashed(texts)
    correction = adapt.fit_correction(
        batch.to_csr(),
        adapt.base_log_odds(base, "toxicity", batch),
        [0] * len(ORDINARY) + [1] * len(INSULT_NEW),
        settings={"l2": 1e9, "l2_scale": 1e9, "l2_intercept": 1e9},
    )
    folded = adapt.fold(base.pipelines["toxicity"], correction)
    np.testing.assert_allclose(
        folded.predict_proba(texts)[:, 1], base.pipelines["toxicity"].predict_proba(texts)[:, 1], atol=1e-5
    )


def test_labels_of_one_class_teach_nothing(base):
    approvals = [adapt.SiteLabel(text, False, False) for text in ORDINARY + NEUTRAL_TWINS]
    with pytest.raises(adapt.AdaptError, match="both classes"):
        adapt.adapt(base, adapt.task_rows(approvals))
    with pytest.raises(adapt.AdaptError):
        adapt.adapt(base, {"spam": [], "toxicity": []})


def test_an_adapted_version_saves_and_loads_through_the_registry(base, adapted, tmp_path):
    models, account = adapted
    models_dir = tmp_path / "models"
    shutil.copytree(MODELS / base.version, models_dir / base.version)
    (models_dir / "ACTIVE").write_text(base.version + "\n")
    version = adapt.version_id(models_dir)
    manifest = adapt.adapted_manifest(base, version, account)
    registry.save_version(models_dir, version, models, manifest)
    loaded = scoring.load_version(models_dir, version)  # checksums and trusted types, as workers load it
    np.testing.assert_allclose(
        toxicity(loaded, INSULT_NEW), toxicity(adapt.bundle_of(version, models, manifest), INSULT_NEW), atol=1e-6
    )
    assert loaded.thresholds == base.thresholds
    assert loaded.manifest["adapter"]["base_version"] == base.version
    assert "dev_metrics" not in loaded.manifest  # the base's dev figures do not describe the adapted model
    assert adapt.base_version_of(loaded.manifest) == base.version
    assert adapt.version_id(models_dir) != version  # taken now
    scoring.set_active(models_dir, version)
    assert scoring.load_active(models_dir).version == version


def test_compare_on_labels_counts_what_changes(base, adapted):
    models, _account = adapted
    new = adapt.bundle_of("v-test", models, base.manifest)
    held_out = (
        [adapt.SiteLabel(t, False, True) for t in INSULT_NEW]
        + [adapt.SiteLabel(t, False, False) for t in NEUTRAL_NEW]
        + [adapt.SiteLabel("Купите дешёвые таблетки, пишите в телеграм @pills", True, None)]
    )
    limits = {"active": base.thresholds, "new": new.thresholds}
    result = adapt.compare_on_labels({"active": base, "new": new}, limits, held_out, held_out)
    tox = result["held_out"]["toxicity"]
    assert tox["active"]["n"] == tox["new"]["n"] == 12
    assert tox["active"]["recall"] == 0.0 and tox["new"]["recall"] == 1.0 and tox["new"]["precision"] == 1.0
    assert tox["new"]["roc_auc"] > tox["active"]["roc_auc"]
    assert result["held_out"]["spam"]["new"]["n"] == 13
    assert result["recent"]["new"] == {"changed": 6, "toward_moderators": 6, "away_from_moderators": 0}


@pytest.mark.skipif(not (DATA / "toxicity.csv").is_file(), reason="no base data in ../shared/data")
def test_the_base_dev_figures_do_not_drop(base, adapted):
    """What the shipped model knows survives: the base data's dev split scores as well as before."""
    models, _account = adapted
    dev = adapt.dev_comparison({"active": base, "new": adapt.bundle_of("v-test", models, base.manifest)}, DATA)
    for task in ("spam", "toxicity"):
        old, new = dev["active"][task]["overall"], dev["new"][task]["overall"]
        assert new["roc_auc"] >= old["roc_auc"] - 0.002, (task, old, new)
        assert new["f1"] >= old["f1"] - 0.01, (task, old, new)
    old, new = (dev[name]["toxicity"]["by_source"]["ru_2ch_pikabu"] for name in ("active", "new"))
    assert new["roc_auc"] >= old["roc_auc"] - 0.002 and new["recall"] >= old["recall"] - 0.02, (old, new)
