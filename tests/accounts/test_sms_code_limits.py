"""SMS codes cost money and must not be abused (issue 18 item 2): at most 5 texts to a number
and 20 code requests from an address an hour, alike for numbers with and without an account,
and no answer says whether a number has an account. Clocks move with time-machine."""

from __future__ import annotations

import datetime as dt
import re

import pytest
import time_machine
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from notifications import sms
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db

KNOWN = "+8613911112222"
UNKNOWN = "+8613911113333"  # same length, no account


@pytest.fixture(autouse=True)
def _empty_sms_outbox():
    sms.outbox.clear()
    yield
    sms.outbox.clear()


@pytest.fixture
def known(db):
    return UserFactory(phone=KNOWN, email=None)


def texts_to(phone: str) -> int:
    return sum(1 for message in sms.outbox if message.phone == phone)


def comparable(response, phone: str) -> tuple:
    """Status, target and page with per-request tokens and the typed number masked."""
    body = response.content.decode()
    body = re.sub(r'name="csrfmiddlewaretoken" value="[^"]+"', "csrf", body)
    for spelling in (phone, phone[3:], f"{phone[3:6]} {phone[6:10]} {phone[10:]}"):
        body = body.replace(spelling, "PHONE")
    return response.status_code, response.get("Location"), body


def request_code(phone: str, *, address: str = "127.0.0.1", follow: bool = False):
    return Client(REMOTE_ADDR=address).post(
        reverse("account_request_login_code"), {"phone": phone}, follow=follow
    )


def sign_up(phone: str, *, follow: bool = False):
    return Client().post(reverse("account_signup"), {"phone": phone}, follow=follow)


def test_asking_for_a_sign_in_code_reads_the_same_for_a_known_and_an_unknown_number(known):
    known_answer = comparable(request_code(KNOWN, follow=True), KNOWN)
    unknown_answer = comparable(request_code(UNKNOWN, follow=True), UNKNOWN)

    assert known_answer[0] == 200
    assert known_answer == unknown_answer
    assert texts_to(KNOWN) == 1
    assert texts_to(UNKNOWN) == 0  # nothing to say to a stranger: a text costs money


def test_signing_up_with_a_taken_number_reads_the_same_as_a_new_one(known):
    taken = comparable(sign_up(KNOWN, follow=True), KNOWN)
    new = comparable(sign_up(UNKNOWN, follow=True), UNKNOWN)

    assert taken[0] == 200
    assert taken == new
    # The owner of the taken number hears that someone tried; the new number gets its code.
    assert texts_to(KNOWN) == 1 and texts_to(UNKNOWN) == 1


def test_a_number_gets_at_most_five_codes_an_hour_with_or_without_an_account(known):
    with time_machine.travel(timezone.now(), tick=False) as clock:
        answers = {KNOWN: [], UNKNOWN: []}
        for _ in range(6):
            for phone in (KNOWN, UNKNOWN):
                answers[phone].append(comparable(request_code(phone), phone))
            clock.shift(dt.timedelta(minutes=1))

        assert answers[KNOWN] == answers[UNKNOWN]
        assert [status for status, *_ in answers[KNOWN]] == [302] * 5 + [200]
        assert texts_to(KNOWN) == 5

        clock.shift(dt.timedelta(hours=1))
        again = request_code(KNOWN)

    assert again.status_code == 302
    assert texts_to(KNOWN) == 6


def test_the_five_an_hour_count_every_flow_that_texts_a_number(known):
    with time_machine.travel(timezone.now(), tick=False) as clock:
        for _ in range(5):
            request_code(KNOWN, address="10.0.0.1")
            clock.shift(dt.timedelta(minutes=1))
        # Sign-up with the taken number would text its owner: not a sixth time this hour.
        page = sign_up(KNOWN)

    assert page.status_code == 302  # reads as always
    assert texts_to(KNOWN) == 5


def test_an_address_asks_for_at_most_twenty_codes_an_hour(db):
    numbers = [f"+86139222{n:05d}" for n in range(21)]
    for number in numbers:
        UserFactory(phone=number, email=None)

    with time_machine.travel(timezone.now(), tick=False) as clock:
        answers = [request_code(number, address="203.0.113.7").status_code for number in numbers]
        other_address = request_code(numbers[-1], address="198.51.100.9")
        clock.shift(dt.timedelta(hours=1, seconds=1))
        next_hour = request_code(numbers[0], address="203.0.113.7")

    assert answers == [302] * 20 + [200]
    assert sum(texts_to(number) for number in numbers) == 22
    assert other_address.status_code == 302
    assert next_hour.status_code == 302


def test_a_sixth_sign_up_for_one_number_in_an_hour_is_refused_on_the_form_alike(known):
    with time_machine.travel(timezone.now(), tick=False) as clock:
        answers = {KNOWN: [], UNKNOWN: []}
        for _ in range(6):
            for phone in (KNOWN, UNKNOWN):
                answers[phone].append(comparable(sign_up(phone), phone))
            clock.shift(dt.timedelta(minutes=1))

    assert answers[KNOWN] == answers[UNKNOWN]
    assert [status for status, *_ in answers[KNOWN]] == [302] * 5 + [200]
    assert "too many requests" in answers[KNOWN][-1][2]
    assert texts_to(KNOWN) == 5 and texts_to(UNKNOWN) == 5


def test_a_limit_allauth_raises_mid_flow_is_a_429_page_not_a_server_error(db):
    first = sign_up(UNKNOWN)
    again = sign_up(UNKNOWN)  # within allauth's 30 s between two codes to one number

    assert first.status_code == 302
    assert again.status_code == 429
    assert "Too many codes" in again.content.decode()
    assert texts_to(UNKNOWN) == 1
