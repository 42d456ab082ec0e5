"""bench/http_rush.py's no-op page pair exists only where the bench turns it on."""

from __future__ import annotations

import pytest
from django.urls import NoReverseMatch, reverse

pytestmark = pytest.mark.django_db


def test_the_bench_pages_are_not_routed_unless_the_bench_turns_them_on(client, alice):
    client.force_login(alice)

    assert client.get("/bench/noop/").status_code == 404
    with pytest.raises(NoReverseMatch):
        reverse("bench_noop")
