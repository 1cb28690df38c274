"""The decision rule: approved below both thresholds, spam above the high one, held otherwise."""

import pytest

from moderation.scoring import decide

LIMITS = {"spam_hold": 0.5, "spam": 0.9, "toxicity_hold": 0.6}


@pytest.mark.parametrize(
    "spam, toxicity, status",
    [
        (0.0, 0.0, "approved"),
        (0.49, 0.59, "approved"),
        (0.5, 0.0, "held"),
        (0.0, 0.6, "held"),
        (0.89, 0.0, "held"),
        (0.9, 0.0, "spam"),
        (0.95, 0.99, "spam"),
    ],
)
def test_decide(spam, toxicity, status):
    assert decide(spam, toxicity, LIMITS) == status
