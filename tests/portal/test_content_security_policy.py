"""Every page carries a Content-Security-Policy with nothing inline allowed, and no template
holds an inline script, event handler or style attribute that it would block."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from django.conf import settings
from django.urls import reverse

pytestmark = pytest.mark.django_db

INLINE = [
    # <script> without src (a type="application/json" data block is not executed)
    re.compile(r"<script(?![^>]*\bsrc=)(?![^>]*application/json)[^>]*>", re.I),
    re.compile(r"\son[a-z]+\s*=", re.I),  # onclick=, onload=, …
    re.compile(r"\sstyle\s*=", re.I),
    re.compile(r"<style[\s>]", re.I),
    re.compile(r"javascript:", re.I),
]


def directives(header: str) -> dict[str, list[str]]:
    parts = (part.strip().split() for part in header.split(";") if part.strip())
    return {name: values for name, *values in parts}


@pytest.mark.parametrize("url_name", ["home", "account_login", "account_signup", "healthz"])
def test_pages_carry_a_policy_that_allows_nothing_inline(client, url_name):
    response = client.get(reverse(url_name))

    policy = directives(response["Content-Security-Policy"])
    assert policy["default-src"] == ["'self'"]
    assert policy["script-src"] == ["'self'"]
    assert policy["style-src"] == ["'self'"]
    assert policy["object-src"] == ["'none'"]
    assert policy["frame-ancestors"] == ["'none'"]
    assert not any("unsafe" in value for values in policy.values() for value in values)


def test_signed_in_pages_carry_the_policy_too(client, alice):
    client.force_login(alice)

    assert "script-src 'self'" in client.get("/")["Content-Security-Policy"]


def test_no_template_of_ours_has_inline_script_handlers_or_styles():
    roots = [Path(settings.BASE_DIR) / "templates"] + [
        path for path in Path(settings.BASE_DIR).glob("*/templates") if ".venv" not in path.parts
    ]
    offenders = []
    for root in roots:
        for template in root.rglob("*.html"):
            text = template.read_text(encoding="utf-8")
            for pattern in INLINE:
                for match in pattern.finditer(text):
                    offenders.append(f"{template.relative_to(settings.BASE_DIR)}: {match.group()}")

    assert offenders == []
    assert len(list(roots[0].rglob("*.html"))) > 5  # the scan saw the site's templates


HTMX_INCLUDE = "includes/htmx.html"


def _our_templates() -> list[Path]:
    roots = [Path(settings.BASE_DIR) / "templates"] + [
        path for path in Path(settings.BASE_DIR).glob("*/templates") if ".venv" not in path.parts
    ]
    return [template for root in roots for template in root.rglob("*.html")]


def test_every_template_loads_htmx_through_the_one_include_that_configures_it():
    """A page that loads htmx without its configuration gets an inline style element from htmx
    (the waiting-room display did): the script and its settings come in one include."""
    direct = [
        str(template.relative_to(settings.BASE_DIR))
        for template in _our_templates()
        if "htmx.min.js" in template.read_text(encoding="utf-8")
        and not template.as_posix().endswith("templates/" + HTMX_INCLUDE)
    ]
    users = [
        template
        for template in _our_templates()
        if f'include "{HTMX_INCLUDE}"' in template.read_text(encoding="utf-8")
    ]

    assert direct == []
    assert {template.name for template in users} >= {"base.html", "desk_display.html"}


def test_the_htmx_configuration_writes_no_inline_style_and_evaluates_nothing():
    html = (Path(settings.BASE_DIR) / "templates" / HTMX_INCLUDE).read_text(encoding="utf-8")
    config = json.loads(re.search(r"name=\"htmx-config\" content='([^']*)'", html).group(1))

    assert config["includeIndicatorStyles"] is False
    # Settling copies these attributes with setAttribute: a "style" there is an inline style.
    assert "style" not in config["attributesToSettle"]
    assert config["allowEval"] is False
    assert config["allowScriptTags"] is False
