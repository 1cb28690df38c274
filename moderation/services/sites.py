"""Sites and their API keys; only a hash of each key is stored."""
import hashlib
import secrets

from sqlalchemy import select

from moderation.db import db
from moderation.models import Site

KEY_PREFIX = "mk_"


def hash_key(key):
    """SHA-256 of a key: keys are long random tokens, so a fast hash is enough."""
    return hashlib.sha256(key.encode()).hexdigest()


def create_site(name):
    """Create a site and return it with its new API key (shown once, never stored)."""
    key = KEY_PREFIX + secrets.token_urlsafe(32)
    site = Site(name=name, key_prefix=key[:10], key_hash=hash_key(key))
    db.session.add(site)
    db.session.commit()
    return site, key


def authenticate(key):
    """Return the site that owns this key, or None."""
    if not key or len(key) > 200:
        return None
    return db.session.scalar(select(Site).where(Site.key_hash == hash_key(key)))
