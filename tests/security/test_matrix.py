"""The permission matrix: every endpoint × ten roles × an object of somebody else.

Expected answers come from ONE table (tests/security/policy.py); an endpoint missing from it
fails here. Every answer, 403/404 pages and redirects included, is searched for the canary
strings seeded in patient A's and hospital X's objects that the role may not see."""

from __future__ import annotations

import json

import pytest

from tests.security.matrix import (
    body_of,
    client_for,
    leaks,
    matches,
    observed,
    snapshot,
    undone,
    url_for,
    value_of,
)
from tests.security.policy import (
    GROUPS,
    POLICY,
    WEBSOCKETS,
    group_of,
)
from tests.security.routes import http_routes, websocket_routes
from tests.security.world import CLINICAL, PERSON, ROLES, canary

pytestmark = pytest.mark.django_db

ROUTES = {route.name: route for route in http_routes()}


def test_every_endpoint_has_an_entry_in_the_policy_table():
    missing = sorted(
        name for name, route in ROUTES.items() if name not in POLICY and group_of(route) is None
    )
    stale = sorted(set(POLICY) - set(ROUTES))
    ws_missing = sorted({r.name for r in websocket_routes()} - set(WEBSOCKETS))
    assert missing == [], f"endpoints missing from tests/security/policy.py POLICY: {missing}"
    assert stale == [], f"POLICY names endpoints that no longer exist: {stale}"
    assert ws_missing == [], f"WebSocket routes missing from WEBSOCKETS: {ws_missing}"


def test_the_matrix_covers_every_endpoint_and_role(record_property):
    http = len(POLICY) + sum(1 for r in ROUTES.values() if group_of(r) is not None)
    cells = (len(POLICY) * 2 + http - len(POLICY)) * len(ROLES)
    cells += len(WEBSOCKETS) * len(ROLES)
    record_property("endpoints", http + len(WEBSOCKETS))
    record_property("cells", cells)
    print(f"\npermission matrix: {http} HTTP + {len(WEBSOCKETS)} WebSocket endpoints × "
          f"{len(ROLES)} roles = {cells} requests")  # fmt: skip
    assert http >= len(POLICY) > 50


def _check(world, name, method, role, response, outcome, failures, reveals=frozenset()):
    if not matches(outcome, response):
        failures.append(f"{method} {name} as {role}: expected {outcome}, got {observed(response)}")
    found = leaks(world, role, body_of(response), reveals)
    if found:
        failures.append(f"{method} {name} as {role} ({response.status_code}) leaks {found}")


@pytest.mark.parametrize("name", sorted(POLICY))
def test_each_role_gets_what_the_policy_says_and_no_canary_it_may_not_see(name, shared_world):
    world = shared_world
    rule = POLICY[name]
    url = url_for(ROUTES[name], rule, world)
    query = {key: value_of(world, text) for key, text in rule.query.items()}
    form = {key: value_of(world, text) for key, text in rule.form.items()}
    clients = {role: client_for(world, role, fresh=rule.fresh) for role in ROLES}
    failures: list[str] = []

    statuses = {}
    for role in ROLES:
        response = undone(lambda role=role: clients[role].get(url, query))
        statuses[role] = response.status_code
        _check(world, name, "GET", role, response, rule.get[role], failures, rule.reveals)

    # Refused POSTs must change nothing at all; the others are rolled back after each role.
    def post(role):
        if rule.payload is not None:  # an API's JSON body (FHIR) instead of a form
            body = json.dumps(rule.payload(world))
            return clients[role].post(url, body, content_type="application/fhir+json")
        return clients[role].post(url, form)

    before = snapshot()
    for role in ROLES:
        if rule.post is not None:
            outcome = rule.post[role]
            response = post(role) if outcome.refusal else undone(lambda role=role: post(role))
            _check(world, name, "POST", role, response, outcome, failures, rule.reveals)
        else:
            # Not a form: a POST is refused or answered like the GET, and changes nothing.
            response = clients[role].post(url, {})
            if response.status_code not in (302, 403, 404, 405, statuses[role]):
                failures.append(f"POST {name} as {role}: {response.status_code}")
            found = leaks(world, role, body_of(response), rule.reveals)
            if found:
                failures.append(f"POST {name} as {role} leaks {found}")
    if before != snapshot():
        failures.append(f"POST {name}: a refused request changed the database")

    assert failures == []


@pytest.mark.parametrize("group", sorted(GROUPS))
def test_third_party_pages_answer_each_role_without_leaking(group, shared_world):
    world = shared_world
    rule = GROUPS[group]
    routes = [route for route in ROUTES.values() if group_of(route) == group]
    assert routes
    failures: list[str] = []
    for role in ROLES:
        client = client_for(world, role)
        for route in routes:
            url = url_for(route, None, world)
            response = client.get(url)
            _check(world, route.name, "GET", role, response, rule.get[role], failures)
    assert failures == []


# The other side of the canary check: the roles entitled to a page do get its content, so a
# page that silently stopped showing the record could not make the leak check pass vacuously.
SEEN: dict[tuple[str, str], list[tuple[str, str]]] = {
    ("record_patient", "patient_a"): [(CLINICAL, "Diagnosis"), (CLINICAL, "FileTitle")],
    ("record_note", "patient_a"): [(CLINICAL, "Addendum")],
    ("record_export", "patient_a"): [(CLINICAL, "Diagnosis"), (CLINICAL, "Allergy")],
    ("staff_record", "doctor_care"): [(CLINICAL, "Diagnosis"), (CLINICAL, "ReferralReason")],
    ("staff_attachment_download", "doctor_care"): [(CLINICAL, "FileName")],
    ("doctor_visit", "doctor_care"): [(CLINICAL, "SecondReason"), (CLINICAL, "Problem")],
    ("fhir_patient_everything", "doctor_care"): [(CLINICAL, "Diagnosis"), (CLINICAL, "Allergy")],
    ("desk_queue", "desk_x"): [(PERSON, "SelfName")],
    ("access_tokens", "patient_a"): [(PERSON, "TokenName")],
}


@pytest.mark.parametrize(("name", "role"), sorted(SEEN))
def test_the_entitled_roles_see_what_the_matrix_guards(name, role, shared_world):
    world = shared_world
    rule = POLICY[name]
    response = client_for(world, role, fresh=rule.fresh).get(url_for(ROUTES[name], rule, world))
    body = body_of(response)
    assert response.status_code == 200
    assert [what for kind, what in SEEN[name, role] if canary(kind, what) not in body] == []
