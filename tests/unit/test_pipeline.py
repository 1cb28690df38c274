"""The decision's phases folded in order (services/pipeline/): input -> status and reasons, in process.

The models are a stand-in here that answers set scores: what the real ones score is tests/model's business,
and the same phases run through a real worker in tests/tasks.
"""

from types import SimpleNamespace

import pytest

from moderation.scoring.normalise import normalise
from moderation.scoring.predict import Score
from moderation.services.hold_reasons import Reason
from moderation.services.pipeline import Context, run

LIMITS = {"spam": 0.9, "spam_hold": 0.6, "toxicity_hold": 0.5}
CONFIG = {"TRUSTED_MAX_SCORE": 0.9}
SPAM_LINK = "Заработок от 5000 в день https://easy-money.example/join"


class Scores:
    """Set scores by text; a text without its links scores as clean as its words."""

    version = "v-test"

    def __init__(self, **by_text):
        self.by_text, self.calls = by_text, 0

    def score(self, texts, names=None, explain=True, docs=None):
        self.calls += 1
        return [
            Score(*self.by_text.get(text.strip(), (0.01, 0.01)), spam_terms=["5000"], toxicity_terms=["дурак"])
            for text in texts
        ]


def site(**changes):
    return SimpleNamespace(
        **{
            "max_links": 2,
            "premoderation": "none",
            "complaints_hide_after": 3,
            "shadow_mode": False,
            "spot_check_percent": 0,
            **changes,
        }
    )


def context(text="Аким обещал дорогу к весне", scores=(0.01, 0.01), storing=True, site_=None, **facts):
    comment = SimpleNamespace(text=text, name="Айгуль")
    return Context(
        comment,
        site_ or site(),
        CONFIG,
        bundle=Scores(**{text: scores}),
        limits=LIMITS,
        normalised=normalise(text),
        lang="ru",
        storing=storing,
        **facts,
    )


def banned():
    return SimpleNamespace(kind="email", value="troll@example.kz")


def watch(word):
    return Reason("watchlist", spans=(word,), facts={"entry": word, "field": "text"})


def codes(verdict):
    return [r["code"] for r in verdict.values["reasons"]]


@pytest.mark.parametrize(
    "ctx, status, reasons",
    [
        (context(), "approved", []),
        (context(scores=(0.01, 0.7)), "held", ["toxicity"]),
        (context(scores=(0.7, 0.01)), "held", ["spam"]),
        (context(scores=(0.95, 0.01)), "spam", ["spam"]),
        # Spam for its links alone is a hold, with the score of the words alone.
        (context(SPAM_LINK, scores=(0.95, 0.01), links=1), "held", ["spam", "links"]),
        (context(links=3), "held", ["links"]),
        (context(ban=banned()), "spam", ["banned"]),
        (
            context(scores=(0.01, 0.7), listed=[Reason("blocklist", spans=("казино",))]),
            "spam",
            ["blocklist", "toxicity"],
        ),
        (context(listed=[watch("акимат")]), "held", ["watchlist"]),
        # Trust withdraws the models' hold, not the word lists' and not a site rule's.
        (context(scores=(0.01, 0.7), approved_before=2), "approved", ["toxicity", "trusted"]),
        (
            context(scores=(0.01, 0.7), approved_before=2, listed=[watch("акимат")]),
            "held",
            ["watchlist", "toxicity", "trusted"],
        ),
        (context(scores=(0.01, 0.7), approved_before=2, links=3), "held", ["toxicity", "links"]),
        (context(scores=(0.01, 0.95), approved_before=2), "held", ["toxicity"]),
        (context(scores=(0.01, 0.7), approved_before=2, refused_before=1), "held", ["toxicity"]),
        (
            context(campaign=[SimpleNamespace(id=4, campaign_id=None), SimpleNamespace(id=7, campaign_id=None)]),
            "held",
            ["campaign"],
        ),
        (context(site_=site(premoderation="first")), "held", ["premoderation"]),
        (context(site_=site(premoderation="first"), approved_before=1), "approved", []),
        (context(count_reports=lambda: 3), "held", ["reports"]),
        (context(count_reports=lambda: 2), "approved", []),
        (context(site_=site(shadow_mode=True), scores=(0.95, 0.01)), "held", ["spam", "shadow"]),
        (context(site_=site(shadow_mode=True), ban=banned()), "held", ["banned", "shadow"]),
        (context(site_=site(shadow_mode=True), storing=False, scores=(0.95, 0.01)), "spam", ["spam"]),
    ],
)
def test_phases_fold_to_a_status_and_reasons(ctx, status, reasons):
    verdict = run(ctx)
    assert (verdict.status, codes(verdict)) == (status, reasons)


def test_the_models_values_are_stored_with_the_decision():
    verdict = run(context(scores=(0.2, 0.7)))
    assert verdict.values["model_version"] == "v-test"
    assert (verdict.values["spam_score"], verdict.values["toxicity_score"], verdict.values["risk"]) == (0.2, 0.7, 0.7)
    assert verdict.values["reasons"] == [{"code": "toxicity", "score": 0.7, "spans": ["дурак"]}]


def test_a_ban_is_spam_without_scoring():
    ctx = context(ban=banned())
    verdict = run(ctx)
    assert ctx.bundle.calls == 0
    assert verdict.values["reasons"] == [
        {"code": "banned", "score": None, "spans": [], "ban": {"kind": "email", "value": "troll@example.kz"}}
    ]


def test_links_alone_score_the_words_again():
    ctx = context(SPAM_LINK, scores=(0.95, 0.01), links=1)
    verdict = run(ctx)
    assert ctx.bundle.calls == 2
    assert verdict.values["reasons"][-1] == {
        "code": "links",
        "score": None,
        "spans": [],
        "count": 1,
        "spam_without_links": 0.01,
    }


def test_reports_are_counted_only_for_an_approval():
    counted = []
    run(context(scores=(0.01, 0.7), count_reports=lambda: counted.append(1) or 5))
    assert counted == []


def test_shadow_mode_keeps_what_the_filter_decided():
    verdict = run(context(site_=site(shadow_mode=True), scores=(0.95, 0.01)))
    assert verdict.values["filter_status"] == "spam"
    assert verdict.values["reasons"][-1] == {"code": "shadow", "score": None, "spans": [], "decision": "spam"}


@pytest.mark.parametrize(
    "percent, storing, shadow, drawn",
    [
        (100, True, False, True),
        (0, True, False, False),
        (100, False, False, False),
        (100, True, True, False),
    ],
)
def test_a_stored_approval_may_be_a_spot_check(percent, storing, shadow, drawn):
    verdict = run(context(site_=site(spot_check_percent=percent, shadow_mode=shadow), storing=storing))
    assert verdict.values.get("spot_check", False) is drawn


def test_a_campaign_is_held_under_its_first_comments_id_and_its_members_go_with_it():
    members = [SimpleNamespace(id=9, campaign_id=None), SimpleNamespace(id=5, campaign_id=None)]
    verdict = run(context(campaign=members))
    assert verdict.values["campaign_id"] == 5
    assert verdict.campaign == members
    assert run(context()).campaign == []
