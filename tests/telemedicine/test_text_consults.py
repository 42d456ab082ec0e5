"""Text consults (图文问诊, issue 20): who may open, answer and close one; the daily limit;
photos typed and stripped; the thread in the one record; closing on its own exactly once."""

from __future__ import annotations

import datetime as dt

import pytest
import time_machine
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone
from PIL import Image

from audit.models import AuditEvent
from notifications.models import OutboxMessage
from records.access import record_access
from records.models import Attachment, Encounter
from telemedicine.models import TextConsult, TextConsultMessage
from telemedicine.services_text import (
    ConsultIsClosed,
    DailyLimitReached,
    NotOffered,
    NotTheDoctor,
    NotYourPerson,
    PhotoRefused,
    TooManyPhotos,
    text_consult_ask_to_book,
    text_consult_close,
    text_consult_open,
    text_consult_reply,
    text_consults_close_due,
    text_offer_update,
)
from tests.factories import UserFactory
from tests.records.conftest import doctor_account
from tests.telemedicine.text import photo, png, text_world

pytestmark = pytest.mark.django_db


def _open(world, **fields):
    values = {
        "patient": world.child,
        "doctor": world.doctor,
        "by": world.parent,
        "question": "孩子手臂起红疹三天，痒。",
    }
    values.update(fields)
    return text_consult_open(**values)


def test_a_parent_asks_about_her_child_with_a_photo_whose_exif_is_gone():
    world = text_world()
    consult = _open(world, photos=[photo()])
    assert consult.is_open and consult.encounter.mode == Encounter.Mode.TEXT
    (first,) = consult.messages.all()
    (stored,) = first.photos.all()
    assert stored.content_type == "image/jpeg" and stored.encounter_id == consult.encounter_id
    with stored.file.open("rb") as handle, Image.open(handle) as image:
        assert not image.getexif()
    assert b"CANARY-CAMERA-MODEL" not in stored.file.open("rb").read()
    # The doctor is told in the inbox and by SMS (the doctor's number is verified).
    channels = set(
        OutboxMessage.objects.filter(
            account=world.doctor_user, kind="text_consult.question"
        ).values_list("channel", flat=True)
    )
    assert channels == {"inapp", "sms"}
    assert AuditEvent.objects.filter(action="text_consult.open").count() == 1


def test_the_doctor_reads_the_record_while_the_consult_is_open_and_a_week_after():
    world = text_world()
    assert not record_access(user=world.doctor_user, patient=world.child).allowed
    consult = _open(world)
    assert record_access(user=world.doctor_user, patient=world.child).allowed
    text_consult_close(consult=consult, by=world.doctor_user)
    later = timezone.now() + dt.timedelta(days=6)
    assert record_access(user=world.doctor_user, patient=world.child, at=later).allowed
    after = timezone.now() + dt.timedelta(days=8)
    assert not record_access(user=world.doctor_user, patient=world.child, at=after).allowed


def test_the_daily_limit_refuses_the_next_consult_with_a_clear_message_and_writes_nothing():
    world = text_world(daily_limit=2)
    _open(world)
    _open(world)
    encounters = Encounter.objects.count()
    files = Attachment.objects.count()
    with pytest.raises(DailyLimitReached) as refused:
        _open(world, photos=[photo()])
    assert "today" in str(refused.value.message)
    assert Encounter.objects.count() == encounters and Attachment.objects.count() == files
    assert TextConsult.objects.count() == 2


def test_the_limit_counts_the_doctors_local_day():
    world = text_world(daily_limit=1)
    # 23:30 in Shanghai, then 00:30 the next day: two days, one consult each.
    night = dt.datetime(2026, 3, 2, 23, 30, tzinfo=dt.timezone(dt.timedelta(hours=8)))
    with time_machine.travel(night, tick=False):
        _open(world)
    with time_machine.travel(night + dt.timedelta(hours=1), tick=False):
        _open(world)
    with (
        time_machine.travel(night + dt.timedelta(hours=2), tick=False),
        pytest.raises(DailyLimitReached),
    ):
        _open(world)


def test_a_doctor_who_does_not_take_text_consults_is_refused():
    world = text_world()
    text_offer_update(
        doctor=world.doctor, by=world.doctor_user, is_open=False, price_note="", daily_limit=5
    )
    with pytest.raises(NotOffered):
        _open(world)


def test_only_the_doctor_changes_their_offer():
    world = text_world()
    with pytest.raises(NotTheDoctor):
        text_offer_update(
            doctor=world.doctor, by=world.parent, is_open=False, price_note="", daily_limit=5
        )


def test_a_stranger_or_a_revoked_link_cannot_ask_for_the_child():
    world = text_world()
    with pytest.raises(NotYourPerson):
        _open(world, by=UserFactory())
    world.child.links.filter(account=world.parent).update(revoked_at=timezone.now())
    with pytest.raises(NotYourPerson):
        _open(world)
    assert not TextConsult.objects.exists()


def test_ten_photos_or_a_file_that_is_not_a_photo_are_refused_and_nothing_is_stored():
    world = text_world()
    with pytest.raises(TooManyPhotos):
        _open(world, photos=[png() for _ in range(10)])
    page = SimpleUploadedFile("rash.png", b"<html><script>x</script>", content_type="image/png")
    with pytest.raises(PhotoRefused):
        _open(world, photos=[page])
    pdf = SimpleUploadedFile("a.pdf", b"%PDF-1.4\n%%EOF\n", content_type="application/pdf")
    with pytest.raises(PhotoRefused):
        _open(world, photos=[pdf])
    assert not Attachment.objects.exists() and not Encounter.objects.exists()


