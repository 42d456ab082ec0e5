"""Sort, filter, search and page parameters of every list and search page, fuzzed: never a
5xx. No list page takes a sort key: an unknown `sort`/`order`/`o` parameter is ignored and
the page keeps its own order (the same answer as without it); a filter value that does not
validate is refused with the form's message on the page, never a server error."""

from __future__ import annotations

import pytest
from django.test import Client
from django.urls import reverse
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.security.matrix import body_of
from tests.security.world import build_world

pytestmark = pytest.mark.django_db

FUZZ = settings(
    max_examples=40,
    derandomize=True,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
# Anything a URL can carry, weighted towards what breaks parsers and SQL.
VALUES = st.one_of(
    st.text(max_size=120),
    st.sampled_from(
        [
            "",
            "'",
            "' OR 1=1 --",
            "name; DROP TABLE appointments_slot",
            "-start",
            "slot__start",
            "__class__",
            "%",
            "_",
            "\\",
            "9" * 40,
            "-1",
            "0",
            "2026-02-30",
            "99999-01-01",
            "0001-01-01",
            "NaN",
            "1e309",
            "\ud7ff",
            "皮肤科",
            "<script>",
        ]
    ),
    st.integers(min_value=-(2**70), max_value=2**70).map(str),
)
PARAMS = st.dictionaries(
    st.sampled_from(
        [
            "q",
            "date",
            "part",
            "mode",
            "district",
            "title",
            "kind",
            "page",
            "sort",
            "order",
            "o",
            "weekday",
            "slot",
            "code",
        ]
    ),
    VALUES,
    max_size=5,
)


@pytest.fixture
def site(db):
    world = build_world()
    x = world.objects["hospital"].slug
    clients = {}
    for role in ("anonymous", "patient_a", "admin_x", "desk_x"):
        client = Client()
        if world.users[role] is not None:
            client.force_login(world.users[role])
        clients[role] = client
    pages = [
        ("anonymous", reverse("search")),
        ("anonymous", reverse("hospital_list")),
        ("anonymous", reverse("doctor_detail", args=[world.objects["doctor"].pk])),
        ("patient_a", reverse("appointment_list")),
        ("patient_a", reverse("notification_list")),
        ("patient_a", reverse("patient_list")),
        ("admin_x", reverse("console_doctors", args=[x])),
        ("admin_x", reverse("console_closures", args=[x])),
        ("admin_x", reverse("console_rota", args=[x, world.objects["doctor"].pk])),
        ("admin_x", reverse("console_closure_new", args=[x])),
        ("admin_x", reverse("console_day", args=[x, world.objects["day"]])),
        ("desk_x", reverse("desk")),
    ]
    return clients, pages


def _strip_echo(body: str, params: dict) -> str:
    for value in params.values():
        body = body.replace(value, "")
    return body


def test_fuzzed_parameters_never_make_a_server_error(site):
    clients, pages = site

    @FUZZ
    @given(params=PARAMS, which=st.integers(min_value=0, max_value=len(pages) - 1))
    def check(params, which):
        role, page = pages[which]
        clean = {k: v.replace("\x00", "") for k, v in params.items()}
        response = clients[role].get(page, clean)
        assert response.status_code < 500, (page, clean)
        assert response.status_code in (200, 302, 400, 404), (page, clean)

    check()


def test_a_nul_character_in_a_search_is_refused_not_a_crash(site):
    clients, pages = site
    for role, page in pages:
        assert clients[role].get(page, {"q": "a\x00b", "code": "\x00"}).status_code < 500, page


@pytest.mark.parametrize("key", ["sort", "order", "o", "ordering"])
def test_an_unknown_sort_key_is_ignored_and_the_page_keeps_its_order(site, key):
    clients, pages = site
    for role, page in pages:
        plain = clients[role].get(page)
        sorted_ = clients[role].get(page, {key: "-patient__id_number_encrypted"})
        assert sorted_.status_code == plain.status_code == 200, page
        # Same rows in the same order: the key only comes back in the page's own links.
        assert _strip_echo(body_of(sorted_), {key: "-patient__id_number_encrypted"}).count(
            "<tr"
        ) == body_of(plain).count("<tr"), page
