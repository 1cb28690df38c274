"""Template helpers: times in the site's zone, highlighted spans, safe redirects, the navigation's counts."""

import re
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from babel.dates import format_datetime
from flask_babel import get_locale
from flask_babel import lazy_gettext as _l
from markupsafe import Markup, escape

from moderation.services import complaints, spot_checks
from moderation.services import queue as queue_service
from moderation.services import reasons as reason_service

DEFAULT_ZONE = "Asia/Almaty"
# Why the filter held a comment, by the code stored in its reasons.
FILTER_REASONS = {
    "spam": _l("spam"),
    "toxicity": _l("toxicity"),
    "blocklist": _l("block list"),
    "watchlist": _l("watch list"),
    "links": _l("too many links"),
    "campaign": _l("campaign"),
    "premoderation": _l("pre-moderation"),
    "trusted": _l("trusted author"),
    "banned": _l("banned author"),
    "shadow": _l("shadow mode"),
    "reports": _l("readers' complaints"),
    "error": _l("scoring error"),
}


# A links hold of a comment the spam model called spam only for its links (it carries spam_without_links).
LINKS_ALONE = _l("links alone look like spam")


def reason_name(code, reason=None):
    """A filter reason's name in the moderator's language; pass the stored reason to tell its kinds apart."""
    if code == "links" and (reason or {}).get("spam_without_links") is not None:
        return str(LINKS_ALONE)
    return str(FILTER_REASONS.get(code, code))


# Control characters (C0, DEL, C1): urlsplit silently drops some of them (so "/\t/evil" would pass as a
# path) and werkzeug refuses CR and LF in a Location header.
CONTROL_CHARS = re.compile(r"[\x00-\x1f\x7f-\x9f]")


def nav_counts():
    """The badges of the moderators' navigation: held comments, reported ones, spot checks waiting."""
    return {
        "held": queue_service.held_count(),
        "complaints": complaints.reported_count(),
        "spot_checks": spot_checks.waiting_count(),
    }


def safe_next(target):
    """A redirect target only if it stays inside the dashboard (no open redirects) and is a valid header value."""
    if not target or not isinstance(target, str) or CONTROL_CHARS.search(target) or "\\" in target:
        return None
    try:
        parts = urlsplit(target)
        target.encode("utf-8")  # a lone surrogate cannot become a Location
    except ValueError:  # also "//[", an unbalanced IPv6 bracket
        return None
    if parts.scheme or parts.netloc or not parts.path.startswith("/dashboard"):
        return None
    return target


def zone(name):
    """The time zone by IANA name; Almaty when unknown."""
    try:
        return ZoneInfo(name or DEFAULT_ZONE)
    except (ZoneInfoNotFoundError, ValueError):
        return ZoneInfo(DEFAULT_ZONE)


def local_time(moment, zone_name=None, style="short"):
    """A stored naive-UTC time shown in the site's zone and the moderator's language."""
    if moment is None:
        return ""
    return format_datetime(
        moment.replace(tzinfo=ZoneInfo("UTC")), style, tzinfo=zone(zone_name), locale=str(get_locale())
    )


def highlight(text, spans):
    """The text, escaped, with the spans that drove its scores wrapped in <mark>."""
    spans = sorted({s for s in spans or [] if s and s.strip()}, key=len, reverse=True)
    if not spans:
        return escape(text)
    pattern = re.compile("|".join(re.escape(s) for s in spans), re.IGNORECASE)
    out, last = [], 0
    for match in pattern.finditer(text):
        out.append(escape(text[last : match.start()]))
        out.append(Markup("<mark>") + escape(match.group(0)) + Markup("</mark>"))
        last = match.end()
    out.append(escape(text[last:]))
    return Markup("").join(out)


def spans_of(comment):
    """Every span any of the comment's reasons names (a comment, or a dict with "reasons")."""
    reasons = comment.get("reasons") if isinstance(comment, dict) else comment.reasons
    return [span for reason in (reasons or []) for span in reason.get("spans") or []]


def init_app(app):
    """Register the helpers with Jinja."""
    app.jinja_env.filters["local_time"] = local_time
    app.jinja_env.globals.update(
        highlight=highlight,
        spans_of=spans_of,
        reason_label=reason_service.label_of,
        get_locale=get_locale,
        reason_name=reason_name,
        filter_reasons=FILTER_REASONS,
    )
