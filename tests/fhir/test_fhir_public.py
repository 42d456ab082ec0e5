"""The public half of /fhir/: metadata, the directory, schedules and slot search."""

from __future__ import annotations

import datetime as dt
from urllib.parse import urlsplit

import pytest
from django.utils import timezone

from tests.appointments.conftest import SHANGHAI
from tests.factories import DoctorFactory, HospitalFactory, ScheduleRuleFactory, SlotFactory
from tests.fhir.conftest import body, entries, outcome, validate

pytestmark = pytest.mark.django_db


def _day(days: int) -> dt.date:
    return timezone.now().astimezone(SHANGHAI).date() + dt.timedelta(days=days)


def _at(day: dt.date, hour: int, minute: int = 0) -> dt.datetime:
    return dt.datetime.combine(day, dt.time(hour, minute), tzinfo=SHANGHAI)


@pytest.fixture
def clinic():
    """One doctor with a morning of slots three days ahead: 08:00 free, 08:30 full, 09:00
    closed, 09:30 not released yet; and a second site from the rota with one free slot."""
    doctor = DoctorFactory(name="林医生", name_en="Dr Lin")
    other_site = HospitalFactory(name="月湖社区卫生服务中心", kind="clinic")
    ScheduleRuleFactory(doctor=doctor, site=other_site)
    day = _day(3)
    slots = {
        "free": SlotFactory(doctor=doctor, start=_at(day, 8)),
        "full": SlotFactory(doctor=doctor, start=_at(day, 8, 30), booked=3),
        "closed": SlotFactory(doctor=doctor, start=_at(day, 9), closed_at=timezone.now()),
        "later": SlotFactory(
            doctor=doctor,
            start=_at(day, 9, 30),
            release_at=timezone.now() + dt.timedelta(days=1),
        ),
        "elsewhere": SlotFactory(doctor=doctor, site=other_site, start=_at(day, 14)),
    }
    return {"doctor": doctor, "other_site": other_site, "day": day, **slots}


def test_metadata_is_a_valid_capability_statement_naming_every_search(client):
    response = client.get("/fhir/metadata")

    assert response.status_code == 200
    statement = body(response)
    validate(statement)
    resources = {r["type"]: r for r in statement["rest"][0]["resource"]}
    assert {"Organization", "Practitioner", "Schedule", "Slot", "Appointment", "Patient"} <= set(
        resources
    )
    assert {p["name"] for p in resources["Slot"]["searchParam"]} == {"schedule", "start", "status"}
    assert resources["Patient"]["operation"][0]["name"] == "everything"


def test_directory_resources_read_and_validate(client, clinic):
    doctor = clinic["doctor"]
    for url in (
        f"/fhir/Organization/{doctor.hospital_id}",
        f"/fhir/Location/{doctor.hospital_id}",
        f"/fhir/Practitioner/{doctor.pk}",
        f"/fhir/Schedule/{doctor.pk}-{doctor.hospital_id}",
        f"/fhir/Schedule/{doctor.pk}-{clinic['other_site'].pk}",
        f"/fhir/Slot/{clinic['free'].pk}",
    ):
        response = client.get(url)
        assert response.status_code == 200, url
        validate(body(response))

    practitioner = body(client.get(f"/fhir/Practitioner/{doctor.pk}"))
    assert [n["text"] for n in practitioner["name"]] == ["林医生", "Dr Lin"]


def test_searches_of_the_directory_are_valid_bundles(client, clinic):
    for url in ("/fhir/Organization", "/fhir/Practitioner?name=lin", "/fhir/Schedule"):
        bundle = body(client.get(url))
        validate(bundle)
        assert bundle["type"] == "searchset"
        assert entries(bundle), url

    schedules = body(client.get(f"/fhir/Schedule?actor=Practitioner/{clinic['doctor'].pk}"))
    assert sorted(s["id"] for s in entries(schedules)) == sorted(
        [
            f"{clinic['doctor'].pk}-{clinic['doctor'].hospital_id}",
            f"{clinic['doctor'].pk}-{clinic['other_site'].pk}",
        ]
    )


def test_slot_status_says_which_can_be_booked_now(client, clinic):
    schedule = f"{clinic['doctor'].pk}-{clinic['doctor'].hospital_id}"
    bundle = body(client.get(f"/fhir/Slot?schedule=Schedule/{schedule}"))
    validate(bundle)

    statuses = {s["id"]: s["status"] for s in entries(bundle)}
    assert statuses == {
        str(clinic["free"].pk): "free",
        str(clinic["full"].pk): "busy",
        str(clinic["closed"].pk): "busy-unavailable",
        str(clinic["later"].pk): "busy-unavailable",
    }
    free = body(client.get(f"/fhir/Slot?schedule={schedule}&status=free"))
    assert [s["id"] for s in entries(free)] == [str(clinic["free"].pk)]
    assert entries(free)[0]["schedule"]["reference"] == f"Schedule/{schedule}"


def test_slot_search_by_start_window(client, clinic):
    day = clinic["day"].isoformat()
    morning = body(client.get(f"/fhir/Slot?start=ge{day}T08:30:00%2B08:00&start=lt{day}T12:00"))
    assert [s["id"] for s in entries(morning)] == [
        str(clinic[k].pk) for k in ("full", "closed", "later")
    ]
    whole_day = body(client.get(f"/fhir/Slot?start={day}"))
    assert len(entries(whole_day)) == 5
    next_day = (clinic["day"] + dt.timedelta(days=1)).isoformat()
    assert entries(body(client.get(f"/fhir/Slot?start=ge{next_day}"))) == []


