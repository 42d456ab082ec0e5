"""The waiting-room display /desk/display/<slug>/: only the hospital's own desk and admins see
it (404 for everyone else, 4403 on its socket); it shows numbers and masked names, never a
full name or an ID number; "call next" reaches it live over a real channel layer."""

from __future__ import annotations

import pytest
import time_machine
from channels.db import database_sync_to_async
from django.utils import timezone

from appointments.selectors import masked_name
from appointments.services import appointment_check_in, queue_call_next
from tests.appointments.conftest import MORNING, SHANGHAI, appointment_at, clerk_of
from tests.factories import (
    DoctorFactory,
    HospitalFactory,
    PatientFactory,
    StaffMembershipFactory,
    UserFactory,
)
from tests.sockets import TIMEOUT, async_test, open_socket


def test_names_are_masked_for_the_waiting_room():
    assert masked_name("张晓明") == "张*明"
    assert masked_name("欧阳娜娜") == "欧**娜"
    assert masked_name("王芳") == "王*"
    assert masked_name("Li Lei") == "L***i"
    assert masked_name("张") == "张"


@pytest.fixture
def hospital(db):
    return HospitalFactory(slug="yuehu")


@pytest.fixture
def called_day(hospital):
    """At 08:00: 张晓明 called in by Dr A, 李建国 waiting."""
    with time_machine.travel(MORNING, tick=False):
        doctor = DoctorFactory(department__hospital=hospital, user=UserFactory())
        clerk = clerk_of(hospital)
        first = appointment_at(hospital, doctor=doctor, patient=PatientFactory(name="张晓明"))
        second = appointment_at(
            hospital, doctor=doctor, hour=10, patient=PatientFactory(name="李建国")
        )
        for appointment in (first, second):
            appointment_check_in(appointment=appointment, by=clerk, at_desk=True)
        queue_call_next(doctor=doctor, by=doctor.user)
        yield first, second


@pytest.mark.django_db
def test_the_display_shows_the_called_number_with_a_masked_name_only(client, hospital, called_day):
    first, second = called_day
    client.force_login(clerk_of(hospital))
    with time_machine.travel(MORNING, tick=False):
        page = client.get("/desk/display/yuehu/").content.decode()
        board = client.get("/desk/display/yuehu/board/").content.decode()

    for html in (page, board):
        assert "A001" in html and "张*明" in html and "A002" in html
        assert "张晓明" not in html and "李建国" not in html and "李*国" not in html
        assert first.patient.id_number_masked not in html
        assert second.patient.id_number_masked not in html
        assert first.patient.id_number[-4:] not in html
    assert 'data-display-socket="/ws/desk/display/yuehu/"' in page


@pytest.mark.django_db
def test_the_display_is_404_for_anyone_but_the_hospitals_desk(client, hospital, platform_admin):
    other_desk = clerk_of(HospitalFactory())
    doctor = clerk_of(hospital, role="doctor")
    admin = clerk_of(hospital, role="hospital_admin")
    for user, status in (
        (other_desk, 404),
        (doctor, 404),
        (UserFactory(), 404),
        (admin, 200),
        (platform_admin, 200),
    ):
        client.force_login(user)
        assert client.get("/desk/display/yuehu/").status_code == status, user
        assert client.get("/desk/display/yuehu/board/").status_code == status, user
    client.force_login(admin)
    assert client.get("/desk/display/no-such-hospital/").status_code == 404
    client.logout()
    assert client.get("/desk/display/yuehu/").status_code == 302


# --- The socket -------------------------------------------------------------------------------


async def display_socket(slug: str, user=None):
    return await open_socket(f"/ws/desk/display/{slug}/", user)


@pytest.fixture
def redis_layer(settings, redis_url):
    """channels-redis on the test's own Redis database, whatever the environment chose."""
    settings.CHANNEL_LAYERS = {
        "default": {
            "BACKEND": "channels_redis.core.RedisChannelLayer",
            "CONFIG": {"hosts": [redis_url], "prefix": "tests:desk"},
        }
    }


def _today_in_shanghai():
    return timezone.now().astimezone(SHANGHAI).replace(minute=0, second=0, microsecond=0)


@pytest.mark.django_db(transaction=True)
@async_test
async def test_call_next_reaches_the_display_over_channels_redis(hospital, redis_layer):
    @database_sync_to_async
    def day():
        doctor = DoctorFactory(department__hospital=hospital, user=UserFactory())
        clerk = clerk_of(hospital)
        appointment = appointment_at(
            hospital,
            doctor=doctor,
            day=_today_in_shanghai(),
            hour=12,
            patient=PatientFactory(name="张晓明"),
        )
        return doctor, clerk, appointment

    doctor, clerk, appointment = await day()
    display = await display_socket("yuehu", clerk)
    try:
        await database_sync_to_async(appointment_check_in)(
            appointment=appointment, by=clerk, at_desk=True
        )
        assert await display.receive_json_from(timeout=TIMEOUT) == {"type": "queue.changed"}

        await database_sync_to_async(queue_call_next)(doctor=doctor, by=doctor.user)

        assert await display.receive_json_from(timeout=TIMEOUT) == {
            "type": "queue.called",
            "number": "A001",
            "patient": "张*明",
            "doctor": doctor.pk,
        }
    finally:
        await display.disconnect()


@pytest.mark.django_db(transaction=True)
@async_test
async def test_other_hospitals_and_anonymous_sockets_are_closed_with_4403(hospital):
    other_desk = await database_sync_to_async(clerk_of)(
        await database_sync_to_async(HospitalFactory)()
    )
    doctor = await database_sync_to_async(clerk_of)(hospital, "doctor")
    no_second_factor = await database_sync_to_async(
        lambda: StaffMembershipFactory(hospital=hospital, role="front_desk").user
    )()
    own = await database_sync_to_async(clerk_of)(hospital)
    for user, slug in (
        (other_desk, "yuehu"),
        (doctor, "yuehu"),
        (no_second_factor, "yuehu"),
        (None, "yuehu"),
        (own, "no-such-hospital"),
    ):
        socket = await display_socket(slug, user)
        try:
            output = await socket.receive_output(timeout=TIMEOUT)
            assert output == {"type": "websocket.close", "code": 4403}, (user, slug)
        finally:
            await socket.disconnect()


@pytest.mark.django_db
@pytest.mark.parametrize("doctors", [1, 3])
def test_the_board_reads_in_a_fixed_number_of_queries(
    client, hospital, doctors, django_assert_num_queries
):
    with time_machine.travel(MORNING, tick=False):
        clerk = clerk_of(hospital)
        for _ in range(doctors):
            doctor = DoctorFactory(department__hospital=hospital, user=UserFactory())
            for hour in (9, 10):
                appointment_check_in(
                    appointment=appointment_at(hospital, doctor=doctor, hour=hour),
                    by=clerk,
                    at_desk=True,
                )
            queue_call_next(doctor=doctor, by=doctor.user)
        client.force_login(clerk)
        client.get("/desk/display/yuehu/board/")  # warm the session

        # session, user with its staff roles (one read), desk hospitals, the queues with
        # their doctors, their appointments, the unread badge (context processor)
        with django_assert_num_queries(7):
            board = client.get("/desk/display/yuehu/board/").content.decode()

    assert board.count('class="display-line"') == doctors
    assert board.count("001</span>") == doctors  # each doctor's first number is being called
