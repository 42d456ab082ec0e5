"""Every form and JSON endpoint of the site fed malformed, oversized (10 KB+), wrong-type and
negative values: never a server error.

The endpoints are the permission matrix's (the URL resolver × POLICY, FHIR included); each is
asked as a role that reaches its view, signed in (second factor set up, password typed just
now), with its path parameters filled from the security world's real objects. The field
names are the ones its form actually has (tests/security/sweep.py says where they are read).
Hypothesis (derandomized) writes 4 explicit bodies and 21 generated ones per endpoint; every
request is rolled back, so each meets the same world.

A 500 counts however it shows: an exception the view let through (the test client re-raises
it: DEBUG is off here, as in production, and its plain 500 page hides nothing from us), a
status of 500 or more, or an ERROR logged while answering.
"""

from __future__ import annotations

import json
import logging
import traceback
import types
from urllib.parse import urlsplit

import pytest
from django.conf import settings
from django.http import HttpResponse
from django.test import Client, override_settings
from django.urls import path, resolve
from django.utils import translation
from hypothesis import HealthCheck, Phase, example, given
from hypothesis import settings as hypothesis_settings

from tests.security.matrix import body_of, client_for, undone, url_for, value_of
from tests.security.policy import OK, Rule, roles
from tests.security.routes import Route
from tests.security.sweep import (
    CATEGORIES,
    GENERIC_FIELDS,
    GENERIC_PARAMS,
    HEADERS,
    ErrorLog,
    Fields,
    Target,
    explicit_forms,
    explicit_json,
    explicit_queries,
    fhir_search_params,
    fields_in_source,
    form_strategy,
    forms_on_page,
    json_strategy,
    query_strategy,
    targets,
)

pytestmark = pytest.mark.django_db

EXAMPLES = 25
SWEEP = hypothesis_settings(
    max_examples=EXAMPLES - len(CATEGORIES),  # the explicit examples count towards the 25
    derandomize=True,
    deadline=None,
    database=None,
    phases=(Phase.explicit, Phase.generate),
    suppress_health_check=list(HealthCheck),
)
TARGETS = targets()


@pytest.fixture(scope="module")
def site(shared_world):
    """What the site's own pages show each sweeping role: the POST forms on every page it may
    open (credited to the route each form posts to) and which GET endpoints answer JSON."""
    world = shared_world
    forms: dict[tuple[str, str], Fields] = {}
    json_routes: set[str] = set()
    for role in sorted({target.role for target in TARGETS}):
        client = client_for(world, role, fresh=True)
        for target in TARGETS:
            if target.method != "GET" or target.rule.get[role].label != "200":
                continue
            url = url_for(target.route, target.rule, world)
            response = undone(lambda url=url, client=client: client.get(url))
            if response.status_code != 200:
                continue
            if "json" in response.get("Content-Type", ""):
                if target.role == role:
                    json_routes.add(target.name)
                continue
            if "html" not in response.get("Content-Type", ""):
                continue
            for name, found in forms_on_page(url, body_of(response)):
                merged = forms.setdefault((name, role), Fields())
                for field, values in found.values.items():
                    for value in values or {None}:
                        merged.add(field, value)
                merged.files |= found.files
    capability = json.loads(client_for(world, "anonymous").get("/fhir/metadata").content)
    return {"forms": forms, "json": json_routes, "fhir": fhir_search_params(capability)}


@pytest.fixture(scope="module")
def tally():
    counts: dict[str, int] = {}
    yield counts
    print(f"\nmalformed-input sweep: {sum(counts.values())} requests to {len(counts)} endpoints")


def _callback(url: str):
    return resolve(urlsplit(url).path).func


def _fields_of(target, url, site, world) -> Fields:
    fields = Fields()
    page = site["forms"].get((target.name, target.role)) or Fields()
    source, _params = fields_in_source(_callback(url))
    for found in (page, source):
        for name, values in found.values.items():
            for value in values or {None}:
                fields.add(name, value)
        fields.files |= found.files
    for name, text in target.rule.form.items():
        fields.add(name, str(value_of(world, text)))
    for name in GENERIC_FIELDS:
        fields.add(name)
    return fields


def _params_of(target, url, site, world) -> tuple[set[str], dict[str, set[str]]]:
    _fields, names = fields_in_source(_callback(url))
    names |= set(GENERIC_PARAMS) | set(target.rule.query)
    if target.route.pattern.startswith("fhir/"):
        resource = target.route.pattern.removeprefix("fhir/").split("/")[0]
        names |= site["fhir"].get(resource, set())
    real = {name: {str(value_of(world, text))} for name, text in target.rule.query.items()}
    return names, real


