"""The machinery of the malformed-input sweep (test_malformed_input.py): which endpoints take
input, which role reaches each, the field names each one's form actually has, and the
Hypothesis strategies that fill them with malformed, oversized, wrong-type and negative
values.

Everything is derived, nothing listed by hand: the endpoints are the matrix's route list
(the URL resolver × POLICY), the reaching role is read from POLICY, and the field names come
from three places — the forms the site's own pages render (every GET page a sweeping role may
open is read, and each `<form method="post">` is credited to the route its action resolves
to), the view's source (`request.POST.get("…")`, the Form classes it names and their fields),
and, for FHIR, the search parameters its CapabilityStatement declares.
"""

from __future__ import annotations

import inspect
import json
import logging
import re
from dataclasses import dataclass, field
from html.parser import HTMLParser
from typing import Any
from urllib.parse import urljoin, urlsplit

from django import forms
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import Resolver404, resolve
from hypothesis import strategies as st

from tests.security.policy import (
    CREATED,
    DONE,
    NOT_ALLOWED,
    OK,
    POLICY,
    REDIRECT,
    REFUSED_200,
    REFUSED_302,
    Rule,
)
from tests.security.routes import Route, http_routes
from tests.security.world import ROLES

# Outcomes that mean the role's request reaches the view's own handling of its input.
REACHING = (OK, DONE, REDIRECT, CREATED, REFUSED_200, REFUSED_302)
# Signed-in roles first: an anonymous POST stops at the sign-in redirect.
PREFERENCE = (*(role for role in ROLES if role != "anonymous"), "anonymous")
# Names a form might take that its page does not show (a forged request adds them anyway).
GENERIC_FIELDS = ("id", "pk", "token", "action", "code", "patient", "slot", "next", "page")
GENERIC_PARAMS = ("id", "page", "q", "date", "_count", "_cursor", "_sort", "_format")

# --- Values ----------------------------------------------------------------------------

OVERSIZED = ["9" * 10_240, "x" * 10_240, "皮" * 4_000, "-" + "1" * 10_240]
NEGATIVE = ["-1", "-0", "-2147483649", "-9223372036854775809", "-0.5", "-1e309"]
WRONG_TYPE = [
    "abc",
    "1.5",
    "1e309",
    "NaN",
    "inf",
    "true",
    "null",
    "[]",
    "{}",
    "0x10",
    " 1 ",
    "²",  # str.isdigit() says yes, int() says no
    "１２",  # full-width digits: int() takes them, a regex \d too
    "𝟙",
    "2026-02-30",
    "2026-13-01T25:61",
    "9999-12-31",
    "ge9999-12-31",
    "le9999-12-31T23:59:59",
    "0001-01-01",
    "lt0001-01-01T00:00:00+14:00",
    "not-a-uuid",
    "00000000-0000-0000-0000-000000000000",
    "Patient/",
    "Slot/²",
    "Practitioner/²",
    "²-1",
]
MALFORMED = ["", " ", "\x00", "a\x00b", "' OR 1=1 --", "%", "\\", "<script>", "\u202e", "\ufeff"]
NASTY = OVERSIZED + NEGATIVE + WRONG_TYPE + MALFORMED

TEXT = st.text(alphabet=st.characters(blacklist_categories=("Cs",)), max_size=40)
NUMBERS = st.integers(min_value=-(2**70), max_value=2**70).map(str)
NASTY_VALUES = st.one_of(st.sampled_from(NASTY), TEXT, NUMBERS)
# One value per category, for the explicit examples every endpoint gets.
CATEGORIES = {"oversized": "9" * 10_240, "negative": "-1", "wrong type": "abc", "digit": "²"}

JSON_SCALARS = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(2**70), max_value=2**70),
    st.floats(),
    TEXT,
    st.sampled_from(NASTY),
)
JSON_VALUES = st.recursive(
    JSON_SCALARS,
    lambda children: st.lists(children, max_size=3) | st.dictionaries(TEXT, children, max_size=3),
    max_leaves=6,
)
RAW_BODIES = st.one_of(
    st.binary(max_size=64),
    st.sampled_from(
        [
            b"",
            b"{",
            b"[" * 10_240,
            b'{"resourceType": "Appointment"' + b" " * 70_000 + b"}",  # past the body limit
            "\ufeff{}".encode(),
            b"\xff\xfe{}",
        ]
    ),
)
CONTENT_TYPES = st.sampled_from(
    ["application/fhir+json"] * 4 + ["application/json", "text/plain", "application/xml"]
)


