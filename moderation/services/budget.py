"""A site's hold budget: hold thresholds derived from its own recent comments, so the held share tracks it.

No fixed threshold fits every site: the same model holds 5% of one site's comments and 30% of
another's. An admin gives the share (or the number a day) of comments the moderators can review;
the background task `moderation.budgets` rescores the site's latest comments with the model version
deciding them (the site's own, or the active one) and moves the toxicity and spam hold thresholds
together (one shift in log-odds, so the two keep their relative strictness) until the comments they
would hold, with those the rules hold (links, pre-moderation, campaigns, word lists, complaints),
make up the budget.

Bounds: the toxicity hold never rises above BLATANT (the model's own threshold if that is higher),
so a comment the model is sure of is always held; the spam hold never rises above the spam
threshold (beyond it comments go to spam, which the budget does not touch). A site with fewer than
MIN_COMMENTS recent comments, or a state computed for another model version or another budget, keeps
the model's thresholds.
Thresholds an admin or the environment set explicitly win over the budget: they stay as set, and the
budget moves the other one around them. A budget a day is read as a share of the window's comments a
day, at most MAX_PERCENT.
"""

import logging
import math
import re
from datetime import timedelta

import numpy as np
from sqlalchemy import select, update

from moderation.db import db, utcnow
from moderation.models import PENDING, SPAM, Comment, Site
from moderation.services import scorer, thresholds

log = logging.getLogger(__name__)
BUDGET_KEYS = (thresholds.TOXICITY_HOLD, thresholds.SPAM_HOLD)  # the thresholds a budget moves
WINDOW_DAYS, WINDOW_MAX = 14, 3000  # the rolling window: the latest comments of the last two weeks
MIN_COMMENTS = 300  # below this many the model's thresholds apply: too few to read a share from
BLATANT = 0.98
LOWEST = 0.01  # a hold threshold never goes below this, whatever the budget
MAX_PERCENT, MAX_PER_DAY = 50.0, 100_000
# Reasons that hold a comment whatever its scores: the budget leaves room for them.
RULE_HOLDS = {"links", "premoderation", "campaign", "watchlist", "reports"}


class BudgetError(ValueError):
    """A budget out of range or not understood; the message names the field."""


def parse(text):
    """(percent, per day) from "5", "5%", "2.5 %", "40/day" or "off" (None, None)."""
    text = (text or "").strip().lower()
    if text in ("off", "none", ""):
        return None, None
    per_day = re.fullmatch(r"(\d+)\s*/\s*(day|d|день|сутки|күн)", text)
    if per_day:
        return None, int(per_day.group(1))
    percent = re.fullmatch(r"(\d+(?:[.,]\d+)?)\s*%?", text)
    if percent:
        return float(percent.group(1).replace(",", ".")), None
    raise BudgetError("budget")


def set_budget(site, percent=None, per_day=None):
    """Give the site a budget (a percentage or a number a day), or none; the thresholds follow at the next run.

    Return whether it changed: the same budget again keeps the thresholds in force.
    """
    if percent is not None and per_day is not None:
        raise BudgetError("budget")
    if percent is not None and not (0 < percent <= MAX_PERCENT and math.isfinite(percent)):
        raise BudgetError("hold_budget_percent")
    if per_day is not None and not 1 <= per_day <= MAX_PER_DAY:
        raise BudgetError("hold_budget_per_day")
    if (site.hold_budget_percent, site.hold_budget_per_day) == (percent, per_day):
        return False
    site.hold_budget_percent, site.hold_budget_per_day = percent, per_day
    site.budget_state = None
    db.session.commit()
    return True


def has_budget(site):
    """Whether the site has a budget (a percentage or a number a day)."""
    return site.hold_budget_percent is not None or site.hold_budget_per_day is not None


def describe(site):
    """The budget as an admin writes it: "5%", "40/day" or "off"."""
    if site.hold_budget_per_day is not None:
        return f"{site.hold_budget_per_day}/day"
    if site.hold_budget_percent is not None:
        return f"{site.hold_budget_percent:g}%"
    return "off"


def window(site_id, now=None):
    """The site's latest decided comments in the window, newest first: text, name, status, reasons, who, when."""
    since = (now or utcnow()) - timedelta(days=WINDOW_DAYS)
    rows = db.session.execute(
        select(
            Comment.text, Comment.name, Comment.status, Comment.reason_codes, Comment.moderated_at, Comment.created_at
        )
        .where(Comment.site_id == site_id, Comment.created_at >= since, Comment.status != PENDING)
        .order_by(Comment.created_at.desc(), Comment.id.desc())
        .limit(WINDOW_MAX)
    ).all()
    db.session.rollback()  # hold no transaction while the model scores the window
    return rows


def held_by_rules(row):
    """Whether a rule held the comment, whatever its scores (not one the filter itself sent to spam)."""
    filter_spam = row.status == SPAM and row.moderated_at is None
    return bool(RULE_HOLDS & set((row.reason_codes or "").split())) and not filter_spam


def per_day(rows, now=None):
    """Comments a day in the window: over the span the rows cover, at least one day."""
    if not rows:
        return 0.0
    span = ((now or utcnow()) - min(row.created_at for row in rows)).total_seconds() / 86400
    return len(rows) / max(span, 1.0)


