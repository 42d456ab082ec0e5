"""The names a search finds a hospital, department or doctor by: the names themselves, their
pinyin in full and as initials (张伟 → zhangwei, zw), and a department's other names (心内科 for
心血管内科), kept in small tables (`*SearchName`) that each save rewrites.

The tables hold every suffix of every name (张伟 → 张伟, 伟), so a word found anywhere in a name
is the prefix of one of its rows: `LIKE 'word%'`, which a `varchar_pattern_ops` btree serves
for words of any length, one character too (a `pg_trgm` index does not serve one- or
two-character words, and its trigrams depend on the database's `lc_ctype`).

Pure text functions here; the models call `names_for_*` from `save()`, and
`hospitals.services.search_names_rebuild` fills the tables for rows written in bulk
(benchmarks)."""

from __future__ import annotations

import re

from pypinyin import Style, lazy_pinyin

# Other names of common departments. A department named with any name of a group is found by
# every name of the group (and by their pinyin); a department may add its own (`aliases`).
DEPARTMENT_ALIAS_GROUPS: tuple[tuple[str, ...], ...] = (
    ("心血管内科", "心内科", "心脏内科"),
    ("消化内科", "消化科", "胃肠科"),
    ("呼吸内科", "呼吸科"),
    ("神经内科", "神内科"),
    ("内分泌科", "内分泌代谢科"),
    ("肾内科", "肾脏内科"),
    ("耳鼻咽喉科", "耳鼻喉科"),
    ("口腔科", "牙科"),
    ("皮肤科", "皮肤性病科"),
    ("儿科", "小儿科"),
    ("骨科", "骨伤科"),
    ("妇科", "妇产科"),
    ("全科", "全科医学科", "家庭医学科"),
)
_ALIASES: dict[str, tuple[str, ...]] = {
    name: group for group in DEPARTMENT_ALIAS_GROUPS for name in group
}
_HAN = re.compile(r"[\u3400-\u9fff]")
_SEPARATORS = re.compile(r"[\s,，、;；/]+")


def has_han(text: str) -> bool:
    return bool(_HAN.search(text))


def pinyin_key(text: str) -> str:
    """A sort key that orders Chinese names by their pinyin (not by code point): 安 before 北
    before 张; other text sorts by itself, lowercased."""
    if not has_han(text):
        return text.lower()
    return " ".join(lazy_pinyin(text)).lower()


def pinyin_terms(text: str) -> set[str]:
    """The full pinyin and the initials of a name with Chinese characters: 张伟 → zhangwei, zw."""
    if not has_han(text):
        return set()
    syllables = [s for s in lazy_pinyin(text) if s.strip()]
    initials = [s for s in lazy_pinyin(text, style=Style.FIRST_LETTER) if s.strip()]
    return {"".join(syllables).lower(), "".join(initials).lower()}


def _terms(*texts: str) -> set[str]:
    terms: set[str] = set()
    for text in texts:
        text = text.strip()
        if text:
            terms.add(text.lower())
            terms |= pinyin_terms(text)
    return terms


def split_aliases(aliases: str) -> list[str]:
    return [alias for alias in _SEPARATORS.split(aliases) if alias]


def department_aliases(name: str, aliases: str = "") -> list[str]:
    """The department's other names: its group's and its own."""
    names = [*_ALIASES.get(name.strip(), ()), *split_aliases(aliases)]
    return [alias for alias in dict.fromkeys(names) if alias != name.strip()]


def names_for_hospital(*, name: str, name_en: str) -> set[str]:
    return _terms(name, name_en)


def names_for_department(*, name: str, name_en: str, aliases: str = "") -> set[str]:
    return _terms(name, name_en, *department_aliases(name, aliases))


def names_for_doctor(
    *, name: str, name_en: str, specialties: str = "", specialties_en: str = ""
) -> set[str]:
    terms = _terms(name, name_en)
    terms |= {text.strip().lower() for text in (specialties, specialties_en) if text.strip()}
    return terms


def search_words(text: str) -> list[str]:
    """What a search box's text is matched as: lowercased words, each to be found."""
    return [word.lower() for word in text.split() if word]


def suffixes(names: set[str]) -> set[str]:
    """The rows a row's names are stored as: every suffix of each (zw → zw, w)."""
    return {name[start:] for name in names for start in range(len(name)) if name[start:].strip()}


def search_names_write(owner, *, model, field: str, names: set[str]) -> None:
    """Replace one row's searched names (called by its `save()`), as their suffixes."""
    model.objects.filter(**{field: owner}).delete()
    model.objects.bulk_create(
        model(**{field: owner, "text": text}) for text in sorted(suffixes(names))
    )
