"""The verb → module table of docs/architecture.md, generated from the code.

A *verb module* is a module whose public functions are the services (writes) and selectors
(reads) that other code calls:
- every module or package named `services` or `selectors`, or `services_*` / `selectors_*`, at
  any depth of an app (`records.services`, `portal.fhir.selectors`, `records.selectors_record`);
  a package counts once, through its `__init__`, since callers outside the app import from it;
- the modules in TOPIC_VERB_MODULES, which hold services or selectors under their topic's name.

Its *public verbs* are the functions it exports: the functions named in its `__all__` when it
has one (a package's re-exports), otherwise the functions it defines whose names do not start
with `_`. Classes, constants and the names a module only imports are not verbs.

tests/test_architecture.py checks the table against this list in both directions. After adding,
renaming or removing a verb, rewrite the table with

    .venv/bin/python -m tests.architecture_table --write
"""

from __future__ import annotations

import importlib
import inspect
import os
import pkgutil
import re
import sys
from pathlib import Path
from types import ModuleType

ROOT = Path(__file__).resolve().parent.parent
DOC = ROOT / "docs" / "architecture.md"

# Highest layer first, as in pyproject.toml's import-linter contract; the table lists the
# lowest app first, the order a reader meets them from the bottom up.
LAYERS = [
    "portal",
    "telemedicine",
    "appointments",
    "records",
    "hospitals",
    "notifications",
    "accounts",
    "audit",
]

# Verb modules that are not called services or selectors. Add a module here when you give
# verbs a module of their own under their topic's name.
TOPIC_VERB_MODULES = [
    "records.access",  # who may read a record, break-glass, the read/denied audit rows
    "records.attachments",  # checking and storing uploads
    "portal.sessions",  # the sign-in session's idle and absolute limits
    "audit.context",  # where a change came from: the address and request id of its request
    "hospitals.search_names",  # the names search finds things by: pinyin, initials, aliases
]

_VERB_MODULE_NAME = re.compile(r"^(services|selectors)(_\w+)?$")
_TABLE = re.compile(r"<!-- verbs -->\n(.*?)<!-- /verbs -->", re.DOTALL)
_ROW = re.compile(r"^\|\s*`?([\w.]+)`?\s*\|\s*`?([\w.]+)`?\s*\|\s*$")


def verb_modules() -> list[str]:
    """Every verb module, lowest layer first, then by dotted name."""
    names: set[str] = set(TOPIC_VERB_MODULES)
    for app in LAYERS:
        package = importlib.import_module(app)
        for info in pkgutil.walk_packages(package.__path__, prefix=f"{app}."):
            parts = info.name.split(".")
            if "migrations" in parts or "management" in parts:
                continue
            # appointments.services.booking belongs to the appointments.services package.
            if any(_VERB_MODULE_NAME.match(part) for part in parts[1:-1]):
                continue
            if _VERB_MODULE_NAME.match(parts[-1]):
                names.add(info.name)
    return sorted(names, key=lambda name: (-LAYERS.index(name.split(".")[0]), name))


def _is_function(obj: object) -> bool:
    return inspect.isfunction(inspect.unwrap(obj)) if callable(obj) else False


def public_verbs(module: ModuleType) -> list[str]:
    """The functions a verb module exports (see the module docstring)."""
    exported = getattr(module, "__all__", None)
    if exported is not None:
        return sorted(name for name in exported if _is_function(getattr(module, name)))
    return sorted(
        name
        for name, obj in vars(module).items()
        if not name.startswith("_")
        and _is_function(obj)
        and getattr(obj, "__module__", None) == module.__name__
    )


def verb_rows() -> list[tuple[str, str]]:
    """(verb, module) for every public verb of every verb module, in table order."""
    return [
        (verb, name)
        for name in verb_modules()
        for verb in public_verbs(importlib.import_module(name))
    ]


def table_markdown(rows: list[tuple[str, str]]) -> str:
    lines = ["| verb | module |", "|---|---|"]
    lines += [f"| `{verb}` | `{module}` |" for verb, module in rows]
    return "\n".join(lines) + "\n"


def documented_rows(text: str | None = None) -> list[tuple[str, str]]:
    """The (verb, module) rows between `<!-- verbs -->` and `<!-- /verbs -->`."""
    text = DOC.read_text(encoding="utf-8") if text is None else text
    found = _TABLE.search(text)
    if found is None:
        raise ValueError(f"{DOC} has no <!-- verbs --> … <!-- /verbs --> section")
    rows = []
    for line in found.group(1).splitlines():
        row = _ROW.match(line.strip())
        if row and row.groups() != ("verb", "module"):
            rows.append((row.group(1), row.group(2)))
    return rows


def write_table() -> int:
    """Replace the table in docs/architecture.md with the one the code gives."""
    rows = verb_rows()
    text = DOC.read_text(encoding="utf-8")
    if _TABLE.search(text) is None:
        raise ValueError(f"{DOC} has no <!-- verbs --> … <!-- /verbs --> section")
    new = _TABLE.sub(lambda _: f"<!-- verbs -->\n{table_markdown(rows)}<!-- /verbs -->", text)
    DOC.write_text(new, encoding="utf-8")
    return len(rows)


def main(argv: list[str]) -> None:
    import django

    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "tests.settings")
    django.setup()
    if "--write" in argv:
        print(f"{write_table()} rows written to {DOC.relative_to(ROOT)}")
    else:
        sys.stdout.write(table_markdown(verb_rows()))


if __name__ == "__main__":
    main(sys.argv[1:])