def _shifted(threshold, shift, low, high):
    threshold = min(max(threshold, 1e-6), 1 - 1e-6)
    value = 1 / (1 + math.exp(-(math.log(threshold / (1 - threshold)) + shift)))
    return min(max(value, low), high)


def thresholds_for(shift, model, fixed=()):
    """The hold thresholds a log-odds shift gives, within the bounds; those in `fixed` stay as `model` has them."""
    moved = {
        "toxicity_hold": _shifted(model["toxicity_hold"], shift, LOWEST, max(BLATANT, model["toxicity_hold"])),
        "spam_hold": _shifted(model["spam_hold"], shift, LOWEST, model["spam"]),
    }
    return {key: model[key] if key in fixed else value for key, value in moved.items()}


def held_share(spam, toxicity, limits, ruled=None):
    """The share of comments held: by a rule (`ruled`), or by the scores short of the spam threshold."""
    held = (spam < limits["spam"]) & ((toxicity >= limits["toxicity_hold"]) | (spam >= limits["spam_hold"]))
    if ruled is not None:
        held |= ruled
    return float(held.mean()) if len(held) else 0.0


def solve(spam, toxicity, model, target, ruled=None, fixed=()):
    """The log-odds shift whose thresholds hold `target` of these comments (as near as the bounds allow)."""
    low, high = -12.0, 12.0  # shifting down holds more, up holds less
    for _ in range(50):
        middle = (low + high) / 2
        if held_share(spam, toxicity, {**model, **thresholds_for(middle, model, fixed)}, ruled) > target:
            low = middle
        else:
            high = middle
    return high


def budget_of(site):
    """The site's budget as a state records it."""
    return {"percent": site.hold_budget_percent, "per_day": site.hold_budget_per_day}


def compute(site, bundle, explicit=None, now=None):
    """Derive the site's thresholds from its window scored by `bundle`; store and return the state.

    `explicit` are the thresholds admins or the environment set (scorer.explicit): they stay as set, and
    the others move around them.
    """
    now, explicit = now or utcnow(), explicit or {}
    budget, site_id = budget_of(site), site.id
    previous = site.budget_state or {}
    rows = window(site_id, now)
    daily = per_day(rows, now)
    state = {
        "version": bundle.version,
        "window": len(rows),
        "per_day": round(daily, 1),
        "computed_at": now.isoformat(timespec="seconds"),
        "budget": budget,
    }
    if len(rows) < MIN_COMMENTS:
        state["status"] = "learning"
    else:
        target = (
            budget["percent"] if budget["percent"] is not None else min(100 * budget["per_day"] / daily, MAX_PERCENT)
        ) / 100
        ruled = np.array([held_by_rules(row) for row in rows])
        scores = bundle.score([row.text for row in rows], [row.name for row in rows], explain=False)
        spam, toxicity = np.array([s.spam for s in scores]), np.array([s.toxicity for s in scores])
        model = {
            key: float(explicit.get(key, bundle.thresholds[key])) for key in ("toxicity_hold", "spam_hold", "spam")
        }
        limits = thresholds_for(solve(spam, toxicity, model, target, ruled, explicit), model, explicit)
        expected = held_share(spam, toxicity, {**model, **limits}, ruled)
        since = previous.get("active_since") if previous.get("status") == "active" else None
        state.update(
            status="active",
            active_since=since or state["computed_at"],
            target=round(target, 4),
            rule_share=round(float(ruled.mean()), 4),
            expected_share=round(expected, 4),
            expected_per_day=round(expected * daily, 1),
            fixed=sorted(key for key in BUDGET_KEYS if key in explicit),
            model={key: round(float(bundle.thresholds[key]), 4) for key in BUDGET_KEYS},
            **{key: round(value, 4) for key, value in limits.items()},
        )
    # Written only if the budget is still the one scored for: an admin may have changed it meanwhile.
    stored = db.session.execute(
        update(Site)
        .where(
            Site.id == site_id,
            _same(Site.hold_budget_percent, budget["percent"]),
            _same(Site.hold_budget_per_day, budget["per_day"]),
        )
        .values(budget_state=state)
    ).rowcount
    db.session.commit()
    if not stored:
        log.info("hold budget of site %s changed while it was computed; this result is dropped", site_id)
    return state


def _same(column, value):
    return column.is_(None) if value is None else column == value


def recompute_all(models_dir, explicit=None):
    """Recompute every budgeted site's thresholds with the version deciding its comments; {site id: status}."""
    ids = db.session.scalars(
        select(Site.id).where((Site.hold_budget_percent.is_not(None)) | (Site.hold_budget_per_day.is_not(None)))
    ).all()
    done = {}
    for site_id in ids:
        site = db.session.get(Site, site_id)
        if site is None:  # deleted meanwhile
            continue
        try:
            done[site_id] = compute(site, scorer.bundle_for(models_dir, site.model_version), explicit)["status"]
        except Exception:  # one site's failure must not stop the others'
            db.session.rollback()
            log.exception("hold budget of site %s could not be computed", site_id)
            done[site_id] = "failed"
    return done


def in_force(state, version, site_budget):
    """The thresholds the budget sets now ({} when none): computed for this model version and this budget."""
    if (
        not state
        or state.get("status") != "active"
        or state.get("version") != version
        or state.get("budget") != site_budget
    ):
        return {}
    return {key: state[key] for key in BUDGET_KEYS}
