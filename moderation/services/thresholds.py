"""The decision thresholds by name: the three there are, what admins read for each, the setting that fixes each
from the environment, and what an admin's override must be.

A comment goes to spam at `spam`, is held for moderators at `spam_hold` or `toxicity_hold`, else approved
(scoring.predict.decide). The model's manifest gives all three; the environment, an admin or a site's hold
budget may replace some of them (services/scorer.py says in which order).
"""

import math

from flask_babel import lazy_gettext as _l

SPAM_HOLD, SPAM, TOXICITY_HOLD = "spam_hold", "spam", "toxicity_hold"
NAMES = (SPAM_HOLD, SPAM, TOXICITY_HOLD)  # in the order the thresholds page lists them
LABELS = {
    SPAM_HOLD: _l("Hold for moderators when spam ≥"),
    SPAM: _l("Mark as spam when spam ≥"),
    TOXICITY_HOLD: _l("Hold for moderators when toxicity ≥"),
}
# The configuration key (MODERATION_<KEY> in the environment) that fixes each; a negative value keeps the model's.
ENVIRONMENT_KEYS = {"SPAM_HOLD": SPAM_HOLD, "SPAM_THRESHOLD": SPAM, "TOXICITY_HOLD": TOXICITY_HOLD}


class ThresholdError(ValueError):
    """An override refused: "number" (not a number from 0 to 1) or "order" (the spam hold above spam)."""


def parse(raw):
    """A posted threshold: None when empty (follow the model), else a float in 0..1 (ThresholdError("number"))."""
    raw = (raw or "").strip().replace(",", ".")
    if not raw:
        return None
    try:
        value = float(raw)
    except ValueError as exc:
        raise ThresholdError("number") from exc
    if not math.isfinite(value) or not 0 <= value <= 1:
        raise ThresholdError("number")
    return value


def parse_all(form):
    """Every threshold of a posted form by name (None: follow the model); ThresholdError("number")."""
    return {name: parse(form.get(name)) for name in NAMES}


def check_order(effective):
    """Refuse thresholds that would hold for spam above the spam threshold, where nothing is left to hold."""
    if SPAM_HOLD in effective and SPAM in effective and effective[SPAM_HOLD] > effective[SPAM]:
        raise ThresholdError("order")