def test_slot_pages_follow_next_links_and_visit_every_slot_once(client):
    doctor = DoctorFactory()
    day = _day(4)
    created = [
        SlotFactory(doctor=doctor, start=_at(day, 8) + dt.timedelta(minutes=15 * n))
        for n in range(7)
    ]
    url = f"/fhir/Slot?schedule={doctor.pk}-{doctor.hospital_id}&status=free&_count=3"
    seen, pages = [], 0
    while url:
        bundle = body(client.get(url))
        validate(bundle)
        pages += 1
        seen.extend(s["id"] for s in entries(bundle))
        links = {link["relation"]: link["url"] for link in bundle["link"]}
        assert links["self"]
        url = None
        if "next" in links:
            parts = urlsplit(links["next"])
            url = f"{parts.path}?{parts.query}"

    assert pages == 3
    assert seen == [str(slot.pk) for slot in created]


def test_slot_search_runs_a_fixed_number_of_queries(client, django_assert_num_queries):
    doctor = DoctorFactory()
    day = _day(5)
    for n in range(30):
        SlotFactory(doctor=doctor, start=_at(day, 8) + dt.timedelta(minutes=10 * n))

    with django_assert_num_queries(1):
        bundle = body(client.get("/fhir/Slot?status=free&_count=20"))
    assert len(entries(bundle)) == 20


@pytest.mark.parametrize(
    ("query", "words"),
    [
        ("colour=blue", "Unknown search parameter"),
        ("status:not=free", "Unknown search parameter"),
        ("_sort=-start", "Cannot sort by"),
        ("_sort=doctor", "Cannot sort by"),
        ("status=maybe", "Unknown slot status"),
        ("start=tomorrow", "is not a date search"),
        ("start=ge2026-13-45", "is not a date"),
        ("_count=0", "_count"),
        ("_count=1000", "_count"),
        ("_cursor=abc", "page link"),
        ("schedule=Practitioner/1", "not a reference to a Schedule"),
        # Characters str.isdigit() takes and int() does not, and numbers past int()'s limit.
        ("_count=²", "_count"),
        ("_count=" + "9" * 10_240, "_count"),
        ("schedule=²-1", "not a Schedule id"),
        ("schedule=1-" + "9" * 10_240, "not a Schedule id"),
        # The end of the calendar: the day or the second after it is no moment at all.
        ("start=9999-12-31", "is not a date"),
        ("start=le9999-12-31T23:59:59", "is not a date"),
    ],
)
def test_a_search_it_does_not_understand_is_a_400_outcome(client, query, words):
    issue = outcome(client.get(f"/fhir/Slot?{query}"), 400)

    assert issue["code"] == "invalid"
    assert words in issue["diagnostics"]


@pytest.mark.parametrize("actor", ["Practitioner/²", "Location/" + "9" * 10_240])
def test_a_schedule_actor_that_is_not_a_number_is_a_400_outcome(client, actor):
    issue = outcome(client.get("/fhir/Schedule", {"actor": actor}), 400)

    assert "actor" in issue["diagnostics"]


def test_sorting_by_start_is_accepted(client, clinic):
    assert client.get("/fhir/Slot?_sort=start").status_code == 200


@pytest.mark.parametrize(
    "url",
    [
        "/fhir/Organization/999999",
        "/fhir/Organization/abc",
        "/fhir/Practitioner/999999",
        "/fhir/Schedule/1",
        "/fhir/Schedule/999999-1",
        "/fhir/Slot/999999",
        "/fhir/Medication/1",
        "/fhir/Organization/²",
        "/fhir/Location/²",
        "/fhir/Practitioner/²",
        "/fhir/Schedule/²-1",
        "/fhir/Slot/²",
    ],
)
def test_unknown_resources_are_404_outcomes(client, url):
    assert outcome(client.get(url), 404)["code"] in ("not-found", "not-supported")


def test_xml_is_not_offered_and_writes_are_not_allowed(client, clinic):
    assert outcome(client.get("/fhir/metadata?_format=xml"), 406)
    refused = client.post(f"/fhir/Slot/{clinic['free'].pk}", {}, content_type="application/json")
    assert outcome(refused, 405)["code"] == "not-supported"
    assert refused["Allow"] == "GET"


def test_an_inactive_doctors_slots_are_not_listed(client, clinic):
    clinic["doctor"].is_active = False
    clinic["doctor"].save()

    assert entries(body(client.get("/fhir/Slot"))) == []
    assert client.get(f"/fhir/Slot/{clinic['free'].pk}").status_code == 404


@pytest.mark.parametrize(
    ("status", "expected"),
    [
        ("free", ["free"]),
        ("busy", ["full"]),
        ("busy-unavailable", ["closed", "later"]),
        ("free,busy", ["free", "full"]),
    ],
)
def test_slot_search_by_status_agrees_with_the_status_shown(client, clinic, status, expected):
    schedule = f"{clinic['doctor'].pk}-{clinic['doctor'].hospital_id}"

    bundle = body(client.get(f"/fhir/Slot?schedule={schedule}&status={status}"))

    assert [s["id"] for s in entries(bundle)] == [str(clinic[key].pk) for key in expected]
    assert {s["status"] for s in entries(bundle)} == set(status.split(","))


def test_unused_referral_places_that_joined_the_public_pool_make_a_full_slot_free(client):
    doctor = DoctorFactory()
    merged = SlotFactory(
        doctor=doctor,
        start=_at(_day(2), 10),
        booked=3,
        referral_capacity=1,
        referral_merge_at=timezone.now() - dt.timedelta(hours=1),
    )

    bundle = body(client.get(f"/fhir/Slot?schedule={doctor.pk}-{doctor.hospital_id}&status=free"))

    assert [s["id"] for s in entries(bundle)] == [str(merged.pk)]
    assert entries(bundle)[0]["status"] == "free"
