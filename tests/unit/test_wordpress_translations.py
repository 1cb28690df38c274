"""The WordPress plugin speaks Russian and Kazakh: every admin string is translated, and the committed .mo files
(what WordPress reads) say what the .po files say."""

import re
from pathlib import Path

import pytest
from babel.messages.mofile import read_mo
from babel.messages.pofile import read_po

PLUGIN = Path(__file__).resolve().parents[2] / "integrations" / "wordpress"
# __( 'text', 'moderation' ), esc_html__, esc_html_e, _e, esc_attr__ ...
CALL = re.compile(r"\b(?:__|_e|esc_html__|esc_html_e|esc_attr__|esc_attr_e)\(\s*'((?:[^'\\]|\\.)*)'\s*,\s*'moderation'")
HEADERS = ("Plugin Name", "Description")  # WordPress translates these from the plugin's text domain


def source_strings():
    found = set()
    for path in [PLUGIN / "moderation.php", *sorted((PLUGIN / "includes").glob("*.php"))]:
        source = path.read_text()
        found.update(m.replace("\\'", "'") for m in CALL.findall(source))
    header = (PLUGIN / "moderation.php").read_text()
    for name in HEADERS:
        found.add(re.search(rf"^ \* {name}:\s+(.+)$", header, re.M).group(1).strip())
    return found


@pytest.mark.parametrize("locale", ["ru_RU", "kk"])
def test_every_admin_string_is_translated_and_compiled(locale):
    with (PLUGIN / "languages" / f"moderation-{locale}.po").open("rb") as po_file:
        po = {m.id: m.string for m in read_po(po_file) if m.id}
    with (PLUGIN / "languages" / f"moderation-{locale}.mo").open("rb") as mo_file:
        mo = {m.id: m.string for m in read_mo(mo_file) if m.id}
    strings = source_strings()
    assert len(strings) > 30
    assert sorted(strings - {k for k, v in po.items() if v}) == [], "untranslated"
    assert sorted(set(po) - strings) == [], "translations of strings the plugin no longer has"
    assert mo == po, "run `make wordpress-plugin` to compile the .po files"
    for source, translated in po.items():  # the same printf placeholders, or PHP's sprintf would fail
        assert sorted(re.findall(r"%(?:\d\$)?[sd]", source)) == sorted(re.findall(r"%(?:\d\$)?[sd]", translated))
