"""The hold budget's arithmetic: reading a budget, and thresholds that hold the asked share within their bounds."""

import numpy as np
import pytest

from moderation.services import budget

MODEL = {"toxicity_hold": 0.83, "spam_hold": 0.5, "spam": 0.9}


@pytest.mark.parametrize(
    "text, expected",
    [
        ("5", (5.0, None)),
        ("5%", (5.0, None)),
        (" 2,5 % ", (2.5, None)),
        ("40/day", (None, 40)),
        ("40 / день", (None, 40)),
        ("off", (None, None)),
        ("", (None, None)),
    ],
)
def test_a_budget_is_read_as_a_percentage_or_a_number_a_day(text, expected):
    assert budget.parse(text) == expected


@pytest.mark.parametrize("text", ["abc", "5%%", "-3", "1e3", "40/week"])
def test_anything_else_is_refused(text):
    with pytest.raises(budget.BudgetError):
        budget.parse(text)


def scores(n=4000, seed=0):
    """Scores shaped like a news site's: most comments low on both, a tail of toxic ones, a few spam.

    The model's thresholds hold about 5% of them.
    """
    rng = np.random.default_rng(seed)
    toxicity = rng.beta(0.5, 1.5, n)
    spam = rng.beta(0.3, 3.0, n)
    return spam, toxicity


@pytest.mark.parametrize("target", [0.02, 0.05, 0.10, 0.30])
def test_the_thresholds_hold_the_asked_share(target):
    spam, toxicity = scores()
    limits = {**MODEL, **budget.thresholds_for(budget.solve(spam, toxicity, MODEL, target), MODEL)}
    assert budget.held_share(spam, toxicity, limits) == pytest.approx(target, abs=0.002)
    assert limits["spam_hold"] <= limits["spam"]


def test_both_hold_thresholds_move_together_in_log_odds():
    spam, toxicity = scores()
    assert budget.held_share(spam, toxicity, MODEL) == pytest.approx(0.05, abs=0.01)
    strict = budget.thresholds_for(budget.solve(spam, toxicity, MODEL, 0.30), MODEL)
    loose = budget.thresholds_for(budget.solve(spam, toxicity, MODEL, 0.02), MODEL)
    assert strict["toxicity_hold"] < MODEL["toxicity_hold"] and strict["spam_hold"] < MODEL["spam_hold"]
    assert loose["toxicity_hold"] > MODEL["toxicity_hold"] and loose["spam_hold"] > MODEL["spam_hold"]


def test_a_tiny_budget_never_lets_blatant_comments_through():
    """However small the budget, the toxicity hold stops at BLATANT and spam holds at the spam threshold."""
    spam, toxicity = scores()
    toxicity[:200] = 0.99  # 5% blatant
    limits = {**MODEL, **budget.thresholds_for(budget.solve(spam, toxicity, MODEL, 0.001), MODEL)}
    assert limits["toxicity_hold"] == pytest.approx(budget.BLATANT)
    assert limits["spam_hold"] == pytest.approx(MODEL["spam"])
    assert budget.held_share(spam, toxicity, limits) >= 0.05  # more than asked: the blatant ones stay held


def test_a_state_applies_only_to_the_model_version_and_budget_it_was_computed_for():
    five = {"percent": 5.0, "per_day": None}
    state = {"status": "active", "version": "v1", "toxicity_hold": 0.6, "spam_hold": 0.4, "budget": five}
    assert budget.in_force(state, "v1", five) == {"toxicity_hold": 0.6, "spam_hold": 0.4}
    assert budget.in_force(state, "v2", five) == {}
    assert budget.in_force(state, "v1", {"percent": None, "per_day": 40}) == {}
    assert budget.in_force({**state, "status": "learning"}, "v1", five) == {}
    assert budget.in_force(None, "v1", five) == {}


def test_what_the_rules_hold_counts_once_and_spam_is_never_held():
    spam = np.array([0.0, 0.0, 0.95, 0.0])
    toxicity = np.array([0.9, 0.1, 0.99, 0.1])
    ruled = np.array([True, True, False, False])
    # The toxic one the rules hold too counts once; the spam one goes to spam, not to the moderators.
    assert budget.held_share(spam, toxicity, MODEL, ruled) == 0.5
    assert budget.held_share(spam, toxicity, MODEL) == 0.25


def test_a_threshold_set_explicitly_stays_and_the_other_one_moves():
    spam, toxicity = scores()
    fixed = {"spam_hold"}
    limits = budget.thresholds_for(budget.solve(spam, toxicity, MODEL, 0.2, fixed=fixed), MODEL, fixed)
    assert limits["spam_hold"] == MODEL["spam_hold"] and limits["toxicity_hold"] < MODEL["toxicity_hold"]
    assert budget.held_share(spam, toxicity, {**MODEL, **limits}) == pytest.approx(0.2, abs=0.002)
