"""The filter's decision on a comment as an ordered list of phases, folded by one rule of precedence.

Each phase is a small function of one shared Context (the comment, its site, the facts read from the
database and the text normalised once) that returns an Outcome or None. The rule: the decision is the
strictest status any phase holds the comment to (approved < held < spam), and a phase may withdraw the
status of earlier ones (trust withdraws the models' hold, shadow mode withdraws them all). A ban ends the
judging: only the phases every stored decision passes through (`always`) run after it.

The order is the order of the reasons a moderator reads.
"""

from typing import NamedTuple

from moderation.models import APPROVED, SPAM
from moderation.scoring import fingerprint
from moderation.services import rules
from moderation.services.hold_reasons import as_dicts
from moderation.services.rules import SEVERITY

from . import bans, campaigns, links, models, premoderation, reports, shadow, spot_checks, trust, word_lists
from .context import ALL, Context, Outcome, read, read_all


class Phase(NamedTuple):
    """A named step of the decision; `always` ones run even after a ban has ended the judging."""

    name: str
    run: object
    always: bool = False


PHASES = (
    Phase("bans", bans.check),
    Phase("word_lists", word_lists.check),
    Phase("models", models.check),
    Phase("links", links.check),
    Phase("campaigns", campaigns.check),
    Phase("premoderation", premoderation.check),
    Phase("trust", trust.check),
    Phase("reports", reports.check, always=True),
    Phase("spot_checks", spot_checks.check, always=True),
    Phase("shadow", shadow.check, always=True),
)


class Member(NamedTuple):
    """A comment of the same message decided earlier in the batch, as rules.similar_comments reads one."""

    id: int
    name: str | None
    campaign_id: int | None


class Verdict(NamedTuple):
    """What the filter decides on a comment: its status, the values stored with it, and the earlier comments
    of its campaign to hold too."""

    status: str
    values: dict
    campaign: list


def strictest(statuses):
    """The strictest of some statuses (approved when there are none)."""
    return max(statuses, key=SEVERITY.__getitem__, default=APPROVED)


def run(ctx, phases=PHASES):
    """Run the phases over the context in order and fold their outcomes into a Verdict."""
    reasons, values, judging = [], {"lang": ctx.lang, "fingerprint": ctx.signature}, True
    for phase in phases:
        if not (judging or phase.always):
            continue
        outcome = phase.run(ctx)
        if outcome is None:
            continue
        for name in list(ctx.held_by) if outcome.withdraw == ALL else outcome.withdraw:
            ctx.held_by.pop(name, None)
        if outcome.status is not None:
            ctx.held_by[phase.name] = outcome.status
        ctx.status = strictest(ctx.held_by.values())
        reasons.extend(outcome.reasons)
        values.update(outcome.values)
        judging = judging and not outcome.final
    values["reasons"] = as_dicts(reasons)
    return Verdict(ctx.status, values, ctx.campaign if values.get("campaign_id") else [])


def run_all(contexts, phases=PHASES):
    """Verdicts on a batch's comments (contexts from read_all, in the order they came), each run after the batch's
    earlier ones have told it what a decision of theirs, stored before it, would have: the same author's
    approval or refusal counts in its history, and a comment of the same message in its campaign."""
    verdicts = []
    for ctx in contexts:
        if ctx.ban is None and verdicts:
            _learn_from_batch(ctx, zip(contexts, verdicts))
        verdicts.append(run(ctx, phases))
    return verdicts


def _learn_from_batch(ctx, decided):
    """Count the batch's earlier decisions, each (context, verdict), in the comment's facts; a message is the same
    by the index's measure (rules.similar_comments_of)."""
    members = []
    for earlier, verdict in decided:
        if ctx.author is not None and earlier.author == ctx.author:
            ctx.approved_before += verdict.status == APPROVED
            ctx.refused_before += verdict.status == SPAM
        same_message = fingerprint.similarity(ctx.signature, earlier.signature) >= fingerprint.SIMILAR
        if earlier.site.id == ctx.site.id and same_message:
            members.append(Member(earlier.comment.id, earlier.comment.name, verdict.values.get("campaign_id")))
    if members:
        ctx.similar = [*reversed(members), *ctx.similar]  # newest first, as the index reads them
        ctx.campaign = rules.campaign_of(ctx.similar, ctx.comment.name, ctx.config)


__all__ = ["PHASES", "Context", "Outcome", "Phase", "Verdict", "read", "read_all", "run", "run_all", "strictest"]
