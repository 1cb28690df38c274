"""Settings admins change in the dashboard; every read goes to the database, so changes need no restart."""
from moderation.db import db
from moderation.models import Setting

THRESHOLD_KEYS = ("spam_hold", "spam", "toxicity_hold")


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
    rows = db.session.query(Setting).filter(Setting.key.in_([f"threshold.{k}" for k in THRESHOLD_KEYS])).all()
    return {row.key.split(".", 1)[1]: float(row.value["v"]) for row in rows}