def test_the_doctor_answers_the_family_is_told_and_a_stranger_cannot_write():
    world = text_world()
    consult = _open(world)
    text_consult_reply(consult=consult, by=world.doctor_user, text="请拍一张近照。", photos=[png()])
    assert OutboxMessage.objects.filter(account=world.parent, kind="text_consult.answer").exists()
    text_consult_reply(consult=consult, by=world.parent, text="好的", photos=[photo()])
    _other_doctor, other_user = doctor_account()
    with pytest.raises(NotYourPerson):
        text_consult_reply(consult=consult, by=other_user, text="hello")
    assert consult.messages.count() == 3


def test_only_the_consults_doctor_asks_to_book_or_closes():
    world = text_world()
    consult = _open(world)
    with pytest.raises(NotTheDoctor):
        text_consult_ask_to_book(consult=consult, by=world.parent, mode="online")
    with pytest.raises(NotTheDoctor):
        text_consult_close(consult=consult, by=world.parent)
    message = text_consult_ask_to_book(consult=consult, by=world.doctor_user, mode="online")
    assert message.book_mode == "online"
    assert OutboxMessage.objects.filter(account=world.parent, kind="text_consult.book").exists()
    text_consult_close(consult=consult, by=world.doctor_user)
    consult.refresh_from_db()
    assert consult.outcome == TextConsult.Outcome.CLOSED_BY_DOCTOR
    assert consult.encounter.status == Encounter.Status.CLOSED
    with pytest.raises(ConsultIsClosed):
        text_consult_reply(consult=consult, by=world.parent, text="还在吗？")


def test_unanswered_for_24_hours_it_closes_once_with_no_fee():
    world = text_world()
    start = timezone.now()
    with time_machine.travel(start, tick=False):
        consult = _open(world)
    with time_machine.travel(start + dt.timedelta(hours=23, minutes=59), tick=False):
        assert text_consults_close_due() == 0
    with time_machine.travel(start + dt.timedelta(hours=24), tick=False):
        assert text_consults_close_due() == 1
        assert text_consults_close_due() == 0
    consult.refresh_from_db()
    assert consult.status == "closed" and consult.outcome == TextConsult.Outcome.UNANSWERED
    assert AuditEvent.objects.filter(action="text_consult.close").count() == 1
    told = OutboxMessage.objects.filter(account=world.parent, kind="text_consult.closed")
    assert told.filter(channel="inapp").count() == 1


def test_answered_it_closes_48_hours_after_the_doctors_last_message():
    world = text_world()
    start = timezone.now()
    with time_machine.travel(start, tick=False):
        consult = _open(world)
    with time_machine.travel(start + dt.timedelta(hours=20), tick=False):
        text_consult_reply(consult=consult, by=world.doctor_user, text="first answer")
    with time_machine.travel(start + dt.timedelta(hours=30), tick=False):
        text_consult_reply(consult=consult, by=world.doctor_user, text="second answer")
        # The family's messages do not keep it open.
        text_consult_reply(consult=consult, by=world.parent, text="thanks")
    with time_machine.travel(start + dt.timedelta(hours=77, minutes=59), tick=False):
        assert text_consults_close_due() == 0
    with time_machine.travel(start + dt.timedelta(hours=78), tick=False):
        assert text_consults_close_due() == 1
    with time_machine.travel(start + dt.timedelta(hours=200), tick=False):
        assert text_consults_close_due() == 0
    consult.refresh_from_db()
    assert consult.outcome == TextConsult.Outcome.ANSWERED
    assert TextConsultMessage.objects.filter(consult=consult).count() == 4


@pytest.mark.parametrize(
    "kind",
    [
        "text_consult.question",
        "text_consult.reply",
        "text_consult.answer",
        "text_consult.book",
        "text_consult.closed",
    ],
)
def test_every_message_reads_in_both_languages_from_its_snapshot(kind):
    from notifications.render import message_render

    world = text_world()
    consult = _open(world)
    row = (
        OutboxMessage.objects.filter(kind=kind).first() if kind == "text_consult.question" else None
    )
    params = (
        row.params
        if row
        else {
            "tz": "Asia/Shanghai",
            "doctor": {"zh-hans": "周若溪", "en": "Zhou Ruoxi"},
            "patient": "王小明",
            "path": "/text-consults/",
            "link": f"/text-consults/{consult.encounter.public_id}/",
            "outcome": "unanswered",
        }
    )
    chinese = message_render(kind=kind, params=params, language="zh-hans")
    english = message_render(kind=kind, params=params, language="en")
    assert "图文问诊" in chinese.inbox + chinese.sms[0] or "预约" in chinese.sms[0]
    assert "text consult" in (english.inbox + english.sms[0]).lower() or "visit" in english.sms[0]
    # One text message each, its link whole; the inbox opens the thread itself.
    assert len(chinese.sms) == 1 and len(english.sms) == 1
    assert chinese.sms[0].endswith("text-consults/") and english.sms[0].endswith("text-consults/")
    assert chinese.link == f"/text-consults/{consult.encounter.public_id}/"
    # No question text in an SMS: only who, and the link.
    assert "红疹" not in " ".join(chinese.sms + english.sms)
