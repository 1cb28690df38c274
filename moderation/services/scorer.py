"""The active model of this process, reloaded when admins switch the active version."""
import threading
from pathlib import Path

from moderation import scoring

_lock = threading.Lock()
_cache = {}


def active_bundle(models_dir):
    """Return the loaded active model bundle, loading it again when the pointer changed."""
    models_dir = Path(models_dir)
    pointer = (models_dir / "ACTIVE").read_text().strip()
    with _lock:
        cached = _cache.get(models_dir)
        if cached is None or cached.version != pointer:
            cached = scoring.load_active(models_dir)
            _cache[models_dir] = cached
        return cached


ENVIRONMENT_KEYS = {"SPAM_HOLD": "spam_hold", "SPAM_THRESHOLD": "spam", "TOXICITY_HOLD": "toxicity_hold"}


def explicit(config, overrides=None):
    """The thresholds set explicitly, by the environment (a negative value keeps the model's) or by admins."""
    chosen = {name: config[key] for key, name in ENVIRONMENT_KEYS.items() if config.get(key, -1) >= 0}
    chosen.update(overrides or {})
    return chosen


def thresholds(bundle, config, overrides=None, budgeted=None):
    """The model's thresholds, then a site's budget's (`budgeted`), then the environment's, then admins'."""
    return {**bundle.thresholds, **(budgeted or {}), **explicit(config, overrides)}
