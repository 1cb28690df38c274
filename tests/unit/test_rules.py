"""The site rules after the models (services/pipeline/): links, campaigns, pre-moderation, trusted authors."""

from dataclasses import dataclass, field
from types import SimpleNamespace

import pytest

from moderation.services.pipeline import PHASES, Context, Outcome, Phase, run
from moderation.services.rules import count_links, stricter, without_links

CONFIG = {"TRUSTED_MAX_SCORE": 0.9}
RULES = ("links", "campaigns", "premoderation", "trust")


@dataclass
class Facts:
    """What the rules know of a comment and its author (pipeline.Context's facts)."""

    links: int = 0
    approved_before: int = 0
    refused_before: int = 0
    campaign: list = field(default_factory=list)


def apply(status, risk, facts, site, config, spam_without_links=None):
    """(status, reasons) after the rule phases, the models having decided `status` with `risk`."""
    ctx = Context(
        SimpleNamespace(text=""),
        site,
        config,
        links=facts.links,
        approved_before=facts.approved_before,
        refused_before=facts.refused_before,
        campaign=facts.campaign,
        risk=risk,
        spam_without_links=spam_without_links,
    )
    models = Phase("models", lambda _ctx: Outcome(status))
    verdict = run(ctx, [models, *(phase for phase in PHASES if phase.name in RULES)])
    return verdict.status, verdict.values["reasons"]


def site(max_links=2, premoderation="none"):
    return SimpleNamespace(max_links=max_links, premoderation=premoderation)


def codes(reasons):
    return [r["code"] for r in reasons]


@pytest.mark.parametrize(
    "a, b, strictest",
    [
        ("approved", "approved", "approved"),
        ("approved", "held", "held"),
        ("held", "approved", "held"),
        ("held", "spam", "spam"),
        ("spam", "approved", "spam"),
    ],
)
def test_stricter(a, b, strictest):
    assert stricter(a, b) == strictest


@pytest.mark.parametrize(
    "text, links",
    [
        ("Аким района опять обещал отремонтировать дорогу к весне.", 0),
        ("Новости об этом: www.nur.kz/1, www.nur.kz/2 и www.nur.kz/3.", 3),
        ("Отчёт: https://almaty.gov.kz/report и бюджет: budget.gov.kz", 2),
        ("Пишите на почту, а не сюда", 0),
    ],
)
def test_count_links_counts_the_text_only(text, links):
    assert count_links(SimpleNamespace(text=text, url="https://reader.example.kz")) == links


def test_more_links_than_the_site_allows_hold_a_clean_comment():
    status, reasons = apply("approved", 0.01, Facts(links=3), site(), CONFIG)
    assert status == "held"
    assert reasons == [{"code": "links", "score": None, "spans": [], "count": 3}]


@pytest.mark.parametrize("links, max_links", [(0, 2), (2, 2), (3, 5), (5, 5)])
def test_links_up_to_the_limit_change_nothing(links, max_links):
    assert apply("approved", 0.01, Facts(links=links), site(max_links=max_links), CONFIG) == ("approved", [])


def test_max_links_zero_holds_any_link():
    assert apply("approved", 0.01, Facts(links=1), site(max_links=0), CONFIG)[0] == "held"


@pytest.mark.parametrize("links, max_links", [(1, 2), (3, 2)])
def test_spam_for_its_links_alone_is_held_with_one_links_reason(links, max_links):
    status, reasons = apply(
        "held", 0.99, Facts(links=links), site(max_links=max_links), CONFIG, spam_without_links=0.031234
    )
    assert status == "held"
    assert reasons == [{"code": "links", "score": None, "spans": [], "count": links, "spam_without_links": 0.0312}]


def test_a_trusted_authors_spam_for_its_links_alone_stays_held():
    status, reasons = apply("held", 0.99, Facts(links=1, approved_before=3), site(), CONFIG, spam_without_links=0.2)
    assert (status, codes(reasons)) == ("held", ["links"])


def test_an_address_is_no_link():
    assert count_links(SimpleNamespace(text="Пишите на info@tengrinews.kz или ivan.pro@mail.ru")) == 0
    assert count_links(SimpleNamespace(text="Пишите на info@tengrinews.kz, см. tengrinews.kz/news")) == 1


