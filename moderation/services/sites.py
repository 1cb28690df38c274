"""Sites and their API keys; only a hash of each key is stored."""

import functools
import hashlib
import math
import secrets
import time
import zoneinfo

from flask import current_app
from sqlalchemy import case, event, func, select
from sqlalchemy.orm import Session, make_transient_to_detached

from moderation.db import db
from moderation.models import HELD, Comment, Site
from moderation.services.rules import PREMODERATION_MODES

KEY_PREFIX = "mk_"
MAX_SPOT_CHECK_PERCENT = 20.0  # more is a second queue, not a sample


def hash_key(key):
    """SHA-256 of a key: keys are long random tokens, so a fast hash is enough."""
    return hashlib.sha256(key.encode()).hexdigest()


def host_hash(key):
    """The hash of a key as a host name carries it (KEY.rest.akismet.com): host names arrive in lower case."""
    return hash_key(key.lower())


def create_site(name):
    """Create a site and return it with its new API key (shown once, never stored)."""
    key = KEY_PREFIX + secrets.token_urlsafe(32)
    site = Site(name=name, key_prefix=key[:10], key_hash=hash_key(key), key_host_hash=host_hash(key))
    db.session.add(site)
    db.session.commit()
    return site, key


# Sites found by their keys, per database and key hash: (expiry on the monotonic clock, detached copy). Every
# request of a site names its key, so intake would otherwise read the site's row each time. A change to a site
# made in this process empties it at once; other processes (web workers) see a change, a rotated key among
# them, within SITE_CACHE_SECONDS.
_by_key = {}


def authenticate(key):
    """Return the site that owns this key, or None."""
    if not key or len(key) > 200:
        return None
    cache_key = (current_app.config["SQLALCHEMY_DATABASE_URI"], hash_key(key))
    cached = _by_key.get(cache_key)
    if cached is not None and cached[0] > time.monotonic():
        return db.session.merge(cached[1], load=False)  # attached to this session without a query
    site = db.session.scalar(select(Site).where(Site.key_hash == cache_key[1]))
    lifetime = current_app.config["SITE_CACHE_SECONDS"]
    if site is not None and lifetime > 0:
        _by_key[cache_key] = (time.monotonic() + lifetime, detached_copy(site))
    return site


def detached_copy(site):
    """A copy of a site's loaded columns, belonging to no session, to merge into later sessions."""
    columns = {column.key: getattr(site, column.key) for column in Site.__mapper__.column_attrs}
    copy = Site(**columns)
    make_transient_to_detached(copy)
    return copy


def forget_cached_sites():
    """Drop every cached site: the next request of each site reads its row again."""
    _by_key.clear()


@event.listens_for(Session, "after_flush")
def _site_changed(session, _context):
    if any(isinstance(obj, Site) for obj in (*session.dirty, *session.deleted)):
        forget_cached_sites()


@event.listens_for(Session, "do_orm_execute")
def _site_bulk_change(state):
    if (state.is_update or state.is_delete) and state.bind_mapper is Site.__mapper__:
        forget_cached_sites()


def authenticate_host_label(label):
    """The site whose key, in lower case, is this host label (older Akismet clients send KEY.host), or None.

    Sites made before this existed learn their host hash when the key is first used in full (remember_host_key).
    """
    if not label or len(label) > 200:
        return None
    return db.session.scalar(select(Site).where(Site.key_host_hash == host_hash(label)))


def remember_host_key(site, key):
    """Record the host-name form of a site's key the first time it is used in full, for clients that send it so."""
    if site.key_host_hash is None:
        site.key_host_hash = host_hash(key)
        db.session.commit()


class SiteError(ValueError):
    """A site cannot be created or changed as asked; the message names the faulty field."""


@functools.cache
def time_zones():
    """Every IANA time zone name this machine knows, sorted."""
    return tuple(sorted(zoneinfo.available_timezones()))


def check_zone(name):
    """The zone name if it is a known IANA zone; raise SiteError otherwise."""
    name = (name or "").strip()
    if name not in time_zones():
        raise SiteError("timezone")
    return name


def find_by_name(name):
    """The site with this name, or None."""
    return db.session.scalar(select(Site).where(Site.name == (name or "").strip()))


def add_site(name, zone_name):
    """Create a site in a time zone; return it with its new API key (shown once)."""
    name = (name or "").strip()
    if not name or len(name) > 200:
        raise SiteError("name")
    zone_name = check_zone(zone_name)
    if find_by_name(name) is not None:
        raise SiteError("exists")
    site, key = create_site(name)
    site.timezone = zone_name
    db.session.commit()
    return site, key


def rotate_key(site):
    """Give the site a new API key; return it. The old key stops working at once in this process and within
    SITE_CACHE_SECONDS in the others (see authenticate)."""
    key = KEY_PREFIX + secrets.token_urlsafe(32)
    site.key_prefix, site.key_hash, site.key_host_hash = key[:10], hash_key(key), host_hash(key)
    db.session.commit()
    return key


def set_timezone(site, zone_name):
    """Change the zone the site's times and days are shown in."""
    site.timezone = check_zone(zone_name)
    db.session.commit()


def comment_counts():
    """Per site id: {"total": n, "held": n} over all its comments."""
    rows = db.session.execute(
        select(Comment.site_id, func.count(), func.count(case((Comment.status == HELD, 1)))).group_by(Comment.site_id)
    ).all()
    return {site_id: {"total": total, "held": held} for site_id, total, held in rows}


def find_site(name_or_id):
    """The site with this name, or this id when given digits; None if none."""
    site = db.session.scalar(select(Site).where(Site.name == name_or_id))
    if site is None and str(name_or_id).isdigit():
        site = db.session.get(Site, int(name_or_id))
    return site


def set_rules(
    site,
    max_links,
    premoderation,
    shadow_mode,
    flood_seconds,
    complaints_hide_after=None,
    complaints_overdue_hours=None,
    spot_check_percent=None,
):
    """Change a site's rules; they apply to the next comment. Raise SiteError on a value out of range.

    The complaint and spot-check settings stay as they are when not given.
    """
    hide_after = site.complaints_hide_after if complaints_hide_after is None else complaints_hide_after
    overdue_hours = site.complaints_overdue_hours if complaints_overdue_hours is None else complaints_overdue_hours
    spot_checks = site.spot_check_percent if spot_check_percent is None else spot_check_percent
    if not 0 <= max_links <= 100:
        raise SiteError("max_links")
    if premoderation not in PREMODERATION_MODES:
        raise SiteError("premoderation")
    if not 0 <= flood_seconds <= 3600:
        raise SiteError("flood_seconds")
    if not 0 <= hide_after <= 1000:  # readers; 0: never hide
        raise SiteError("complaints_hide_after")
    if not 1 <= overdue_hours <= 720:  # up to a month
        raise SiteError("complaints_overdue_hours")
    if not (math.isfinite(spot_checks) and 0 <= spot_checks <= MAX_SPOT_CHECK_PERCENT):
        raise SiteError("spot_check_percent")
    site.max_links, site.premoderation = max_links, premoderation
    site.shadow_mode, site.flood_seconds = bool(shadow_mode), flood_seconds
    site.complaints_hide_after, site.complaints_overdue_hours = hide_after, overdue_hours
    site.spot_check_percent = float(spot_checks)
    db.session.commit()
