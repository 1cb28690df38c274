"""The audit log's vocabulary: every action that can be recorded has a label, in Russian and Kazakh too."""

import re
from pathlib import Path

import pytest
from babel.messages.pofile import read_po

from moderation.services import audit

ROOT = Path(__file__).resolve().parents[2] / "moderation"
ACTIONS = {value for name, value in vars(audit).items() if name.isupper() and isinstance(value, str)}


def test_every_action_has_a_label_and_every_label_an_action():
    assert set(audit.LABELS) == ACTIONS


def test_no_action_is_recorded_by_a_bare_string():
    # `action="..."` or record("...") would record an action the vocabulary may not know.
    sources = [path for path in ROOT.rglob("*.py") if "migrations" not in path.parts]
    found = [
        f"{path.relative_to(ROOT)}: {match.group(0)}"
        for path in sources
        for match in re.finditer(r'\baction="[a-z_]+"|\brecord\("[a-z_]+"', path.read_text(encoding="utf-8"))
    ]
    assert found == []


@pytest.mark.parametrize("locale", ["ru", "kk"])
def test_every_label_is_translated(locale):
    with open(ROOT / "translations" / locale / "LC_MESSAGES" / "messages.po", encoding="utf-8") as po:
        catalog = read_po(po)
    missing = [
        label._args[0]
        for label in audit.LABELS.values()
        if not (catalog.get(label._args[0]) and catalog.get(label._args[0]).string)
    ]
    assert missing == []
