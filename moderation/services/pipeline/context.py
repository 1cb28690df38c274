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
    author: tuple | None = None  # rules.author_of
    approved_before: int = 0  # the author's approved comments on this site
    refused_before: int = 0  # ... and rejected or spam ones
    similar: list = field(default_factory=list)  # earlier comments of the same message (rules.similar_comments)
    campaign: list = field(default_factory=list)  # ... when enough other authors sent it (rules.campaign_of)
    count_reports: object = None
    storing: bool = True
    # Filled in as the phases run.
    held_by: dict = field(default_factory=dict)  # phase name -> the status it holds the comment to
    status: str = APPROVED
    score: object = None  # the models' (read_all scores the comments ahead)
    risk: float = 0.0
    spam_without_links: float | None = None


def read(comment, site, config, storing=True, count_reports=None):
    """The context of a comment, stored or not: every fact the phases need from the database, read now.

    Ends the session's transaction afterwards (keeping `site` and `comment` as read), so that none is held while
    the model works.
    """
    return read_all([(comment, site, count_reports)], config, storing=storing)[0]


def read_all(items, config, storing=True):
    """The contexts of several comments, each (comment, site, count_reports): each fact read once for them all
    (a statement or two each), then the session's transaction ended.

    A banned author's comment needs nothing more than the ban. The batch's comments do not see each other in
    the facts read here: `pipeline.run_all` adds what each earlier one of the batch tells a later one.
    """
    contexts = [_start(comment, site, config, storing, count_reports) for comment, site, count_reports in items]
    candidates = bans.candidates({ctx.site.id for ctx in contexts}, {ctx.comment.email for ctx in contexts})
    for ctx in contexts:
        ctx.ban = bans.matching(candidates, ctx.site.id, ctx.comment.email, ctx.comment.author_ip)
    judged = [ctx for ctx in contexts if ctx.ban is None]
    if not judged:
        return contexts
    histories = rules.author_histories(ctx.author for ctx in judged)
    lists = {site_id: wordlists.entries_of(site_id) for site_id in {ctx.site.id for ctx in judged}}
    for ctx in judged:
        comment = ctx.comment
        ctx.listed = wordlists.hits_in(
            lists[ctx.site.id],
            {"name": comment.name, "email": comment.email, "url": comment.url, "text": comment.text or ""},
            cyrillic=ctx.normalised.cyrillic_text,
        )
        ctx.links = rules.count_links(comment)
        ctx.approved_before, ctx.refused_before = histories.get(ctx.author, (0, 0))
    similar = rules.similar_comments_of([(ctx.comment, ctx.site.id, ctx.signature) for ctx in judged], config)
    for ctx, rows in zip(judged, similar):
        ctx.similar = rows
    overrides = settings.threshold_overrides()
    sites = {ctx.site.id: ctx.site for ctx in judged}
    states = {
        site_id: (site.model_version, site.budget_state, budget.budget_of(site)) for site_id, site in sites.items()
    }
    # Hold no transaction (and no lock) while the model loads and works; the phases read the comment as loaded.
    end_transaction_keeping(*sites.values(), *(ctx.comment for ctx in contexts))
    for site_id, (version, budget_state, site_budget) in states.items():
        bundle = scorer.bundle_for(config["MODELS_DIR"], version)
        limits = scorer.thresholds(
            bundle, config, overrides, budget.in_force(budget_state, bundle.version, site_budget)
        )
        states[site_id] = bundle, limits
    for ctx in judged:
        ctx.bundle, ctx.limits = states[ctx.site.id]
        ctx.campaign = rules.campaign_of(ctx.similar, ctx.comment.name, config)
    # The models score each bundle's comments at once: a batch costs a fraction of one by one.
    for bundle in {id(ctx.bundle): ctx.bundle for ctx in judged}.values():
        scored = [ctx for ctx in judged if ctx.bundle is bundle]
        texts, names = [ctx.comment.text or "" for ctx in scored], [ctx.comment.name for ctx in scored]
        for ctx, score in zip(scored, bundle.score(texts, names, docs=[ctx.normalised for ctx in scored])):
            ctx.score = score
    return contexts


def _start(comment, site, config, storing, count_reports):
    """A comment's context with what its text alone tells."""
    text = comment.text or ""
    normalised = normalise(text)
    return Context(
        comment,
        site,
        config,
        normalised=normalised,
        lang=guess_language(text),
        signature=fingerprint.signature(text, normalised),
        storing=storing,
        count_reports=count_reports,
        author=rules.author_of(comment, site.id),
    )
