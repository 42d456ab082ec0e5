"""Every endpoint of the site, read from the URL resolver and the WebSocket router, so that a
new endpoint shows up here without anybody listing it."""

from __future__ import annotations

from dataclasses import dataclass

from django.urls import URLPattern, URLResolver, get_resolver

from portal.routing import websocket_urlpatterns


@dataclass(frozen=True)
class Route:
    name: str  # "namespace:name" when namespaced; the pattern text when unnamed
    pattern: str  # the whole path pattern, e.g. "me/patients/<uuid:public_id>/"
    kwargs: tuple[str, ...]  # the path parameters, in order
    module: str  # the view's module, e.g. "records.views"


def _walk(patterns, prefix: str = "", namespace: str = "", kwargs: tuple[str, ...] = ()):
    for entry in patterns:
        text = str(entry.pattern)
        found = tuple(entry.pattern.regex.groupindex)
        if isinstance(entry, URLResolver):
            inner = namespace
            if entry.namespace:
                inner = f"{namespace}:{entry.namespace}" if namespace else entry.namespace
            yield from _walk(entry.url_patterns, prefix + text, inner, kwargs + found)
        elif isinstance(entry, URLPattern):
            name = entry.name or (prefix + text)
            if namespace and entry.name:
                name = f"{namespace}:{entry.name}"
            callback = entry.callback
            module = getattr(callback, "__module__", "")
            view_class = getattr(callback, "view_class", None)
            if view_class is not None:
                module = view_class.__module__
            yield Route(name=name, pattern=prefix + text, kwargs=kwargs + found, module=module)


def http_routes() -> list[Route]:
    routes: dict[str, Route] = {}
    for route in _walk(get_resolver().url_patterns):
        # The first pattern of a name is the one reverse() gives; later ones are aliases.
        routes.setdefault(route.name, route)
    return list(routes.values())


def websocket_routes() -> list[Route]:
    return [
        Route(
            name=f"ws:{entry.pattern}",
            pattern=str(entry.pattern),
            kwargs=tuple(entry.pattern.regex.groupindex),
            module=getattr(entry.callback, "__module__", ""),
        )
        for entry in websocket_urlpatterns
    ]
