"""The text consult pages: asking from the doctor's page, the thread for each side, the
doctor's queue oldest first with a pinned query count, and 404 for anyone else."""

from __future__ import annotations

import datetime as dt

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from telemedicine.models import TextConsult
from telemedicine.services_text import text_consult_open, text_consult_reply
from tests.appointments.conftest import person
from tests.factories import UserFactory
from tests.records.conftest import doctor_account
from tests.telemedicine.text import photo, text_world

pytestmark = pytest.mark.django_db


def _open(world, question="孩子手臂起红疹", **fields):
    return text_consult_open(
        patient=fields.pop("patient", world.child),
        doctor=world.doctor,
        by=fields.pop("by", world.parent),
        question=question,
        **fields,
    )


def test_the_doctors_page_offers_ask_by_text_and_the_parent_asks_for_her_child(client):
    world = text_world()
    client.force_login(world.parent)
    page = client.get(f"/doctors/{world.doctor.pk}/").content.decode()
    assert "Ask by text" in page and "¥30 / consult" in page
    response = client.post(
        f"/text-consults/ask/{world.doctor.pk}/",
        {"patient": str(world.child.public_id), "question": "手臂起红疹三天", "photos": [photo()]},
    )
    consult = TextConsult.objects.get()
    assert response.status_code == 302
    assert response["Location"] == f"/text-consults/{consult.encounter.public_id}/"
    thread = client.get(response["Location"]).content.decode()
    assert "手臂起红疹三天" in thread and "waiting for the doctor" in thread
    assert thread.count('class="tc-photos"') == 1


def test_over_the_daily_limit_the_page_says_so_and_nothing_is_saved(client):
    world = text_world(daily_limit=1)
    _open(world)
    client.force_login(world.parent)
    response = client.post(
        f"/text-consults/ask/{world.doctor.pk}/",
        {"patient": str(world.child.public_id), "question": "又一个问题"},
    )
    assert response.status_code == 400
    assert "all the text consults they can answer today" in response.content.decode()
    assert TextConsult.objects.count() == 1


def test_a_person_the_account_does_not_act_for_cannot_be_chosen(client):
    world = text_world()
    stranger_child, _other = person(name="别人家孩子")
    client.force_login(world.parent)
    response = client.post(
        f"/text-consults/ask/{world.doctor.pk}/",
        {"patient": str(stranger_child.public_id), "question": "?"},
    )
    assert response.status_code == 400 and not TextConsult.objects.exists()


def test_a_doctor_who_does_not_offer_text_consults_has_no_ask_page(client):
    world = text_world()
    world.offer.is_open = False
    world.offer.save()
    client.force_login(world.parent)
    assert client.get(f"/text-consults/ask/{world.doctor.pk}/").status_code == 404
    assert "Ask by text" not in client.get(f"/doctors/{world.doctor.pk}/").content.decode()


def test_another_family_or_another_doctor_gets_a_404_for_the_thread_and_its_photos(client):
    world = text_world()
    consult = _open(world, photos=[photo()])
    photo_row = consult.messages.get().photos.get()
    thread = f"/text-consults/{consult.encounter.public_id}/"
    photo_url = f"{thread}photos/{photo_row.public_id}/"
    _doctor, other_doctor = doctor_account()
    for outsider in (UserFactory(), other_doctor):
        client.force_login(outsider)
        for url in (thread, f"{thread}messages/", photo_url):
            assert client.get(url).status_code == 404, url
        assert client.post(thread, {"text": "hi"}).status_code == 404
        assert client.post(f"{thread}close/").status_code == 404
    client.force_login(world.doctor_user)
    response = client.get(photo_url)
    assert response.status_code == 200 and response["Content-Type"] == "image/jpeg"
    assert response["X-Content-Type-Options"] == "nosniff"
    # The parent is not the doctor: asking to book or closing is a 404 for her too.
    client.force_login(world.parent)
    assert client.post(f"{thread}book/", {"mode": "online"}).status_code == 404
    assert client.post(f"{thread}close/").status_code == 404
    consult.refresh_from_db()
    assert consult.is_open and consult.messages.count() == 1


