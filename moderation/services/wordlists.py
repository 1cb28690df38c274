"""Word lists per site: «block» entries send a comment to spam, «watch» entries hold it for a moderator."""

import threading

from sqlalchemy import func, select

from moderation.db import db
from moderation.models import WordEntry
from moderation.scoring.wordlist import compile_entry, find
from moderation.services.hold_reasons import BLOCKLIST, WATCHLIST, Reason

BLOCK, WATCH = "block", "watch"
KINDS = (BLOCK, WATCH)
FIELDS = ("name", "email", "url", "text")  # what the lists are applied to, as WordPress does
MAX_ENTRY = 200

_lock = threading.Lock()
_compiled = {}  # site id -> ((count, max id), entries): recompiled when the list changes


class WordListError(ValueError):
    """An entry that cannot be added."""


def add_words(site, kind, words, user=None):
    """Add entries to a site's list; return the ones that were new."""
    if kind not in KINDS:
        raise WordListError(f"the list must be one of {', '.join(KINDS)}")
    existing = set(
        db.session.scalars(select(WordEntry.text).where(WordEntry.site_id == site.id, WordEntry.kind == kind))
    )
    added = []
    for word in words:
        text = " ".join((word or "").split())
        if not text or len(text) > MAX_ENTRY or compile_entry(text) is None:
            raise WordListError(f"not a usable entry: {word!r}")
        if text in existing:
            continue
        existing.add(text)
        entry = WordEntry(site_id=site.id, kind=kind, text=text, created_by_id=user.id if user else None)
        db.session.add(entry)
        added.append(entry)
    db.session.commit()
    return added


def list_entries(site_id):
    """A site's entries as stored, block list first, alphabetically."""
    return db.session.scalars(
        select(WordEntry).where(WordEntry.site_id == site_id).order_by(WordEntry.kind, WordEntry.text)
    ).all()


def remove_entry(entry):
    """Delete an entry; the next comment is judged without it."""
    db.session.delete(entry)
    db.session.commit()


def entries_of(site_id):
    """The site's entries, compiled; compiled again only when the list changed since."""
    # SQLite reuses the highest id after a delete, so the newest entry's time is part of the stamp too.
    stamp = tuple(
        db.session.execute(
            select(func.count(), func.max(WordEntry.id), func.max(WordEntry.created_at)).where(
                WordEntry.site_id == site_id
            )
        ).one()
    )
    with _lock:
        cached = _compiled.get(site_id)
        if cached is not None and cached[0] == stamp:
            return cached[1]
    rows = db.session.execute(
        select(WordEntry.id, WordEntry.kind, WordEntry.text).where(WordEntry.site_id == site_id).order_by(WordEntry.id)
    ).all()
    entries = [e for e in (compile_entry(text, tag=kind) for _id, kind, text in rows) if e is not None]
    with _lock:
        _compiled[site_id] = (stamp, entries)
    return entries


def hits_in(entries, fields, cyrillic=None):
    """Reasons (blocklist or watchlist) for every entry found in the comment's fields.

    `cyrillic` is the comment text's script guess when the caller has normalised it already.
    """
    reasons = []
    for name in FIELDS:
        value = fields.get(name)
        for hit in find(entries, value or "", cyrillic if name == "text" else None):
            code = BLOCKLIST if hit.entry.tag == BLOCK else WATCHLIST
            reasons.append(Reason(code, spans=(hit.span,), facts={"entry": hit.entry.text, "field": name}))
    return reasons
