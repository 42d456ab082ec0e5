"""Adding a person: real-name details that agree with the ID, consent, six per account, and
the neutral answer for an ID already on the platform."""

from __future__ import annotations

import datetime as dt

import pytest
from django.urls import reverse

from audit.models import AuditEvent
from records.idnumbers import make_id_number
from records.models import Consent, Patient, PatientLink
from tests.factories import PatientFactory, PatientLinkFactory
from tests.records.conftest import CHILD_ID

pytestmark = pytest.mark.django_db

ADD = reverse("patient_add")


def test_a_parent_adds_a_child_and_manages_them_with_the_guardians_consent(
    client, alice, child_form
):
    client.force_login(alice)

    response = client.post(ADD, child_form)

    patient = Patient.objects.get()
    assert response.status_code == 302
    assert response.url == reverse("patient_detail", args=[patient.public_id])
    assert (patient.name, patient.sex, patient.birth_date) == (
        "王小明",
        "male",
        dt.date(2019, 6, 1),
    )
    link = PatientLink.objects.get()
    assert (link.account, link.relationship, link.is_manager) == (alice, "child", True)
    consent = Consent.objects.get()
    assert (consent.kind, consent.given_by, consent.on_behalf) == (
        "id_and_health_data",
        alice,
        "guardian",
    )
    assert consent.text_version
    actions = set(AuditEvent.objects.values_list("action", flat=True))
    assert {"patient.add", "consent.give"} <= actions
    assert not AuditEvent.objects.filter(data__icontains=CHILD_ID).exists()


def test_adding_a_person_without_the_consent_is_refused_and_nothing_is_saved(
    client, alice, child_form
):
    client.force_login(alice)
    del child_form["consent_id_and_health_data"]

    response = client.post(ADD, child_form)

    assert response.status_code == 200
    assert (
        "Without this consent the platform cannot register the person." in response.content.decode()
    )
    assert not Patient.objects.exists()
    assert not PatientLink.objects.exists()


def test_sex_and_birth_date_are_read_from_the_id_number_and_shown_before_adding(
    client, alice, child_form
):
    client.force_login(alice)
    del child_form["confirmed"]
    child_form.update(sex="female", birth_date="2001-01-01")  # not asked: ignored

    first = client.post(ADD, child_form).content.decode()

    assert not Patient.objects.exists()
    assert 'data-derived="sex">male<' in first and "1 Jun 2019" in first
    assert 'name="confirmed" value="True"' in first and CHILD_ID not in first.replace(
        f'value="{CHILD_ID}"', ""
    )
    response = client.post(ADD, {**child_form, "confirmed": "True"})
    assert response.status_code == 302
    patient = Patient.objects.get()
    assert (patient.sex, patient.birth_date) == ("male", dt.date(2019, 6, 1))


def test_adding_from_a_booking_returns_to_the_period_and_a_foreign_next_is_ignored(
    client, alice, child_form
):
    client.force_login(alice)
    assert (
        'name="next" value="/appointments/book/7/"'
        in client.get(ADD + "?next=/appointments/book/7/").content.decode()
    )

    back = client.post(ADD, {**child_form, "next": "/appointments/book/7/"})
    assert back.url == "/appointments/book/7/"
    forged = client.post(ADD, {**child_form, "next": "https://evil.example/"})
    assert forged.status_code == 200 and "Not a page of this site." in forged.content.decode()


def test_a_wrong_check_digit_is_shown_next_to_the_id_field(client, alice, child_form):
    client.force_login(alice)
    child_form["id_number"] = CHILD_ID[:-1] + ("0" if CHILD_ID[-1] != "0" else "1")

    response = client.post(ADD, child_form)

    assert "last character does not match" in response.content.decode()
    assert response.context["form"].errors["id_number"]


def test_an_adult_added_by_their_child_is_recorded_as_consent_for_a_family_member(
    client, alice, child_form
):
    client.force_login(alice)
    birth = dt.date(1950, 3, 8)
    child_form.update(
        relationship="parent",
        name="王秀英",
        sex="female",
        birth_date=birth.isoformat(),
        id_number=make_id_number(birth_date=birth, sex="female", sequence=4),
        phone="13812345678",
    )

    client.post(ADD, child_form)

    patient = Patient.objects.get()
    assert patient.phone == "+8613812345678"
    assert Consent.objects.get().on_behalf == "family"


