"""The family list: a fixed number of queries however many people are on it."""

from __future__ import annotations

import pytest
from django.urls import reverse

from tests.factories import PatientLinkFactory

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize("people", [1, 6])
def test_the_list_page_keeps_a_fixed_number_of_queries(
    client, alice, people, django_assert_num_queries
):
    links = PatientLinkFactory.create_batch(people, account=alice)
    client.force_login(alice)

    # session, account, staff membership (does this account need MFA?), the unread badge, the
    # people with links
    with django_assert_num_queries(4):  # + the unread badge
        response = client.get(reverse("patient_list"))

    html = response.content.decode()
    for link in links:
        assert link.patient.name in html
        assert link.patient.id_number_masked in html


def test_the_list_shows_only_the_accounts_own_people(client, alice, bob):
    mine = PatientLinkFactory(account=alice)
    theirs = PatientLinkFactory(account=bob)
    client.force_login(alice)

    html = client.get(reverse("patient_list")).content.decode()

    assert mine.patient.name in html
    assert theirs.patient.name not in html


def test_the_site_navigation_links_to_the_family_list(client, alice):
    client.force_login(alice)

    html = client.get("/").content.decode()

    assert f'href="{reverse("patient_list")}"' in html


def test_the_family_pages_speak_chinese(client, alice):
    link = PatientLinkFactory(account=alice)
    client.force_login(alice)
    client.cookies["django_language"] = "zh-hans"

    listing = client.get(reverse("patient_list")).content.decode()
    detail = client.get(link.patient.get_absolute_url()).content.decode()

    assert "添加就诊人" in listing and "身份证号" in listing
    assert "授权同意" in detail and "处理身份证号和健康信息" in detail


@pytest.mark.parametrize("others", [0, 4])
def test_a_persons_page_keeps_a_fixed_number_of_queries(
    client, alice, others, django_assert_num_queries
):
    from django.utils import timezone

    from tests.factories import ConsentFactory

    patient = PatientLinkFactory(account=alice).patient
    for _ in range(others):
        PatientLinkFactory(patient=patient, is_manager=False)
        ConsentFactory(patient=patient, given_by=alice, revoked_at=timezone.now())
    ConsentFactory(patient=patient, given_by=alice)
    client.force_login(alice)

    # session, account, staff membership (MFA?), the link with its person, the links, the
    # consents, the invitations
    with django_assert_num_queries(7):  # + the unread badge
        response = client.get(patient.get_absolute_url())

    assert response.status_code == 200
