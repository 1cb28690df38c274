"""Spot checks: a random share of the filter's approvals is put before the moderators as well."""

from moderation.models import APPROVED
from moderation.services import spot_checks

from .context import Outcome


def check(ctx):
    """Marks a stored approval drawn for a spot check (services/spot_checks.py); the status stays."""
    if not ctx.storing or ctx.status != APPROVED or ctx.site.shadow_mode or not spot_checks.draw(ctx.site):
        return None
    return Outcome(values={"spot_check": True})
