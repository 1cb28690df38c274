"""Switching the active model version as a service: the dashboard and the command line both call it."""

import pytest
from sqlalchemy import select

from moderation import scoring
from moderation.db import db
from moderation.models import AuditEvent
from moderation.services import versions
from tests.web.test_cli import copy_version, models_copy  # noqa: F401  (the fixture)


def test_promote_and_roll_back_switch_the_pointer_and_are_audited(make_app, models_copy):  # noqa: F811
    active = copy_version(models_copy, "v-other")
    app = make_app(MODELS_DIR=str(models_copy))
    with app.app_context():
        assert versions.is_known(models_copy, "v-other") and not versions.is_known(models_copy, "../v-other")
        assert versions.promote(models_copy, "v-other", via="cli") == active
        assert versions.active_or_none(models_copy) == "v-other"
        assert versions.roll_back(models_copy, via="cli") == active
        events = db.session.execute(
            select(AuditEvent.action, AuditEvent.via, AuditEvent.detail).order_by(AuditEvent.id)
        ).all()
    assert [tuple(e) for e in events] == [
        ("model_promote", "cli", {"old": active, "new": "v-other"}),
        ("model_rollback", "cli", {"old": "v-other", "new": active}),
    ]


def test_a_damaged_version_is_not_promoted(make_app, models_copy):  # noqa: F811
    active = copy_version(models_copy, "v-bad")
    (models_copy / "v-bad" / "spam.skops").write_bytes(b"damaged")
    app = make_app(MODELS_DIR=str(models_copy))
    with app.app_context():
        with pytest.raises(scoring.ModelLoadError):
            versions.promote(models_copy, "v-bad", via="cli")
        assert versions.active_or_none(models_copy) == active
        assert db.session.scalars(select(AuditEvent)).all() == []
