"""The dashboard's actions read in Russian, as the contract says. DEPENDS ON THE COMPILED ru CATALOG.

Every other browser test finds buttons by stable attributes, so it passes whatever the translations say;
this one alone checks the words, and is skipped until moderation/translations/ru has them.
"""

import gettext
from pathlib import Path

import pytest

import moderation
from tests.e2e import seed

RU_CATALOG = Path(moderation.__file__).parent / "translations" / "ru" / "LC_MESSAGES" / "messages.mo"
LABELS = {"approve": ("Approve", "Одобрить"), "reject": ("Reject", "Отклонить"), "spam": ("Spam", "Спам")}


def ru_catalog_translates(pairs):
    """True when the compiled Russian catalog turns each msgid into the expected words."""
    try:
        with RU_CATALOG.open("rb") as handle:
            catalog = gettext.GNUTranslations(handle)
    except OSError:
        return False
    return all(catalog.gettext(msgid) == russian for msgid, russian in pairs)


@pytest.mark.skipif(not ru_catalog_translates(LABELS.values()), reason="ru catalog not compiled yet")
def test_actions_read_in_russian_ru_catalog(signed_in, live_server, site):
    live_server.query(lambda: seed.seed_queue(site.id))
    signed_in.reload()
    assert signed_in.locator("html").get_attribute("lang") == "ru"
    card = signed_in.locator(".comments .comment").first
    for action, (_msgid, russian) in LABELS.items():
        assert card.locator(f"button[value={action}]").inner_text().strip() == russian
        assert signed_in.locator(f"#bulk-form button[value={action}]").inner_text().strip() == russian
