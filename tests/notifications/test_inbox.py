"""The in-app inbox at /me/notifications/: one's own messages only, newest first, marked read
one by one or all at once; the unread badge costs one query and is pushed live."""

from __future__ import annotations

import pytest
from django.test import RequestFactory
from django.urls import reverse

from audit.models import AuditEvent
from notifications.context_processors import unread_notifications
from notifications.models import Notification
from notifications.services import notify, outbox_deliver_due
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db

URL = "/me/notifications/"


def deliver(account, n: int, *, link: str = "/appointments/") -> None:
    for index in range(n):
        notify(
            account=account,
            kind=f"test.{index}",
            subject=account,
            channels=("inapp",),
            context={"title": f"Message {index}", "body": f"Body {index}", "link": link},
        )
    outbox_deliver_due()


def signed_in(client, user):
    client.force_login(user)
    client.cookies["django_language"] = "en"
    return client


def test_the_inbox_is_the_named_page_in_the_navigation(client, alice):
    assert reverse("notification_list") == URL
    page = signed_in(client, alice).get("/").content.decode()
    assert f'href="{URL}"' in page


def test_the_inbox_lists_ones_own_messages_newest_first(client, alice):
    deliver(alice, 3)
    deliver(UserFactory(), 1)

    page = signed_in(client, alice).get(URL).content.decode()

    assert page.index("Message 2") < page.index("Message 1") < page.index("Message 0")
    assert page.count("inbox-item") == 3


def test_signed_out_visitors_are_sent_to_sign_in(client):
    response = client.get(URL)
    assert response.status_code == 302 and "/accounts/login/" in response["Location"]


@pytest.mark.parametrize("rows", [1, 30])
def test_the_inbox_query_count_does_not_grow_with_messages(
    client, alice, rows, django_assert_num_queries
):
    deliver(alice, rows)
    signed_in(client, alice)
    client.get(URL)  # warm the session and the language

    # session, user with its roles (portal/request_reads.py), unread badge, page count, page rows
    with django_assert_num_queries(5):
        response = client.get(URL)
    assert response.status_code == 200


def test_marking_one_read_lowers_the_badge_and_is_audited(client, alice):
    deliver(alice, 2)
    note = Notification.objects.filter(account=alice).first()
    signed_in(client, alice)

    response = client.post(f"{URL}{note.pk}/read/")

    assert response.status_code == 302 and response["Location"] == URL
    note.refresh_from_db()
    assert note.read_at is not None
    assert client.get(f"{URL}unread/").json() == {"unread": 1}
    assert AuditEvent.objects.filter(action="notification.read", actor=alice).count() == 1


def test_opening_a_message_marks_it_read_and_goes_where_it_points(client, alice):
    deliver(alice, 1, link="/appointments/K7M2Q9/")
    note = Notification.objects.get(account=alice)

    response = signed_in(client, alice).post(f"{URL}{note.pk}/read/", {"open": "1"})

    assert response["Location"] == "/appointments/K7M2Q9/"
    note.refresh_from_db()
    assert note.read_at is not None


def test_a_link_to_another_site_is_never_followed(client, alice):
    deliver(alice, 1, link="https://evil.example/")
    note = Notification.objects.get(account=alice)

    response = signed_in(client, alice).post(f"{URL}{note.pk}/read/", {"open": "1"})

    assert response["Location"] == URL


def test_another_accounts_message_does_not_exist(client, alice):
    bob = UserFactory()
    deliver(bob, 1)
    note = Notification.objects.get(account=bob)

    response = signed_in(client, alice).post(f"{URL}{note.pk}/read/")

    assert response.status_code == 404
    note.refresh_from_db()
    assert note.read_at is None


def test_mark_all_read_clears_the_badge(client, alice):
    deliver(alice, 3)
    signed_in(client, alice)

    client.post(f"{URL}read/")

    assert not Notification.objects.filter(account=alice, read_at=None).exists()
    page = client.get(URL).content.decode()
    assert (
        'data-inbox-badge data-poll-url="/me/notifications/unread/" data-poll-seconds="30" hidden'
        in page
    )


@pytest.mark.parametrize("rows", [0, 12])
def test_the_unread_badge_costs_one_query(alice, rows, django_assert_num_queries):
    deliver(alice, rows)
    request = RequestFactory().get("/")
    request.user = alice

    with django_assert_num_queries(1):
        assert unread_notifications(request) == {"unread_notifications": rows}


def test_the_badge_shows_the_unread_count_in_both_languages(client, alice):
    deliver(alice, 4)
    signed_in(client, alice)

    for language, label in (("en", "Messages"), ("zh-hans", "消息")):
        client.cookies["django_language"] = language
        page = client.get("/").content.decode()
        assert label in page and 'data-poll-seconds="30">4</span>' in page
