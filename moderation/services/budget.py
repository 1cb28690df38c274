"""A site's hold budget: hold thresholds derived from its own recent comments, so the held share tracks it.

No fixed threshold fits every site: the same model holds 5% of one site's comments and 30% of
another's. An admin gives the share (or the number a day) of comments the moderators can review;
the background task `moderation.budgets` rescores the site's latest comments with the active model
and moves the toxicity and spam hold thresholds together (one shift in log-odds, so the two keep
their relative strictness) until the comments they would hold, plus those other rules hold (links,
pre-moderation, campaigns, word lists, complaints), make up the budget.

Bounds: the toxicity hold never rises above BLATANT (the model's own threshold if that is higher),
so a comment the model is sure of is always held; the spam hold never rises above the spam
threshold (beyond it comments go to spam, which the budget does not touch) and never falls below
the model's spam hold by more than the toxicity hold does. A site with fewer than MIN_COMMENTS
recent comments, or a state computed for another model version, keeps the model's thresholds.
Thresholds an admin or the environment set explicitly win over the budget.
"""
import logging
import math
import re
from datetime import timedelta

import numpy as np
from sqlalchemy import select

from moderation.db import db, utcnow
from moderation.models import PENDING, Comment, Site
from moderation.services import scorer

log = logging.getLogger(__name__)
BUDGET_KEYS = ("toxicity_hold", "spam_hold")
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
    """Give the site a budget (a percentage or a number a day), or none; the thresholds follow at the next run."""
    if percent is not None and per_day is not None:
        raise BudgetError("budget")
    if percent is not None and not (0 < percent <= MAX_PERCENT and math.isfinite(percent)):
        raise BudgetError("hold_budget_percent")
    if per_day is not None and not 1 <= per_day <= MAX_PER_DAY:
        raise BudgetError("hold_budget_per_day")
    site.hold_budget_percent, site.hold_budget_per_day = percent, per_day
    site.budget_state = None
    db.session.commit()


def has_budget(site):
    return site.hold_budget_percent is not None or site.hold_budget_per_day is not None


def describe(site):
    """The budget as an admin writes it: "5%", "40/day" or "off"."""
    if site.hold_budget_per_day is not None:
        return f"{site.hold_budget_per_day}/day"
    if site.hold_budget_percent is not None:
        return f"{site.hold_budget_percent:g}%"
    return "off"


def window(site_id, now=None):
    """The site's latest decided comments in the window: (text, name, reason codes, created at), newest first."""
    since = (now or utcnow()) - timedelta(days=WINDOW_DAYS)
    rows = db.session.execute(
        select(Comment.text, Comment.name, Comment.reason_codes, Comment.created_at)
        .where(Comment.site_id == site_id, Comment.created_at >= since, Comment.status != PENDING)
        .order_by(Comment.created_at.desc(), Comment.id.desc()).limit(WINDOW_MAX)
    ).all()
    db.session.rollback()  # hold no transaction while the model scores the window
    return rows


def per_day(rows, now=None):
    """Comments a day in the window: over the span the rows cover, at least one day."""
    if not rows:
        return 0.0
    span = ((now or utcnow()) - min(row.created_at for row in rows)).total_seconds() / 86400
    return len(rows) / max(span, 1.0)


def _shifted(threshold, shift, low, high):
    value = 1 / (1 + math.exp(-(math.log(threshold / (1 - threshold)) + shift)))
    return min(max(value, low), high)


def thresholds_for(shift, model):
    """The hold thresholds a log-odds shift gives, within the bounds (see the module's docstring)."""
    toxicity = _shifted(model["toxicity_hold"], shift, LOWEST, max(BLATANT, model["toxicity_hold"]))
    spam_hold = _shifted(model["spam_hold"], shift, LOWEST, model["spam"])
    return {"toxicity_hold": toxicity, "spam_hold": spam_hold}


def held_share(spam, toxicity, limits):
    """The share of comments these scores hold: toxic enough, or spam enough to hold but not to be spam."""
    held = (toxicity >= limits["toxicity_hold"]) | ((spam >= limits["spam_hold"]) & (spam < limits["spam"]))
    return float(held.mean()) if len(held) else 0.0


def solve(spam, toxicity, model, target):
    """The log-odds shift whose thresholds hold `target` of these comments (as near as the bounds allow)."""
    low, high = -12.0, 12.0  # shifting down holds more, up holds less
    for _ in range(50):
        middle = (low + high) / 2
        if held_share(spam, toxicity, {**model, **thresholds_for(middle, model)}) > target:
            low = middle
        else:
            high = middle
    return high


def compute(site, bundle, now=None):
    """Derive the site's thresholds from its window scored by `bundle`; store and return the state."""
    now = now or utcnow()
    budget = {"percent": site.hold_budget_percent, "per_day": site.hold_budget_per_day}
    previous = site.budget_state or {}
    rows = window(site.id, now)
    daily = per_day(rows, now)
    state = {"version": bundle.version, "window": len(rows), "per_day": round(daily, 1),
             "computed_at": now.isoformat(timespec="seconds"), "budget": budget}
    if len(rows) < MIN_COMMENTS:
        state["status"] = "learning"
    else:
        target = (budget["percent"] / 100 if budget["percent"] is not None
                  else min(budget["per_day"] / daily, 1.0))
        ruled = float(np.mean([bool(RULE_HOLDS & set((row.reason_codes or "").split())) for row in rows]))
        scores = bundle.score([row.text for row in rows], [row.name for row in rows], explain=False)
        spam = np.array([s.spam for s in scores])
        toxicity = np.array([s.toxicity for s in scores])
        model = {key: float(bundle.thresholds[key]) for key in ("toxicity_hold", "spam_hold", "spam")}
        limits = thresholds_for(solve(spam, toxicity, model, max(target - ruled, 0.0)), model)
        expected = min(held_share(spam, toxicity, {**model, **limits}) + ruled, 1.0)
        since = previous.get("active_since") if previous.get("status") == "active" else None
        state.update(status="active", active_since=since or state["computed_at"], target=round(target, 4),
                     rule_share=round(ruled, 4), expected_share=round(expected, 4),
                     expected_per_day=round(expected * daily, 1),
                     model={key: round(model[key], 4) for key in BUDGET_KEYS},
                     **{key: round(value, 4) for key, value in limits.items()})
    fresh = db.session.get(Site, site.id)
    if fresh is not None and has_budget(fresh):  # the budget may have been removed while the window was scored
        fresh.budget_state = state
        db.session.commit()
    return state


def recompute_all(models_dir):
    """Recompute every budgeted site's thresholds with the active model; return {site id: status}."""
    sites = db.session.scalars(select(Site).where((Site.hold_budget_percent.is_not(None))
                                                  | (Site.hold_budget_per_day.is_not(None)))).all()
    done = {}
    for site in sites:
        try:
            done[site.id] = compute(site, scorer.active_bundle(models_dir))["status"]
        except Exception:  # one site's failure must not stop the others'
            db.session.rollback()
            log.exception("hold budget of site %s could not be computed", site.id)
            done[site.id] = "failed"
    return done


def in_force(state, version):
    """The thresholds the budget sets now ({} when it sets none): only for the model version it was computed on."""
    if not state or state.get("status") != "active" or state.get("version") != version:
        return {}
    return {key: state[key] for key in BUDGET_KEYS}
