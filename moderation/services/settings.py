"""Settings admins change in the dashboard; every read goes to the database, so changes need no restart."""

from types import SimpleNamespace

from moderation.db import db
from moderation.models import Setting
from moderation.services import scorer, thresholds


def get(key, default=None):
    """The stored value of a setting, or the default."""
    row = db.session.get(Setting, key)
    return row.value.get("v", default) if row is not None else default


def put(key, value, user=None):
    """Store a setting (None removes it, falling back to the default)."""
    row = db.session.get(Setting, key)
    if value is None:
        if row is not None:
            db.session.delete(row)
    elif row is None:
        db.session.add(Setting(key=key, value={"v": value}, updated_by_id=user.id if user else None))
    else:
        row.value, row.updated_by_id = {"v": value}, user.id if user else None
    db.session.commit()


def threshold_overrides():
    """The thresholds admins set, by name; absent ones follow the model (or the environment)."""
    rows = db.session.query(Setting).filter(Setting.key.in_([f"threshold.{k}" for k in thresholds.NAMES])).all()
    return {row.key.split(".", 1)[1]: float(row.value["v"]) for row in rows}


def override_thresholds(wanted, model_thresholds, config, user=None):
    """Store the admins' thresholds (None: follow the model); return the changes, {name: [old, new]}.

    Refused (thresholds.ThresholdError) when, with the model's and the environment's, they would hold for spam
    above the spam threshold. Each changed one is stored at once; the next comment is decided with it.
    """
    overrides = {name: value for name, value in wanted.items() if value is not None}
    thresholds.check_order(scorer.thresholds(SimpleNamespace(thresholds=model_thresholds), config, overrides))
    before = threshold_overrides()
    changes = {name: [before.get(name), wanted[name]] for name in thresholds.NAMES if before.get(name) != wanted[name]}
    for name in changes:
        put(f"threshold.{name}", wanted[name], user=user)
    return changes
