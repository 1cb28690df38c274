"""What every phase of the decision reads: the comment, its site and the facts about them, read once."""

from dataclasses import dataclass, field

from moderation.db import end_transaction_keeping
from moderation.models import APPROVED
from moderation.scoring import fingerprint
from moderation.scoring.language import guess_language
from moderation.scoring.normalise import Normalised, normalise
from moderation.services import bans, budget, rules, scorer, settings, wordlists

ALL = "all"  # an Outcome's `withdraw` that takes back every earlier phase's status


@dataclass
class Outcome:
    """A phase's say: the status it holds the comment to (None: none), its reasons and the values to store.

    `withdraw` names earlier phases whose status no longer counts (or ALL); `final` ends the judging.
    """

    status: str | None = None
    reasons: list = field(default_factory=list)
    values: dict = field(default_factory=dict)
    withdraw: tuple | str = ()
    final: bool = False


@dataclass
class Context:
    """One comment on its way through the phases.

    Facts read from the database come first; `bundle` and `limits` are the model version that decides and its
    thresholds for this site. `count_reports` counts readers' open complaints when the comment is stored (None:
    not stored yet, or not to be); `storing` is false for a comment only tested, never stored.
    """

    comment: object
    site: object
    config: dict
    bundle: object = None
    limits: dict = field(default_factory=dict)
    normalised: Normalised | None = None
    lang: str = ""
    signature: str | None = None
    ban: object = None
    listed: list = field(default_factory=list)  # word-list hits, as Reasons
    links: int = 0
    approved_before: int = 0  # the author's approved comments on this site
    refused_before: int = 0  # ... and rejected or spam ones
    campaign: list = field(default_factory=list)  # earlier comments of the same message by other authors
    count_reports: object = None
    storing: bool = True
    # Filled in as the phases run.
    held_by: dict = field(default_factory=dict)  # phase name -> the status it holds the comment to
    status: str = APPROVED
    score: object = None
    risk: float = 0.0
    spam_without_links: float | None = None


def read(comment, site, config, storing=True, count_reports=None):
    """The context of a comment, stored or not: every fact the phases need from the database, read now.

    Ends the session's transaction afterwards (keeping `site` and `comment` as read), so that none is held while
    the model works.
    A banned author's comment needs nothing more than the ban.
    """
    text = comment.text or ""
    normalised = normalise(text)
    ctx = Context(
        comment,
        site,
        config,
        normalised=normalised,
        lang=guess_language(text),
        signature=fingerprint.signature(text, normalised),
        storing=storing,
        count_reports=count_reports,
    )
    ctx.ban = bans.ban_for(site.id, comment.email, comment.author_ip)
    if ctx.ban is None:
        ctx.listed = wordlists.hits_in(
            wordlists.entries_of(site.id),
            {"name": comment.name, "email": comment.email, "url": comment.url, "text": text},
            cyrillic=normalised.cyrillic_text,
        )
        ctx.links = rules.count_links(comment)
        ctx.approved_before, ctx.refused_before = rules.author_history(comment, site.id)
        ctx.campaign = rules.campaign_members(comment, site.id, ctx.signature, config)
        overrides, site_version = settings.threshold_overrides(), site.model_version
        budget_state, site_budget = site.budget_state, budget.budget_of(site)
        # Hold no transaction (and no lock) while the model loads and works; the phases read the comment as loaded.
        end_transaction_keeping(site, comment)
        ctx.bundle = scorer.bundle_for(config["MODELS_DIR"], site_version)
        ctx.limits = scorer.thresholds(
            ctx.bundle, config, overrides, budget.in_force(budget_state, ctx.bundle.version, site_budget)
        )
    return ctx
