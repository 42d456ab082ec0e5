"""The machinery of the permission matrix: fill a route's path parameters from the world, ask
as a role, and tell what came back (status, sign-in redirect, canaries in the answer)."""

from __future__ import annotations

import re
from typing import Any

from django.apps import apps
from django.db import transaction
from django.test import Client
from django.urls import reverse

from tests.conftest import sign_in_recently
from tests.security.policy import OBJECTS, Outcome, Rule
from tests.security.routes import Route
from tests.security.world import World

# Values for the path parameters of third-party routes: they name nothing of anybody.
NEUTRAL = {
    "key": "Mg:1tQxyz:unknownkey",
    "uidb36": "1z",
    "app_label": "records",
    "content_type_id": "1",
    "url": "records/patient/",
    "rest": "ImagingStudy/1",  # the FHIR catch-all: a resource type this server does not serve
}

# What a denied POST must leave alone: every row of these apps (the audit trail may grow:
# refusals are audited).
SNAPSHOT_APPS = (
    "accounts",
    "hospitals",
    "records",
    "appointments",
    "telemedicine",
    "notifications",
)


def resolve(world: World, path: str) -> Any:
    value: Any = world.objects
    first, *rest = path.split(".")
    value = world.objects[first]
    for attribute in rest:
        value = getattr(value, attribute)
    return value


def value_of(world: World, text: str) -> str:
    """An attribute path into the world's objects (`appointment.code`), or a literal."""
    if text.split(".")[0] in world.objects:
        return str(resolve(world, text))
    return text


def fill(route: Route, rule: Rule | None, world: World) -> dict[str, str]:
    kwargs = {}
    for name in route.kwargs:
        if rule is not None and name in rule.objects:
            kwargs[name] = str(resolve(world, rule.objects[name]))
        elif name == "object_id":
            kwargs[name] = str(world.objects["patient"].pk)
        elif name in NEUTRAL and (rule is None or name not in OBJECTS):
            kwargs[name] = NEUTRAL[name]
        else:
            assert name in OBJECTS, (
                f"{route.name}: no object for the path parameter {name!r}; name one in "
                "tests/security/policy.py OBJECTS or in the rule's objects="
            )
            kwargs[name] = str(resolve(world, OBJECTS[name]))
    return kwargs


def url_for(route: Route, rule: Rule | None, world: World) -> str:
    kwargs = fill(route, rule, world)
    if ":" in route.name or not route.name.startswith(("admin/", "^", "ws")):
        try:
            return reverse(route.name, kwargs=kwargs)
        except Exception:  # noqa: S110 - unnamed routes fall through to the pattern
            pass
    # An unnamed route: put the values into its pattern text.
    path = route.pattern
    for name, value in kwargs.items():
        for converter in ("path", "str", "int", "slug", "uuid"):
            path = path.replace(f"<{converter}:{name}>", value)
    # A regular-expression route (the admin's catch-all, FHIR's): its groups get the values.
    path = re.sub(r"\^?\(\?P<(\w+)>[^)]*\)\$?", lambda m: kwargs.get(m.group(1), ""), path)
    return "/" + path


def client_for(world: World, role: str, *, fresh: bool = False) -> Client:
    """A client signed in as the role; `fresh`: as if the password was typed just now, for
    pages behind a reauthentication (the record export)."""
    client = Client()
    user = world.users[role]
    if user is not None:
        if fresh:
            sign_in_recently(client, user)
        else:
            client.force_login(user)
    return client


def body_of(response) -> str:
    if getattr(response, "streaming", False):
        content = b"".join(response.streaming_content)
    else:
        content = response.content
    headers = "\n".join(f"{k}: {v}" for k, v in response.headers.items())
    return headers + "\n" + content.decode("utf-8", errors="replace")


def observed(response) -> str:
    status = response.status_code
    if status in (301, 302) and "/accounts/login/" in response.get("Location", ""):
        return "login"
    return str(status)


def matches(outcome: Outcome, response) -> bool:
    if outcome.login:
        return observed(response) == "login"
    if observed(response) == "login" and not outcome.login_ok:
        return False
    return response.status_code in outcome.statuses


def leaks(world: World, role: str, body: str, reveals: frozenset[str] = frozenset()) -> list[str]:
    return [value for value in world.forbidden_for(role, reveals) if value in body]


def undone(request):
    """Make one request and roll back whatever it wrote, so every role meets the same world."""
    with transaction.atomic():
        response = request()
        transaction.set_rollback(True)
    return response


def snapshot() -> dict[str, list]:
    rows = {}
    for app in SNAPSHOT_APPS:
        for model in apps.get_app_config(app).get_models():
            rows[model._meta.label] = list(model.objects.order_by("pk").values_list())
    return rows
