"""Drop-in APIs for the tools newsrooms already run: Perspective (Coral Talk's toxicity check), Akismet and
Coral's external moderation phase. Each speaks its client's own formats, errors included, on top of the same
scoring, rules, queue and training labels as the service's own API (services/instant.py)."""

import ipaddress
import re
from urllib.parse import urlsplit

from moderation.api.forms import clean

ANONYMOUS = "Аноним"  # these clients may send no author; the queue shows this name instead
EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
LIMITS = {
    "name": 100,
    "email": 254,
    "url": 2000,
    "article_id": 200,
    "article_url": 2000,
    "article_title": 500,
    "parent_id": 200,
    "author_ip": 45,
    "user_agent": 500,
    "referrer": 2000,
}


def _http_url(value):
    try:
        parts = urlsplit(value)
        return parts.scheme.lower() in ("http", "https") and bool(parts.hostname)
    except ValueError:
        return False


def _ip(value):
    try:
        ipaddress.ip_address(value)
        return True
    except ValueError:
        return False


CHECKS = {"email": EMAIL.match, "url": _http_url, "article_url": _http_url, "author_ip": _ip}


def comment_fields(text, **optional):
    """A client's comment as intake stores it: cleaned, cut to the columns' sizes; an optional value that is not
    valid (an e-mail, address or IP these clients pass through unchecked) is left out rather than refused."""
    fields = {"text": clean(text), "name": ANONYMOUS}
    for name, value in optional.items():
        value = clean(value) if isinstance(value, str) else None
        if not value or (name in CHECKS and not CHECKS[name](value)):
            continue
        fields[name] = value[: LIMITS[name]]
    if fields.get("email"):
        fields["email"] = fields["email"].lower()
    return fields


def init_app(app):
    """Register the three APIs; they authenticate with the site's key as their clients send it, never cookies."""
    from moderation.compat import akismet, coral, perspective
    from moderation.extensions import csrf

    for blueprint in (perspective.bp, akismet.bp, coral.bp):
        csrf.exempt(blueprint)
        app.register_blueprint(blueprint)