@pytest.mark.parametrize(
    "text, words",
    [
        ("Источники: https://tengrinews.kz/1, www.zakon.kz/2 и informburo.kz/3.", "Источники: и"),
        ("Пиши https://t.me/xxx или на почту ivan@mail.ru", "Пиши или на почту ivan@mail.ru"),  # an address stays
        ("Без ссылок, @handle остаётся \ue001", "Без ссылок, @handle остаётся"),  # the model's link placeholder goes
    ],
)
def test_without_links_takes_out_what_count_links_counts(text, words):
    assert without_links(text).split() == words.split()
    assert count_links(SimpleNamespace(text=without_links(text))) == 0


def test_rules_never_soften_spam():
    status, reasons = apply("spam", 0.95, Facts(links=4, approved_before=3), site(premoderation="all"), CONFIG)
    assert status == "spam"
    assert codes(reasons) == ["links", "premoderation"]


def test_a_campaign_is_held_under_its_first_comments_id():
    members = [
        SimpleNamespace(id=17, campaign_id=None),
        SimpleNamespace(id=9, campaign_id=None),
        SimpleNamespace(id=12, campaign_id=None),
    ]
    status, reasons = apply("approved", 0.01, Facts(campaign=members), site(), CONFIG)
    assert status == "held"
    assert reasons == [{"code": "campaign", "score": None, "spans": [], "campaign_id": 9, "size": 4}]


def test_a_campaign_keeps_the_id_its_group_already_has():
    members = [
        SimpleNamespace(id=30, campaign_id=None),
        SimpleNamespace(id=21, campaign_id=12),
        SimpleNamespace(id=25, campaign_id=12),
    ]
    _status, reasons = apply("approved", 0.01, Facts(campaign=members), site(), CONFIG)
    assert reasons[0]["campaign_id"] == 12


@pytest.mark.parametrize(
    "mode, facts, held",
    [
        ("none", Facts(), False),
        ("none", Facts(links=1), False),
        ("all", Facts(approved_before=5), True),
        ("first", Facts(), True),
        ("first", Facts(approved_before=1), False),
        ("links", Facts(links=1, approved_before=1), True),
        ("links", Facts(approved_before=0), False),
    ],
)
def test_premoderation_modes(mode, facts, held):
    status, reasons = apply("approved", 0.01, facts, site(premoderation=mode), CONFIG)
    assert status == ("held" if held else "approved")
    assert reasons == ([{"code": "premoderation", "score": None, "spans": [], "mode": mode}] if held else [])


def test_a_trusted_author_is_approved_when_only_the_models_would_hold():
    status, reasons = apply("held", 0.65, Facts(approved_before=2), site(), CONFIG)
    assert status == "approved"
    assert reasons == [{"code": "trusted", "score": None, "spans": [], "approved": 2}]


@pytest.mark.parametrize(
    "status, risk, facts, expected",
    [
        ("held", 0.65, Facts(), "held"),  # a new author
        ("held", 0.65, Facts(approved_before=2, refused_before=1), "held"),  # rejected once: not trusted
        ("held", 0.9, Facts(approved_before=2), "held"),  # the cap
        ("held", 0.97, Facts(approved_before=2), "held"),
        ("spam", 0.95, Facts(approved_before=2), "spam"),
        ("held", 0.65, Facts(approved_before=2, links=3), "held"),  # another rule holds it
    ],
)
def test_trust_has_limits(status, risk, facts, expected):
    decided, reasons = apply(status, risk, facts, site(), CONFIG)
    assert decided == expected
    assert "trusted" not in codes(reasons)


def test_a_trusted_authors_clean_comment_needs_no_trust():
    assert apply("approved", 0.01, Facts(approved_before=2), site(), CONFIG) == ("approved", [])


def test_premoderation_first_lets_a_known_author_through_but_all_does_not():
    facts = Facts(approved_before=1)
    assert apply("held", 0.6, facts, site(premoderation="first"), CONFIG)[0] == "approved"  # trusted
    status, reasons = apply("held", 0.6, facts, site(premoderation="all"), CONFIG)
    assert (status, codes(reasons)) == ("held", ["premoderation"])
