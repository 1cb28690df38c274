"""The README's screenshots, taken from the running dashboard with realistic data (once per run).

They are written over docs/screenshots only when asked (`make screenshots`, MODERATION_SCREENSHOTS=1), so test
runs leave the tree clean; otherwise into the test's temporary folder, checked all the same.
"""

import os
import struct
from pathlib import Path

from sqlalchemy import func, select

from moderation.db import db
from moderation.models import Comment
from moderation.services import users
from tests.e2e import seed
from tests.e2e.support import PASSWORD, VIEWPORT

SCREENSHOTS = Path(__file__).resolve().parents[2] / "docs" / "screenshots"


def png_size(path):
    """(width, height) from a PNG's header."""
    header = path.read_bytes()[:24]
    assert header[:8] == b"\x89PNG\r\n\x1a\n", f"{path} is not a PNG"
    return struct.unpack(">II", header[16:24])


def shoot(page, name, scratch):
    """Save the viewport as <name>.png and check it is the size the README expects."""
    folder = SCREENSHOTS if os.environ.get("MODERATION_SCREENSHOTS") == "1" else scratch
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{name}.png"
    page.screenshot(path=str(path))
    assert png_size(path) == (VIEWPORT["width"], VIEWPORT["height"])


def test_screenshots(signed_in, live_server, site, moderator, tmp_path):
    def data():
        colleague = users.create_user("dana", PASSWORD, "moderator")
        seed.seed_history(site.id, colleague.id)
        return seed.seed_queue(site.id)

    ids = live_server.query(data)
    page = signed_in

    page.goto(live_server("/dashboard/"))
    assert page.locator(".comments .comment").count() == len(seed.HELD_COMMENTS)
    assert page.locator(".comments .comment .text mark").count() >= 10
    page.keyboard.press("j")  # the second card is the current one, as mid-way through the queue
    shoot(page, "queue", tmp_path)

    page.goto(live_server(f"/dashboard/comments/{ids['threat']}"))
    assert page.locator(".comment .text mark").all_inner_texts() == seed.HELD_COMMENTS["threat"][9]["toxicity"]
    assert page.locator(".record").count() == 1
    shoot(page, "comment", tmp_path)

    page.goto(live_server("/dashboard/stats"))
    total = live_server.query(lambda: db.session.scalar(select(func.count()).select_from(Comment)))
    assert page.inner_text("#figure-total") == str(total)
    days_with_bars = page.locator("svg.stacked-bars g").evaluate_all(
        "groups => groups.filter(g => g.querySelector('rect')).length"
    )
    assert days_with_bars >= 28  # 28 days of history and today, some spilling into a 30th
    shoot(page, "stats", tmp_path)
