"""/desk/claim/: after checking the ID card in person, desk staff hand an adult their own record
(records.services.patient_claim_self). Any mismatch of name, ID number and birth date reads the
same as an ID that is not on the platform."""

from __future__ import annotations

import datetime as dt

import pytest

from audit.models import AuditEvent
from records.idnumbers import make_id_number
from records.models import PatientLink
from tests.appointments.conftest import clerk_of
from tests.factories import HospitalFactory, PatientFactory, PatientLinkFactory, UserFactory

pytestmark = pytest.mark.django_db

MISMATCH = "These details do not agree with each other."
BORN = dt.date(2000, 4, 5)


@pytest.fixture
def clerk():
    return clerk_of(HospitalFactory())


@pytest.fixture
def desk(client, clerk):
    client.force_login(clerk)
    client.cookies["django_language"] = "en"
    return client


@pytest.fixture
def registered_by_mother(alice):
    """A grown-up son whom his mother (alice) registered and manages."""
    return PatientLinkFactory(
        account=alice, patient=PatientFactory(name="张晓明", birth_date=BORN, sex="male")
    ).patient


def _form(patient, account: str, **changes) -> dict:
    data = {
        "name": patient.name,
        "id_number": patient.id_number,
        "birth_date": patient.birth_date.isoformat(),
        "account": account,
        "card_checked": "on",
    }
    data.update(changes)
    return data


def test_the_desk_hands_an_adult_their_record_by_e_mail(desk, clerk, alice, registered_by_mother):
    son = UserFactory(email="son@example.com")

    response = desk.post(
        "/desk/claim/",
        _form(registered_by_mother, "Son@Example.com", name=" 张 晓明 "),
        follow=True,
    )

    assert "张晓明 now manages their own record" in response.content.decode()
    own = PatientLink.objects.live().get(patient=registered_by_mother, account=son)
    assert (own.relationship, own.is_manager) == ("self", True)
    mothers = PatientLink.objects.live().get(patient=registered_by_mother, account=alice)
    assert not mothers.is_manager
    event = AuditEvent.objects.get(action="patient.claim_self")
    assert event.actor == clerk and event.data["account"] == son.pk


def test_a_verified_mobile_number_finds_the_account_too(desk, registered_by_mother):
    son = UserFactory(phone="+8613912345678", phone_verified=True)

    desk.post("/desk/claim/", _form(registered_by_mother, "139 1234 5678"))

    assert PatientLink.objects.live().filter(account=son, relationship="self").exists()


def test_an_unverified_number_finds_no_account(desk, registered_by_mother):
    UserFactory(phone="+8613912345678", phone_verified=False)

    page = desk.post("/desk/claim/", _form(registered_by_mother, "13912345678")).content.decode()

    assert "No account has this e-mail address or verified mobile number." in page
    assert not PatientLink.objects.filter(relationship="self").exists()


@pytest.mark.parametrize(
    "changes",
    [
        {"birth_date": "2000-04-06"},
        {"name": "张晓"},
        # A valid number of someone not on the platform reads exactly the same.
        {"id_number": make_id_number(birth_date=BORN, sex="male", sequence=777)},
    ],
)
def test_any_mismatch_reads_the_same_and_changes_nothing(desk, registered_by_mother, changes):
    UserFactory(email="son@example.com")

    page = desk.post(
        "/desk/claim/", _form(registered_by_mother, "son@example.com", **changes)
    ).content.decode()

    assert MISMATCH in page
    assert not PatientLink.objects.filter(relationship="self").exists()
    assert not AuditEvent.objects.filter(action="patient.claim_self").exists()


def test_a_child_cannot_take_over_and_the_card_must_be_checked(desk, alice):
    child = PatientLinkFactory(
        account=alice, patient=PatientFactory(birth_date=dt.date(2015, 1, 1))
    ).patient
    UserFactory(email="kid@example.com")

    refused = desk.post("/desk/claim/", _form(child, "kid@example.com")).content.decode()
    unchecked = desk.post(
        "/desk/claim/", _form(child, "kid@example.com", card_checked="")
    ).content.decode()

    assert "Only an adult (18 or over) can take over their own record." in refused
    assert "Check the ID card in person first." in unchecked
    assert not PatientLink.objects.filter(relationship="self").exists()


def test_a_bad_id_number_is_explained_at_its_field(desk, registered_by_mother):
    page = desk.post(
        "/desk/claim/", _form(registered_by_mother, "a@example.com", id_number="12345")
    ).content.decode()

    assert "An ID number has 18 characters" in page


def test_only_desk_staff_reach_the_page(client, alice):
    hospital = HospitalFactory()
    for user in (alice, clerk_of(hospital, role="doctor")):
        client.force_login(user)
        assert client.get("/desk/claim/").status_code == 404
    client.force_login(clerk_of(hospital))
    assert client.get("/desk/claim/").status_code == 200


def test_a_refused_form_does_not_show_the_id_number_again(desk, registered_by_mother):
    page = desk.post(
        "/desk/claim/", _form(registered_by_mother, "nobody@example.com")
    ).content.decode()

    assert "No account has this e-mail address" in page
    assert registered_by_mother.id_number not in page
