"""The admin pages fit a laptop's screen: nothing an admin must click is cut off by its card."""

from types import SimpleNamespace

import pytest

from moderation.services import users
from tests.e2e.support import PASSWORD, sign_in


@pytest.fixture
def admin(live_server):
    with live_server.app.app_context():
        user = users.create_user("erlan", PASSWORD, "admin")
        return SimpleNamespace(login=user.login, password=PASSWORD)


@pytest.mark.parametrize("width", [1400, 1280])
def test_the_models_table_fits_its_card(page, live_server, admin, width):
    page.set_viewport_size({"width": width, "height": 900})
    sign_in(page, live_server, admin.login, admin.password)
    page.goto(live_server("/dashboard/admin/models"))
    buttons = page.locator("table.models button")
    assert buttons.count() >= 1  # the shipped version that is not active can be promoted
    scroller = page.locator("table.models").locator("xpath=..")
    overflow = scroller.evaluate("el => el.scrollWidth - el.clientWidth")
    assert overflow <= 0, f"the table is {overflow}px wider than its card at {width}px"
    box = scroller.bounding_box()
    for button in buttons.all():
        edge = button.bounding_box()
        assert edge["x"] >= box["x"] and edge["x"] + edge["width"] <= box["x"] + box["width"]
