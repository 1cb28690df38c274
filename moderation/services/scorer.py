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


def thresholds(bundle, config, overrides=None):
    """The model's thresholds, overridden by the config (a negative value keeps the model's), then by admins'."""
    merged = dict(bundle.thresholds)
    for key, name in (("SPAM_HOLD", "spam_hold"), ("SPAM_THRESHOLD", "spam"), ("TOXICITY_HOLD", "toxicity_hold")):
        if config.get(key, -1) >= 0:
            merged[name] = config[key]
    merged.update(overrides or {})
    return merged
