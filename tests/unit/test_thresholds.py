"""The thresholds by name: what an admin may post as an override, and the order the three must keep."""

import pytest

from moderation.services import scorer, thresholds


@pytest.mark.parametrize(
    "raw, expected", [("", None), ("  ", None), (None, None), ("0,25", 0.25), (" 1 ", 1.0), ("0", 0.0)]
)
def test_a_posted_threshold_is_a_number_from_0_to_1_or_empty(raw, expected):
    assert thresholds.parse(raw) == expected


@pytest.mark.parametrize("raw", ["1.5", "-0.1", "nan", "inf", "abc", "0.5.1"])
def test_anything_else_is_refused(raw):
    with pytest.raises(thresholds.ThresholdError, match="number"):
        thresholds.parse(raw)


def test_a_form_gives_every_threshold_by_name():
    assert thresholds.parse_all({"spam": "0.9", "other": "0.1"}) == {
        "spam_hold": None,
        "spam": 0.9,
        "toxicity_hold": None,
    }


def test_the_spam_hold_must_not_pass_the_spam_threshold():
    thresholds.check_order({"spam_hold": 0.5, "spam": 0.5, "toxicity_hold": 0.9})
    thresholds.check_order({"spam_hold": 0.95})  # the other one unknown: nothing to compare
    with pytest.raises(thresholds.ThresholdError, match="order"):
        thresholds.check_order({"spam_hold": 0.95, "spam": 0.9})


def test_every_threshold_has_a_label_and_an_environment_setting():
    assert tuple(thresholds.LABELS) == thresholds.NAMES
    assert sorted(thresholds.ENVIRONMENT_KEYS.values()) == sorted(thresholds.NAMES)
    assert scorer.explicit({"SPAM_HOLD": 0.3, "SPAM_THRESHOLD": -1.0, "TOXICITY_HOLD": 0.7}) == {
        "spam_hold": 0.3,
        "toxicity_hold": 0.7,
    }