def test_an_account_acts_for_at_most_six_people(client, alice, child_form):
    PatientLinkFactory.create_batch(6, account=alice)
    client.force_login(alice)

    response = client.post(ADD, child_form)

    assert "An account can act for at most 6 people." in response.content.decode()
    assert PatientLink.objects.filter(account=alice).count() == 6
    assert not Patient.objects.filter(name="王小明").exists()


def test_a_revoked_link_frees_a_place_among_the_six(client, alice, child_form):
    links = PatientLinkFactory.create_batch(6, account=alice)
    links[0].revoked_at = links[0].created_at
    links[0].save()
    client.force_login(alice)

    response = client.post(ADD, child_form)

    assert response.status_code == 302


def test_the_list_hides_the_add_button_when_six_people_are_linked(client, alice):
    PatientLinkFactory.create_batch(6, account=alice)
    client.force_login(alice)

    html = client.get(reverse("patient_list")).content.decode()

    assert reverse("patient_add") not in html
    assert "Your list is full" in html


# --- an ID that is already on the platform --------------------------------------------------


@pytest.fixture
def registered_child(bob):
    """Bob registered the same boy first."""
    patient = PatientFactory(
        name="王小明", sex="male", birth_date=dt.date(2019, 6, 1), id_number=CHILD_ID
    )
    PatientLinkFactory(patient=patient, account=bob)
    return patient


def test_matching_name_id_and_birth_date_is_told_only_that_the_person_is_registered(
    client, alice, child_form, registered_child
):
    client.force_login(alice)

    response = client.post(ADD, child_form)

    html = response.content.decode()
    assert response.status_code == 200
    assert "already registered on the platform" in html
    assert "invite you as a guardian" in html
    assert "bob@example.com" not in html and "Bob" not in html
    assert registered_child.id_number_masked not in html
    assert Patient.objects.count() == 1
    assert not PatientLink.objects.filter(account=alice).exists()
    assert AuditEvent.objects.filter(action="patient.add", result="denied", actor=alice).exists()


def test_another_name_with_a_registered_id_gets_the_generic_answer_and_nothing_else(
    client, alice, child_form, registered_child
):
    client.force_login(alice)
    mismatch = client.post(ADD, {**child_form, "name": "李小明"})
    # (Sex and birth date are read from the number now, so a typo in them no longer exists to
    # compare with: the answer is the generic sentence, as a sex or date mismatch's was.)

    html = mismatch.content.decode()
    assert "These details do not agree with each other." in html
    assert "already registered" not in html
    assert registered_child.name not in html
    assert registered_child.id_number_masked not in html
    assert mismatch.status_code == 200
    assert list(mismatch.context["form"].errors.keys()) == ["__all__"]


def test_an_account_adds_itself_only_once(client, alice, child_form):
    PatientLinkFactory(account=alice, relationship="self")
    client.force_login(alice)
    birth = dt.date(1991, 2, 3)

    response = client.post(
        ADD,
        {
            **child_form,
            "relationship": "self",
            "sex": "female",
            "birth_date": birth.isoformat(),
            "id_number": make_id_number(birth_date=birth, sex="female", sequence=5),
        },
    )

    assert "You have already added yourself." in response.content.decode()
    assert PatientLink.objects.filter(account=alice).count() == 1


def test_the_database_holds_one_live_manager_per_person(alice, bob):
    from django.db import IntegrityError

    link = PatientLinkFactory(account=alice)

    with pytest.raises(IntegrityError):
        PatientLinkFactory(account=bob, patient=link.patient, is_manager=True)


def test_adding_someone_already_on_the_accounts_own_list_says_so(client, alice, child_form):
    patient = PatientFactory(
        name="王小明", sex="male", birth_date=dt.date(2019, 6, 1), id_number=CHILD_ID
    )
    PatientLinkFactory(patient=patient, account=alice)
    client.force_login(alice)

    response = client.post(ADD, child_form)

    assert "This person is already on your list." in response.content.decode()
