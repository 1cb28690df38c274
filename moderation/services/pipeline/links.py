"""Links: more links than the site allows, or a spam verdict that rests on the links alone, is a hold."""

from moderation.models import HELD
from moderation.services.hold_reasons import LINKS, Reason

from .context import Outcome


def check(ctx):
    """Held, with the count (and the spam score without the links, when the models' spam rested on them)."""
    if ctx.links <= ctx.site.max_links and ctx.spam_without_links is None:
        return None
    facts = {"count": ctx.links}
    if ctx.spam_without_links is not None:
        facts["spam_without_links"] = round(float(ctx.spam_without_links), 4)
    return Outcome(HELD, [Reason(LINKS, facts=facts)])
