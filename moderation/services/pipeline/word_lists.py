"""The site's word lists: a block entry found in any field means spam, a watch entry a hold.

They are the site's explicit wishes, so no later phase softens them (trust withdraws the models' hold only).
"""

from moderation.models import HELD, SPAM
from moderation.services.hold_reasons import BLOCKLIST

from .context import Outcome


def check(ctx):
    """Spam for a block entry, held for a watch entry, with one reason per entry found."""
    if not ctx.listed:
        return None
    return Outcome(SPAM if any(r.code == BLOCKLIST for r in ctx.listed) else HELD, list(ctx.listed))
