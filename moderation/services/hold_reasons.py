"""Why a comment has its status: the reasons the filter, the site's rules and its readers give (its hold reasons).

Not the reject reasons moderators pick (services/reasons.py).
"""

from dataclasses import dataclass, field

# The codes of the reasons stored with comments; the queue filters on them and the dashboard names them.
BANNED, BLOCKLIST, WATCHLIST = "banned", "blocklist", "watchlist"
SPAM, TOXICITY = "spam", "toxicity"
LINKS, CAMPAIGN, PREMODERATION, TRUSTED = "links", "campaign", "premoderation", "trusted"
REPORTS, SHADOW, ERROR = "reports", "shadow", "error"


@dataclass(frozen=True)
class Reason:
    """One reason: its code, the score behind it, the comment's words that raised it, and facts of its own kind
    (a ban's kind and value, a campaign's id and size, a word-list entry and its field...)."""

    code: str
    score: float | None = None
    spans: tuple[str, ...] = ()
    facts: dict = field(default_factory=dict)

    def as_dict(self):
        """The reason as stored with the comment and shown by the API and the dashboard."""
        return {"code": self.code, "score": self.score, "spans": list(self.spans), **self.facts}


def as_dicts(reasons):
    """Reasons (Reason or already stored dicts) as stored with the comment."""
    return [r.as_dict() if isinstance(r, Reason) else r for r in reasons]


def codes_of(reasons):
    """The reasons' codes as the queue filters them: space-delimited, with spaces around ("" when none)."""
    codes = [r.code if isinstance(r, Reason) else r["code"] for r in reasons]
    return f" {' '.join(codes)} " if codes else ""


def with_code(codes, code):
    """Stored reason codes with one more, unless it is there already."""
    codes = codes or " "
    return codes if f" {code} " in codes else f"{codes}{code} "
