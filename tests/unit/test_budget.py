"""The hold budget's arithmetic: reading a budget, and thresholds that hold the asked share within their bounds."""
import numpy as np
import pytest

from moderation.services import budget

MODEL = {"toxicity_hold": 0.83, "spam_hold": 0.5, "spam": 0.9}


@pytest.mark.parametrize("text, expected", [
    ("5", (5.0, None)), ("5%", (5.0, None)), (" 2,5 % ", (2.5, None)), ("40/day", (None, 40)),
    ("40 / день", (None, 40)), ("off", (None, None)), ("", (None, None)),
])
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


def test_a_state_applies_only_to_the_model_version_it_was_computed_for():
    state = {"status": "active", "version": "v1", "toxicity_hold": 0.6, "spam_hold": 0.4}
    assert budget.in_force(state, "v1") == {"toxicity_hold": 0.6, "spam_hold": 0.4}
    assert budget.in_force(state, "v2") == {}
    assert budget.in_force({**state, "status": "learning"}, "v1") == {}
    assert budget.in_force(None, "v1") == {}