# --- Discovery ----------------------------------------------------------------------------


@dataclass
class Fields:
    """The inputs of one endpoint: names, the values its pages offer, and file inputs."""

    values: dict[str, set[str]] = field(default_factory=dict)
    files: set[str] = field(default_factory=set)

    def add(self, name: str, value: str | None = None) -> None:
        if not name or name == "csrfmiddlewaretoken":
            return
        bucket = self.values.setdefault(name, set())
        if value is not None and len(value) < 200:
            bucket.add(value)


@dataclass(frozen=True)
class Target:
    """One endpoint the sweep feeds, as one role, by one method."""

    name: str
    method: str  # "POST" (a form or a JSON body) or "GET" (a JSON endpoint's query string)
    role: str
    route: Route
    rule: Rule

    @property
    def json_body(self) -> bool:
        return self.method == "POST" and (
            self.rule.payload is not None or self.route.pattern.startswith("fhir/")
        )

    def __str__(self) -> str:
        return f"{self.method} {self.name} as {self.role}"


class _FormParser(HTMLParser):
    """Every `<form method="post">` of a page: its action and its controls."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.forms: list[tuple[str, Fields]] = []
        self._current: Fields | None = None
        self._select: str | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        attr = {key: value or "" for key, value in attrs}
        if tag == "form":
            if attr.get("method", "get").lower() == "post":
                self._current = Fields()
                self.forms.append((attr.get("hx-post") or attr.get("action", ""), self._current))
            return
        if self._current is None:
            return
        name = attr.get("name", "")
        if tag == "input":
            if attr.get("type", "").lower() == "file":
                self._current.files.add(name)
            elif attr.get("type", "").lower() in ("hidden", "radio", "checkbox", "submit"):
                self._current.add(name, attr.get("value", "on"))
            else:
                self._current.add(name, attr.get("value") or None)
        elif tag in ("textarea", "button"):
            self._current.add(name, attr.get("value") if tag == "button" else None)
        elif tag == "select":
            self._select = name
            self._current.add(name)
        elif tag == "option" and self._select:
            self._current.add(self._select, attr.get("value"))

    def handle_endtag(self, tag: str) -> None:
        if tag == "form":
            self._current = None
        elif tag == "select":
            self._select = None


def forms_on_page(page_url: str, html: str) -> list[tuple[str, Fields]]:
    """(route name, fields) of every POST form on a page, by where its action resolves."""
    parser = _FormParser()
    parser.feed(html)
    found = []
    for action, fields in parser.forms:
        path = urlsplit(urljoin("http://testserver" + page_url, action)).path
        try:
            match = resolve(path)
        except Resolver404:
            continue
        found.append((match.view_name, fields))
    return found


_POST_KEY = re.compile(r"request\.POST(?:\.get(?:list)?\(|\[)\s*[\"']([\w\-]+)[\"']")
_POST_COMPARED = re.compile(
    r"request\.POST\.get\(\s*[\"'](\w+)[\"'][^)]*\)\s*(?:==|!=)\s*[\"']([^\"']+)[\"']"
)
_GET_KEY = re.compile(
    r"(?:request\.GET(?:\.get(?:list)?\(|\[)|\(\s*request\s*,)\s*[\"']([\w\-]+)[\"']"
)
_FORM_CLASS = re.compile(r"\b([A-Z]\w*Form)\b")


def _view_functions(callback: Any) -> list[Any]:
    """The view and what it wraps: the `__wrapped__` chain, and the functions a decorator
    closed over (a decorator that does not use functools.wraps still holds its view)."""
    seen: list[Any] = []
    pending = [getattr(callback, "view_class", None) or callback]
    while pending and len(seen) < 10:
        function = pending.pop()
        if function in seen:
            continue
        seen.append(function)
        if getattr(function, "__wrapped__", None) is not None:
            pending.append(function.__wrapped__)
        for cell in getattr(function, "__closure__", None) or ():
            try:
                content = cell.cell_contents
            except ValueError:  # an empty cell
                continue
            if inspect.isfunction(content):
                pending.append(content)
    return seen


def _view_source(callback: Any) -> tuple[str, dict]:
    sources = []
    namespace: dict = {}
    for function in _view_functions(callback):
        try:
            sources.append(inspect.getsource(function))
        except (OSError, TypeError):
            continue
        module = inspect.getmodule(function)
        if module is not None:
            namespace = {**vars(module), **namespace}
    return "\n".join(sources), namespace


def fields_in_source(callback: Any) -> tuple[Fields, set[str]]:
    """The POST fields the view reads (and the values it compares them with), the fields of
    the Form classes it names; and the query parameters it reads."""
    fields = Fields()
    source, module = _view_source(callback)
    for name in _POST_KEY.findall(source):
        fields.add(name)
    for name, value in _POST_COMPARED.findall(source):
        fields.add(name, value)
    for class_name in set(_FORM_CLASS.findall(source)):
        form_class = module.get(class_name)
        if not (isinstance(form_class, type) and issubclass(form_class, forms.BaseForm)):
            continue
        for name, form_field in form_class.base_fields.items():
            if isinstance(form_field, forms.FileField):
                fields.files.add(name)
                continue
            fields.add(name)
            choices = getattr(form_field, "choices", None)
            if isinstance(choices, list | tuple):
                for value, _label in choices:
                    if not isinstance(_label, list | tuple):
                        fields.add(name, str(value))
    return fields, set(_GET_KEY.findall(source))


def fhir_search_params(capability: dict) -> dict[str, set[str]]:
    """Resource type → the search parameters the CapabilityStatement declares."""
    params: dict[str, set[str]] = {}
    for rest in capability.get("rest", []):
        for resource in rest.get("resource", []):
            names = {p["name"] for p in resource.get("searchParam", [])}
            params.setdefault(resource["type"], set()).update(names)
    return params


def reaching_role(outcomes: dict) -> str:
    for role in PREFERENCE:
        if outcomes[role] in REACHING:
            return role
    return PREFERENCE[0]  # nobody gets past the view's check: a signed-in account still tries


def takes_post(rule: Rule) -> bool:
    """The endpoint handles a POST: some role's POST reaches its view, or nobody's does and
    nobody is told the method is wrong either (a view that refuses every object it is asked
    for, FHIR's catch-all). A page whose own users get 405 takes no form."""
    if rule.post is None:
        return False
    outcomes = set(rule.post.values())
    return bool(outcomes & set(REACHING)) or NOT_ALLOWED not in outcomes


def targets() -> list[Target]:
    """Every endpoint of the matrix that takes a POST, as a role that reaches it; every one
    whose GET answers some role (the JSON ones are picked when the page is read)."""
    routes = {route.name: route for route in http_routes()}
    found = []
    for name in sorted(POLICY):
        rule = POLICY[name]
        route = routes.get(name)
        if route is None:
            continue  # a stale entry: the matrix's own test says so
        if takes_post(rule):
            found.append(Target(name, "POST", reaching_role(rule.post), route, rule))
        if any(outcome is OK for outcome in rule.get.values()):
            found.append(Target(name, "GET", reaching_role(rule.get), route, rule))
    return found


# --- Strategies ---------------------------------------------------------------------------


def value_strategy(real: set[str]) -> st.SearchStrategy:
    if real:
        return st.one_of(st.sampled_from(sorted(real)), NASTY_VALUES)
    return NASTY_VALUES


def form_strategy(fields: Fields) -> st.SearchStrategy[dict]:
    """A form body: any subset of the fields, each a real value or a hostile one, sometimes
    repeated; file inputs get a file with a hostile name and content."""
    optional: dict[str, st.SearchStrategy] = {}
    for name, real in fields.values.items():
        one = value_strategy(real)
        optional[name] = st.one_of(one, st.lists(one, min_size=2, max_size=3))
    for name in fields.files:
        optional[name] = st.builds(
            SimpleUploadedFile,
            # (An empty file name is not sent: Django's parser drops such a part.)
            st.sampled_from(["a.pdf", "../../etc/passwd", "x" * 300 + ".pdf", "a.exe", "²"]),
            st.one_of(st.binary(max_size=64), st.just(b"%PDF-1.4\n" + b"\x00" * 10_240)),
            st.sampled_from(["application/pdf", "image/png", "text/html", ""]),
        )
    return st.fixed_dictionaries({}, optional=optional)


def explicit_forms(fields: Fields) -> list[dict]:
    """One body per category: every field that value, except that a field the page offers
    fixed choices for (an `action`, a button) keeps one of them, so the value reaches the
    branch that reads it."""
    examples = []
    for index, value in enumerate(CATEGORIES.values()):
        body: dict[str, Any] = {}
        for name, real in fields.values.items():
            choices = sorted(v for v in real if v and not v.lstrip("-").isdigit())
            is_switch = name in ("action", "op", "intent", "decision") or (
                choices and len(real) <= 4 and len(choices) == len(real)
            )
            body[name] = choices[index % len(choices)] if is_switch and choices else value
        examples.append(body)
    return examples


def json_strategy(base: dict) -> st.SearchStrategy[tuple[bytes, str]]:
    """(body, content type): the valid resource with some members replaced by hostile JSON,
    its references pointing at hostile ids, arbitrary JSON, or bytes that are not JSON."""
    keys = sorted(set(base) | {"resourceType", "status", "slot", "participant", "basedOn", "id"})
    references = st.fixed_dictionaries(
        {},
        optional={
            "slot": st.builds(lambda v: [{"reference": f"Slot/{v}"}], NASTY_VALUES),
            "participant": st.builds(
                lambda v: [{"actor": {"reference": f"Patient/{v}"}}], NASTY_VALUES
            ),
            "basedOn": st.builds(lambda v: [{"reference": f"ServiceRequest/{v}"}], NASTY_VALUES),
            "comment": st.sampled_from([*OVERSIZED, "", "\x00"]),
        },
    )
    mutated = st.builds(
        lambda over, refs: {**base, **refs, **over},
        st.dictionaries(st.sampled_from(keys), JSON_VALUES, max_size=3),
        references,
    ).map(lambda body: json.dumps(body).encode())
    arbitrary = JSON_VALUES.map(lambda value: json.dumps(value).encode())
    return st.tuples(st.one_of(mutated, mutated, arbitrary, RAW_BODIES), CONTENT_TYPES)


def query_strategy(names: set[str], real: dict[str, set[str]]) -> st.SearchStrategy[dict]:
    """A query string of one to three parameters: a search refuses the first bad one it
    reads, so a long query would test little more than that one."""
    return st.lists(
        st.sampled_from(sorted(names)).flatmap(
            lambda name: st.tuples(st.just(name), value_strategy(real.get(name, set())))
        ),
        min_size=1,
        max_size=3,
    ).map(_as_query)


def _as_query(pairs: list[tuple[str, str]]) -> dict[str, list[str]]:
    query: dict[str, list[str]] = {}
    for name, value in pairs:
        query.setdefault(name, []).append(value)
    return query


def explicit_queries(names: set[str]) -> list[dict]:
    """One parameter per category, taking the names in turn."""
    ordered = sorted(names)
    return [
        {ordered[index % len(ordered)]: value} for index, value in enumerate(CATEGORIES.values())
    ]


def explicit_json(base: dict) -> list[tuple[bytes, str]]:
    """One body per category: the valid resource with one member made hostile."""
    bodies = [
        {**base, "comment": CATEGORIES["oversized"]},
        {**base, "slot": [{"reference": "Slot/-1"}]},
        {**base, "participant": 5},
        {**base, "slot": [{"reference": "Slot/²"}], "status": ["booked"]},
    ]
    return [(json.dumps(body).encode(), "application/fhir+json") for body in bodies]


# Hostile headers now and then: a bad Authorization is a 401 before anything else is read.
HEADERS = st.one_of(
    st.just({}),
    st.just({}),
    st.just({}),
    st.fixed_dictionaries(
        {},
        optional={
            "HTTP_IDEMPOTENCY_KEY": NASTY_VALUES,
            "HTTP_AUTHORIZATION": st.one_of(
                st.sampled_from(NASTY), NASTY_VALUES.map("Bearer ".__add__)
            ),
        },
    ),
)


# --- Errors the answer's status would not show -----------------------------------------------


class ErrorLog(logging.Handler):
    """Collects ERROR records while the sweep runs: a view that catches an exception, logs
    it and answers 4xx has still met a bug. Django's security loggers (a too large body, too
    many fields) report refusals that are the right answer, not errors."""

    def __init__(self) -> None:
        super().__init__(level=logging.ERROR)
        self.records: list[logging.LogRecord] = []

    def emit(self, record: logging.LogRecord) -> None:
        if not record.name.startswith("django.security"):
            self.records.append(record)
