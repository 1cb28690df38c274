"""The models of this process: the active one, reloaded when admins switch it, and the sites' own versions."""

import logging
import threading
from collections import OrderedDict
from pathlib import Path

from moderation import scoring
from moderation.scoring import adapt, registry
from moderation.services.thresholds import ENVIRONMENT_KEYS

log = logging.getLogger(__name__)
_lock = threading.Lock()
_cache = {}
_site_versions = OrderedDict()  # (models dir, version) -> bundle, the most recently used last
SITE_VERSIONS_KEPT = 8  # loaded site versions kept in memory (each is a few megabytes)


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


def bundle_for(models_dir, site_version=None):
    """The bundle that decides a site's comments: its own version (an automatic retrain or an admin gave it
    one) while that version adapts the active version's base, else the active one.

    A site's version is fitted on top of a base model; when admins promote a version with another base
    (a new shipped model), the site follows the active version until its next retrain.
    """
    active = active_bundle(models_dir)
    if not site_version or site_version == active.version:
        return active
    own = _site_version(Path(models_dir), site_version)
    if own is None or adapt.base_version_of(own.manifest) != adapt.base_version_of(active.manifest):
        return active
    return own


def deciding_version(models_dir, site_version=None):
    """The id of the version `bundle_for` would use, from the manifests alone (no model loaded); None if unknown."""
    try:
        active = registry.active_version(Path(models_dir))
        if not site_version or site_version == active:
            return active
        own = registry.read_manifest(Path(models_dir), site_version)
        base = registry.read_manifest(Path(models_dir), active)
    except scoring.ModelLoadError:
        return None
    return site_version if adapt.base_version_of(own) == adapt.base_version_of(base) else active


def _site_version(models_dir, version):
    """A site's version, loaded once and kept; None when it does not load (tried again on the next comment)."""
    key = (models_dir, version)
    with _lock:
        if key in _site_versions:
            _site_versions.move_to_end(key)
            return _site_versions[key]
    try:
        bundle = scoring.load_version(models_dir, version)
    except scoring.ModelLoadError as exc:
        log.warning("site version %s does not load (%s); the active version decides instead", version, exc)
        return None
    with _lock:
        _site_versions[key] = bundle
        while len(_site_versions) > SITE_VERSIONS_KEPT:
            _site_versions.popitem(last=False)
    return bundle


def explicit(config, overrides=None):
    """The thresholds set explicitly, by the environment (a negative value keeps the model's) or by admins."""
    chosen = {name: config[key] for key, name in ENVIRONMENT_KEYS.items() if config.get(key, -1) >= 0}
    chosen.update(overrides or {})
    return chosen


def thresholds(bundle, config, overrides=None, budgeted=None):
    """The model's thresholds, then a site's budget's (`budgeted`), then the environment's, then admins'."""
    return {**bundle.thresholds, **(budgeted or {}), **explicit(config, overrides)}
