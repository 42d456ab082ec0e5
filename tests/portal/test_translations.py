"""Every string has its Chinese, and the compiled catalogue says what the source says."""

from __future__ import annotations

import ast
import gettext
from pathlib import Path

CATALOGUE = Path(__file__).resolve().parents[2] / "locale" / "zh_Hans" / "LC_MESSAGES"


def _entries() -> list[dict]:
    """A small reader of django.po: each entry's flags, context, msgid and msgstr(s)."""
    entries, entry, key = [], {}, None
    for raw in [*(CATALOGUE / "django.po").read_text(encoding="utf-8").splitlines(), ""]:
        line = raw.strip()
        if not line:
            if entry:
                entries.append(entry)
            entry, key = {}, None
        elif line.startswith("#~"):
            entry["obsolete"] = True
        elif line.startswith("#,"):
            entry["flags"] = {flag.strip() for flag in line[2:].split(",")}
        elif line.startswith("#"):
            continue
        elif line.startswith('"'):
            entry[key] += ast.literal_eval(line)
        else:
            key, _, value = line.partition(" ")
            entry[key] = ast.literal_eval(value)
    return [e for e in entries if e.get("msgid") and not e.get("obsolete")]


def test_every_string_is_translated_into_chinese_and_none_is_fuzzy():
    entries = _entries()
    assert len(entries) > 300
    untranslated = [
        e["msgid"]
        for e in entries
        if not (e.get("msgstr") or e.get("msgstr[0]")) or "fuzzy" in e.get("flags", set())
    ]
    assert untranslated == []


def test_the_compiled_catalogue_is_up_to_date_with_the_source():
    with (CATALOGUE / "django.mo").open("rb") as compiled:
        catalogue = gettext.GNUTranslations(compiled)
    stale = []
    for e in _entries():
        if "msgid_plural" in e:
            got = catalogue.ngettext(e["msgid"], e["msgid_plural"], 1)
            want = e["msgstr[0]"]
        elif "msgctxt" in e:
            got, want = catalogue.pgettext(e["msgctxt"], e["msgid"]), e["msgstr"]
        else:
            got, want = catalogue.gettext(e["msgid"]), e["msgstr"]
        if got != want:
            stale.append(e["msgid"])
    assert stale == [], "run `make messages` and commit the .mo"