def test_the_doctor_answers_asks_for_a_video_visit_and_the_family_gets_a_booking_link(client):
    world = text_world()
    consult = _open(world)
    thread = f"/text-consults/{consult.encounter.public_id}/"
    client.force_login(world.doctor_user)
    assert client.post(thread, {"text": "像是湿疹"}).status_code == 302
    assert client.post(f"{thread}book/", {"mode": "online"}).status_code == 302
    client.force_login(world.parent)
    page = client.get(thread).content.decode()
    assert "像是湿疹" in page and "Book a video visit" in page
    assert f'href="/doctors/{world.doctor.pk}/' in page
    client.force_login(world.doctor_user)
    client.post(f"{thread}close/")
    client.force_login(world.parent)
    page = client.get(thread).content.decode()
    assert 'name="text"' not in page  # no reply form once closed


def test_the_family_sees_the_thread_in_the_record(client):
    world = text_world()
    consult = _open(world)
    client.force_login(world.parent)
    record = client.get(f"/me/record/{world.child.public_id}/").content.decode()
    assert "Text consult" in record or "text consult" in record.lower()
    assert f"/text-consults/{consult.encounter.public_id}/" in record


def test_the_queue_lists_open_consults_oldest_first_in_a_fixed_number_of_queries(client):
    world = text_world(daily_limit=50)
    start = timezone.now() - dt.timedelta(hours=3)
    first = _open(world, question="最早的问题")
    TextConsult.objects.filter(pk=first.pk).update(created_at=start)
    _open(world, question="后来的问题")
    client.force_login(world.doctor_user)
    client.get("/doctor/text-consults/")
    with CaptureQueriesContext(connection) as few:
        page = client.get("/doctor/text-consults/").content.decode()
    assert page.index("最早的问题") < page.index("后来的问题")
    for number in range(8):
        other, _account = person(world.parent, relationship="child", name=f"孩子{number}")
        consult = _open(world, patient=other, question=f"问题{number}")
        text_consult_reply(consult=consult, by=world.doctor_user, text="答")
    with CaptureQueriesContext(connection) as many:
        page = client.get("/doctor/text-consults/").content.decode()
    assert page.count('class="panel tc-queue-item"') == 10
    assert len(many.captured_queries) == len(few.captured_queries)


def test_the_thread_runs_a_fixed_number_of_queries_however_long(client):
    world = text_world()
    consult = _open(world, photos=[photo()])
    url = f"/text-consults/{consult.encounter.public_id}/messages/"
    client.force_login(world.parent)
    client.get(url)
    with CaptureQueriesContext(connection) as few:
        client.get(url)
    for _ in range(5):
        text_consult_reply(consult=consult, by=world.doctor_user, text="答", photos=[photo()])
    with CaptureQueriesContext(connection) as many:
        page = client.get(url).content.decode()
    assert page.count('class="tc-message ') == 6
    assert len(many.captured_queries) == len(few.captured_queries)


def test_the_doctor_sets_the_offer_on_a_page_of_their_area(client):
    world = text_world()
    client.force_login(world.doctor_user)
    response = client.post(
        "/doctor/text-consults/settings/",
        {"is_open": "on", "price_note": "¥20", "daily_limit": "3"},
    )
    assert response.status_code == 302
    world.offer.refresh_from_db()
    assert (world.offer.price_note, world.offer.daily_limit) == ("¥20", 3)
    response = client.post("/doctor/text-consults/settings/", {"daily_limit": "0"})
    assert response.status_code == 400
    client.force_login(world.parent)
    assert client.get("/doctor/text-consults/settings/").status_code == 404


def test_another_doctor_with_record_access_reads_the_thread_without_a_reply_form_audited(client):
    from audit.models import AuditEvent
    from records.models import CareRelationship
    from records.services import care_relationship_grant

    world = text_world()
    consult = _open(world)
    _colleague, colleague_user = doctor_account(hospital=world.doctor.hospital)
    care_relationship_grant(
        patient=world.child,
        user=colleague_user,
        reason=CareRelationship.Reason.BOOKING,
        until=timezone.now() + dt.timedelta(days=1),
    )
    client.force_login(colleague_user)
    thread = f"/text-consults/{consult.encounter.public_id}/"
    page = client.get(thread).content.decode()
    assert "孩子手臂起红疹" in page and 'name="text"' not in page
    assert AuditEvent.objects.filter(
        action="record.read", actor=colleague_user, data__what="text_consult"
    ).exists()
    assert client.post(thread, {"text": "我也来看看"}).status_code == 400
    assert consult.messages.count() == 1
