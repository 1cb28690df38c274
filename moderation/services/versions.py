"""Switching the active model version: promote one, roll back; the same for the dashboard and the command line.

Workers read the ACTIVE pointer before each comment (services/scorer.py), so a switch takes effect on the
next comment everywhere. Every switch is written to the audit log, whoever made it and from where.
"""

import re
from pathlib import Path

from moderation import scoring
from moderation.scoring.registry import active_version
from moderation.services import audit

# A version is a folder name under MODELS_DIR: never a path.
VERSION_PATTERN = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$")


def active_or_none(models_dir):
    """The active version's id, or None when there is none (or its pointer is damaged)."""
    try:
        return active_version(Path(models_dir))
    except scoring.ModelLoadError:
        return None


def is_known(models_dir, version):
    """Whether `version` names one of the versions under MODELS_DIR (a folder name, never a path)."""
    return bool(VERSION_PATTERN.match(version)) and version in {m["version"] for m in scoring.list_versions(models_dir)}


def promote(models_dir, version, *, via, user_id=None):
    """Make a version the active one after checking it loads (scoring.ModelLoadError if not); audited.

    Returns the version active before (None: none).
    """
    models_dir = Path(models_dir)
    scoring.load_version(models_dir, version)  # refuse a damaged or unknown version before switching to it
    previous = active_or_none(models_dir)
    scoring.set_active(models_dir, version)
    audit.record(audit.MODEL_PROMOTE, via=via, user_id=user_id, old=previous, new=version)
    return previous


def roll_back(models_dir, *, via, user_id=None):
    """Go back to the most recent previously active version that still loads (scoring.ModelLoadError if none);
    audited. Returns the version active now."""
    models_dir = Path(models_dir)
    previous = active_or_none(models_dir)
    version = scoring.rollback(models_dir)
    audit.record(audit.MODEL_ROLLBACK, via=via, user_id=user_id, old=previous, new=version)
    return version
