"""A moderator's morning in a real browser: sign in, search, approve, reject, bulk spam, undo."""

import re

from sqlalchemy import select

from moderation.db import db
from moderation.models import APPROVED, HELD, REJECTED, SPAM, AuditEvent, Comment, Label
from moderation.services import reasons
from tests.e2e import seed
from tests.e2e.support import sign_in


def card_ids(page):
    """The ids of the cards in the queue, top to bottom."""
    return [int(i) for i in page.locator(".comments .comment").evaluate_all("cards => cards.map(c => c.dataset.id)")]


def current_id(page):
    return int(page.locator(".comments .comment.current").get_attribute("data-id"))


def move_to(page, comment_id):
    """Reach a card with j (down) and k (up), as a moderator does, checking each step lands where it should."""
    ids = card_ids(page)
    target = ids.index(comment_id)
    position = ids.index(current_id(page))
    # Overshoot by one and come back with k, so both keys are exercised whenever the target is not last.
    overshoot = 1 if target + 1 < len(ids) and target >= position else 0
    for _ in range(target - position + overshoot):
        page.keyboard.press("j")
    for _ in range(overshoot):
        page.keyboard.press("k")
    for _ in range(position - target):
        page.keyboard.press("k")
    assert current_id(page) == comment_id


def state(live_server, comment_id):
    """(status, reject reason, moderator id) of a comment, read in a new session."""
    return live_server.query(
        lambda: tuple(
            db.session.execute(
                select(Comment.status, Comment.reject_reason, Comment.moderated_by_id).where(Comment.id == comment_id)
            ).one()
        )
    )


def events(live_server, comment_id):
    """(action, from, to, reason, batch, undone, user id) of every audit event of a comment, oldest first."""
    return live_server.query(
        lambda: [
            tuple(e)
            for e in db.session.execute(
                select(
                    AuditEvent.action,
                    AuditEvent.from_status,
                    AuditEvent.to_status,
                    AuditEvent.reason,
                    AuditEvent.batch,
                    AuditEvent.undone,
                    AuditEvent.user_id,
                )
                .where(AuditEvent.comment_id == comment_id)
                .order_by(AuditEvent.id)
            )
        ]
    )


def label(live_server, comment_id):
    """(spam, toxic, user id) of the comment's training label, or None."""
    row = live_server.query(
        lambda: db.session.execute(
            select(Label.spam, Label.toxic, Label.user_id).where(Label.comment_id == comment_id)
        ).one_or_none()
    )
    return tuple(row) if row else None


