"""Every URL the site answers, as a concrete path, from the URL resolver itself: a route added
tomorrow is in the list without anyone remembering to add it."""

from __future__ import annotations

import re

from django.urls import URLResolver, get_resolver, resolve

SAMPLES = {
    # converter or group name → a value that matches it
    "int": "1",
    "slug": "x",
    "str": "x",
    "path": "x",
    "uuid": "00000000-0000-0000-0000-000000000000",
    "code": "ABCD1234",
    "key": "abc",
    "uidb36": "1",
    "app_label": "auth",
    "url": "x",
    "rest": "x",
}


def _walk(patterns, prefix: str = ""):
    for pattern in patterns:
        if isinstance(pattern, URLResolver):
            yield from _walk(pattern.url_patterns, prefix + str(pattern.pattern))
        else:
            yield prefix + str(pattern.pattern), pattern


def _concrete(route: str) -> str:
    route = re.sub(r"\(\?P<(\w+)>[^)]*\)", lambda m: SAMPLES[m.group(1)], route)
    route = re.sub(r"<(?:(\w+):)?(\w+)>", lambda m: SAMPLES[m.group(1) or "str"], route)
    route = route.replace("^", "").replace("$", "").replace("\\", "")
    return "/" + route


def site_paths() -> list[str]:
    """One concrete path per URL pattern (the admin's catch-all included)."""
    paths = []
    for route, _pattern in _walk(get_resolver().url_patterns):
        path = _concrete(route)
        resolve(path)  # raises if the sample does not fit its pattern
        paths.append(path)
    return sorted(set(paths))