def _ask(client, target, url, data, failures, errors):
    """One request, rolled back; whatever a 500 looks like is written to `failures`."""
    before = len(errors.records)
    try:
        response = undone(lambda: _send(client, target, url, data))
    except Exception as error:  # the view let it through: exactly what the sweep looks for
        failures.append(f"{target}: {type(error).__name__}: {str(error)[:200]} ← {_short(data)}")
        failures.append("".join(traceback.format_exception(error, limit=-4))[-1500:])
        return
    if response.status_code >= 500:
        failures.append(f"{target}: {response.status_code} ← {_short(data)}")
    for record in errors.records[before:]:
        failures.append(f"{target}: logged {record.name}: {record.getMessage()[:200]}")


def _send(client, target, url, data):
    if target.method == "GET":
        query, headers = data
        return client.get(url, query, **headers)
    if target.json_body:
        (body, content_type), headers = data
        return client.post(url, body, content_type=content_type, **headers)
    return client.post(url, data)


def _short(data) -> str:
    text = repr(data)
    return text if len(text) < 300 else text[:300] + f"… ({len(text)} characters)"


@pytest.mark.parametrize("target", TARGETS, ids=str)
def test_hostile_input_never_makes_a_server_error(target, shared_world, site, tally):
    world = shared_world
    if target.method == "GET" and target.name not in site["json"]:
        pytest.skip("not a JSON endpoint: its query string is swept by the list-page fuzz")
    assert not settings.DEBUG  # as in production: a 500 is the plain page, not a debug dump
    url = url_for(target.route, target.rule, world)
    client = client_for(world, target.role, fresh=True)
    failures: list[str] = []
    errors = ErrorLog()
    logging.getLogger().addHandler(errors)
    requests = 0

    if target.method == "GET":
        names, real = _params_of(target, url, site, world)
        strategy = query_strategy(names, real).flatmap(
            lambda query: HEADERS.map(lambda headers: (query, headers))
        )
        explicit = [(query, {}) for query in explicit_queries(names)]
    elif target.json_body:
        base = target.rule.payload(world) if target.rule.payload else {}
        strategy = json_strategy(base).flatmap(
            lambda body: HEADERS.map(lambda headers: (body, headers))
        )
        explicit = [(body, {}) for body in explicit_json(base)]
    else:
        fields = _fields_of(target, url, site, world)
        strategy = form_strategy(fields)
        explicit = explicit_forms(fields)

    def check(data):
        nonlocal requests
        requests += 1
        _ask(client, target, url, data, failures, errors)

    for data in explicit:
        check = example(data)(check)
    try:
        # A request leaves its language active (set_language is swept too): give it back.
        with translation.override(translation.get_language()):
            SWEEP(given(strategy)(check))()
    finally:
        logging.getLogger().removeHandler(errors)
    tally[str(target)] = requests
    print(f"\n{target}: {requests} requests")
    assert 0 < requests <= EXAMPLES
    if failures:
        pytest.fail("\n".join(failures), pytrace=False)


# --- The sweep's own check: a server error is seen however a view hides it ----------------


def _raises(request):
    raise ValueError("a bug")


def _answers_500(request):
    return HttpResponse("Something went wrong.", status=500)


def _logs_and_answers_400(request):
    try:
        int("²")
    except ValueError:
        logging.getLogger("portal.views").exception("swallowed")
    return HttpResponse(status=400)


BROKEN = types.ModuleType("broken_urls")
BROKEN.urlpatterns = [
    path("raises/", _raises),
    path("answers-500/", _answers_500),
    path("logs/", _logs_and_answers_400),
]


@override_settings(ROOT_URLCONF=BROKEN)
@pytest.mark.parametrize("url", ["/raises/", "/answers-500/", "/logs/"])
def test_the_sweep_sees_a_server_error_however_the_view_hides_it(url):
    target = Target("broken", "POST", "anonymous", Route(url, url[1:], (), ""), Rule(roles(OK)))
    failures: list[str] = []
    errors = ErrorLog()
    logging.getLogger().addHandler(errors)
    try:
        _ask(Client(), target, url, {"token": "²"}, failures, errors)
    finally:
        logging.getLogger().removeHandler(errors)

    assert failures, f"{url}: the sweep saw nothing"
