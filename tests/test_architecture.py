"""Guards of the layout described in docs/architecture.md: the verb table matches the code, no
import cycles, no module past 500 lines, no private name imported across modules, and the
README and docs stay short and linked. None of them needs the database."""

from __future__ import annotations

import ast
import importlib
import os
import re
from pathlib import Path

import grimp

from tests import architecture_table

ROOT = architecture_table.ROOT
ROOT_PACKAGES = architecture_table.LAYERS
MAX_LINES = 500
REGENERATE = ".venv/bin/python -m tests.architecture_table --write"


# --- The verb → module table ------------------------------------------------------------------


def test_every_verb_in_the_architecture_table_imports_from_its_module():
    rows = architecture_table.documented_rows()
    assert rows, "docs/architecture.md has an empty verb table"
    broken = []
    for verb, module_name in rows:
        try:
            module = importlib.import_module(module_name)
        except ImportError as error:
            broken.append(f"{verb}: module {module_name} does not import ({error})")
            continue
        if not callable(getattr(module, verb, None)):
            broken.append(f"{verb}: not importable from {module_name}")
    assert not broken, "\n".join(broken)


def test_every_public_service_and_selector_has_a_row_in_the_architecture_table():
    documented = architecture_table.documented_rows()
    assert len(documented) == len(set(documented)), "a row of the verb table is repeated"
    exported = architecture_table.verb_rows()
    missing = [row for row in exported if row not in set(documented)]
    stale = [row for row in documented if row not in set(exported)]
    assert not missing and not stale, (
        f"docs/architecture.md's verb table is out of date; regenerate it with {REGENERATE}\n"
        f"not in the table: {missing}\nin the table but no longer public: {stale}"
    )


def test_the_verb_modules_include_the_topic_modules_and_every_app():
    modules = architecture_table.verb_modules()
    for name in architecture_table.TOPIC_VERB_MODULES:
        assert name in modules
        assert architecture_table.public_verbs(importlib.import_module(name)), name
    assert {name.split(".")[0] for name in modules} == set(ROOT_PACKAGES)


# --- Import cycles ------------------------------------------------------------------------------


def strongly_connected_components(edges: dict[str, set[str]]) -> list[list[str]]:
    """Tarjan's algorithm, iterative (a deep import chain must not hit the recursion limit)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    components: list[list[str]] = []
    for start in sorted(edges):
        if start in index:
            continue
        work = [(start, iter(sorted(edges[start])))]
        index[start] = low[start] = len(index)
        stack.append(start)
        on_stack.add(start)
        while work:
            node, successors = work[-1]
            for successor in successors:
                if successor not in index:
                    index[successor] = low[successor] = len(index)
                    stack.append(successor)
                    on_stack.add(successor)
                    work.append((successor, iter(sorted(edges.get(successor, ())))))
                    break
                if successor in on_stack:
                    low[node] = min(low[node], index[successor])
            else:
                work.pop()
                if work:
                    parent = work[-1][0]
                    low[parent] = min(low[parent], low[node])
                if low[node] == index[node]:
                    component = []
                    while True:
                        member = stack.pop()
                        on_stack.discard(member)
                        component.append(member)
                        if member == node:
                            break
                    components.append(sorted(component))
    return components


def import_cycles() -> list[list[str]]:
    """Every group of project modules that import each other, directly or not. grimp (the
    graph import-linter builds) counts imports inside functions and under TYPE_CHECKING too."""
    graph = grimp.build_graph(*ROOT_PACKAGES, cache_dir=None)
    edges = {module: graph.find_modules_directly_imported_by(module) for module in graph.modules}
    return sorted(c for c in strongly_connected_components(edges) if len(c) > 1)


def test_the_cycle_finder_finds_cycles():
    edges = {"a": {"b"}, "b": {"c"}, "c": {"a", "d"}, "d": set(), "e": {"e2"}, "e2": {"e"}}
    found = sorted(c for c in strongly_connected_components(edges) if len(c) > 1)
    assert found == [["a", "b", "c"], ["e", "e2"]]


def test_the_project_has_no_import_cycles():
    assert import_cycles() == []


# --- Module size ----------------------------------------------------------------------------------


def _counted_modules():
    """Every .py file of the repository but migrations, demo data (demo.py) and tests."""
    for directory, subdirectories, files in os.walk(ROOT):
        subdirectories[:] = [
            name
            for name in subdirectories
            if not name.startswith(".")
            and name not in {"migrations", "__pycache__", "node_modules", "staticfiles"}
            and not (Path(directory) == ROOT and name == "tests")
        ]
        for name in files:
            if name.endswith(".py") and name != "demo.py":
                yield Path(directory) / name


def test_no_module_outside_migrations_demo_and_tests_passes_500_lines():
    too_long = {}
    for path in _counted_modules():
        with path.open(encoding="utf-8") as source:
            lines = sum(1 for _ in source)
        if lines > MAX_LINES:
            too_long[str(path.relative_to(ROOT))] = lines
    assert not too_long, f"split these by concept (docs/architecture.md): {too_long}"


# --- Private names ------------------------------------------------------------------------------


def test_no_module_imports_a_private_name_of_another_project_module():
    offenders = []
    for path in _counted_modules():
        relative = path.relative_to(ROOT)
        if relative.parts[0] not in ROOT_PACKAGES:
            continue
        tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(relative))
        for node in ast.walk(tree):
            if not isinstance(node, ast.ImportFrom) or node.level or not node.module:
                continue
            if node.module.split(".")[0] not in ROOT_PACKAGES:
                continue
            for alias in node.names:
                if alias.name.startswith("_") and not alias.name.startswith("__"):
                    offenders.append(f"{relative}:{node.lineno} {node.module}.{alias.name}")
    assert not offenders, "give these a public name in their module:\n" + "\n".join(offenders)


# --- README and docs --------------------------------------------------------------------------


def test_the_readme_stays_under_15_kb():
    assert (ROOT / "README.md").stat().st_size < 15_000


_FENCE = re.compile(r"^```.*?^```", re.DOTALL | re.MULTILINE)
_LINK = re.compile(r"\[[^\]]*\]\(\s*<?([^)\s>]+)>?(?:\s+\"[^\"]*\")?\s*\)")
_SCHEME = re.compile(r"^[a-zA-Z][a-zA-Z0-9+.-]*:")


def _relative_links(path: Path) -> list[str]:
    text = _FENCE.sub("", path.read_text(encoding="utf-8"))
    return [
        target
        for target in _LINK.findall(text)
        if not _SCHEME.match(target) and not target.startswith("#")
    ]


def test_every_relative_link_in_the_readme_and_docs_points_to_a_file():
    documents = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]
    broken = []
    checked = 0
    for document in documents:
        for target in _relative_links(document):
            checked += 1
            if not (document.parent / target.split("#")[0]).exists():
                broken.append(f"{document.relative_to(ROOT)}: {target}")
    assert checked, "no relative links found: the link pattern is broken"
    assert not broken, "\n".join(broken)


def test_the_readme_links_every_document_in_docs():
    linked = {
        (ROOT / target.split("#")[0]).resolve() for target in _relative_links(ROOT / "README.md")
    }
    unlinked = [
        str(path.relative_to(ROOT))
        for path in sorted((ROOT / "docs").glob("*.md"))
        if path.resolve() not in linked
    ]
    assert not unlinked, f"README.md does not link {unlinked}"