def test_moderation_flow(page, live_server, site, moderator):
    ids = live_server.query(lambda: seed.seed_queue(site.id))
    insult_index = live_server.query(lambda: [r.code for r in reasons.active_reasons()].index("insult"))

    # Signed out, the dashboard sends the moderator to its login form.
    sign_in(page, live_server, moderator.login, moderator.password)
    assert sorted(card_ids(page)) == sorted(ids.values())

    # Search finds the comment about the bridge, and only it.
    page.fill("form.filters input[name=q]", "отремонтируют мост")
    page.press("form.filters input[name=q]", "Enter")
    page.wait_for_url(re.compile(r"[?&]q=%D0%BE%D1%82"))
    assert card_ids(page) == [ids["bridge"]]
    assert "отремонтируют мост на Сатпаева" in page.inner_text(f"#c{ids['bridge']} .text")
    page.click("form.filters a[href$='?status=held']")  # Reset
    page.wait_for_url(re.compile(r"/dashboard/\?status=held$"))
    assert len(card_ids(page)) == len(ids)

    # Approve it from the keyboard: j/k to reach it, then a.
    move_to(page, ids["bridge"])
    page.keyboard.press("a")
    page.wait_for_selector(f"#c{ids['bridge']}", state="detached")
    assert state(live_server, ids["bridge"]) == (APPROVED, None, moderator.id)
    [approve] = events(live_server, ids["bridge"])
    assert approve[:4] == ("approve", HELD, APPROVED, None) and approve[6] == moderator.id
    assert label(live_server, ids["bridge"]) == (False, False, moderator.id)

    # Reject the insult: r opens the reason picker, a digit picks the reason.
    move_to(page, ids["insult"])
    page.keyboard.press("r")
    picker = page.locator("#reason-picker")
    picker.wait_for(state="visible")
    assert picker.locator(".pick-reason").nth(insult_index).get_attribute("data-reason") == "insult"
    page.keyboard.press(str(insult_index + 1))
    page.wait_for_selector(f"#c{ids['insult']}", state="detached")
    assert picker.is_hidden()
    assert state(live_server, ids["insult"]) == (REJECTED, "insult", moderator.id)
    [reject] = events(live_server, ids["insult"])
    assert reject[:4] == ("reject", HELD, REJECTED, "insult")
    assert label(live_server, ids["insult"]) == (False, True, moderator.id)  # an insult teaches toxicity

    # Select the three spam comments with x and mark them spam at once from the bulk bar.
    spam_keys = ("earnings", "credit", "crypto")
    for key in spam_keys:
        move_to(page, ids[key])
        page.keyboard.press("x")
    checked = page.locator(".comments .select:checked").evaluate_all("boxes => boxes.map(b => Number(b.value))")
    assert sorted(checked) == sorted(ids[k] for k in spam_keys)
    assert page.inner_text(".bulk .selected-count") == "3"
    with page.expect_navigation():
        page.click("#bulk-form button[value=spam]")
    assert page.locator(".flash.success").count() == 1
    remaining = set(card_ids(page))
    assert remaining == {ids[k] for k in ("threat", "akimat", "kazakh")}
    batches = set()
    for key in spam_keys:
        assert state(live_server, ids[key]) == (SPAM, None, moderator.id)
        [bulk] = events(live_server, ids[key])
        assert bulk[:3] == ("spam", HELD, SPAM)
        batches.add(bulk[4])
        assert label(live_server, ids[key]) == (True, None, moderator.id)
    assert len(batches) == 1, "a bulk action is one batch, so that one undo reverts it"

    # u undoes the last action: the whole bulk batch returns to the queue, the earlier decisions stay.
    with page.expect_navigation():
        page.keyboard.press("u")
    assert set(card_ids(page)) == remaining | {ids[k] for k in spam_keys}
    for key in spam_keys:
        assert state(live_server, ids[key]) == (HELD, None, None)
        assert events(live_server, ids[key])[0][5] is True  # the event is marked undone
        assert label(live_server, ids[key]) is None
    assert state(live_server, ids["bridge"])[0] == APPROVED
    assert state(live_server, ids["insult"])[:2] == (REJECTED, "insult")
    undo_rows = live_server.query(
        lambda: db.session.scalars(
            select(AuditEvent.detail).where(AuditEvent.action == "undo", AuditEvent.user_id == moderator.id)
        ).all()
    )
    assert [sorted(d["comments"]) for d in undo_rows] == [sorted(ids[k] for k in spam_keys)]

    # o opens the current comment; its page rejects with the same picker (here by mouse) and undoes with u.
    move_to(page, ids["threat"])
    with page.expect_navigation():
        page.keyboard.press("o")
    assert page.url == live_server(f"/dashboard/comments/{ids['threat']}")
    page.click(".action-form button[value=reject]")  # no reason chosen in the select: the picker asks
    with page.expect_navigation():
        page.click("#reason-picker .pick-reason[data-reason=threat]")
    assert state(live_server, ids["threat"]) == (REJECTED, "threat", moderator.id)
    assert page.locator(".comment .state-rejected").count() == 1
    with page.expect_navigation():
        page.keyboard.press("u")
    assert state(live_server, ids["threat"]) == (HELD, None, None)
    assert page.locator(".comment .state-held").count() == 1
