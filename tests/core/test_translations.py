"""The Chinese catalogue is complete, its placeholders match, and the .mo is current."""

from __future__ import annotations

import re
from pathlib import Path

import polib

import jiuzhu

LOCALE = Path(jiuzhu.__file__).parent / "locale" / "zh_Hans" / "LC_MESSAGES"
PLACEHOLDER = re.compile(r"%\(\w+\)s|\{\{ *\w+ *\}\}")


def test_every_message_is_translated() -> None:
    po = polib.pofile(str(LOCALE / "django.po"))
    untranslated = [e.msgid for e in po.untranslated_entries()]
    fuzzy = [e.msgid for e in po.fuzzy_entries()]
    assert untranslated == []
    assert fuzzy == []


def test_placeholders_survive_translation() -> None:
    po = polib.pofile(str(LOCALE / "django.po"))
    for entry in po.translated_entries():
        translations = list(entry.msgstr_plural.values()) or [entry.msgstr]
        for text in translations:
            assert sorted(PLACEHOLDER.findall(entry.msgid)) == sorted(PLACEHOLDER.findall(text)), (
                entry.msgid
            )


def test_compiled_catalogue_matches_the_source() -> None:
    po = polib.pofile(str(LOCALE / "django.po"))
    mo = polib.mofile(str(LOCALE / "django.mo"))
    compiled = {(e.msgid, e.msgstr or str(e.msgstr_plural)) for e in mo}
    source = {(e.msgid, e.msgstr or str(e.msgstr_plural)) for e in po.translated_entries()}
    assert source <= compiled, "run: jiuzhu compilemessages -l zh_Hans (docs/development.md)"
