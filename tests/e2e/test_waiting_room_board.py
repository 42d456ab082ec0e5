"""The waiting-room board on a 1920×1080 TV: the called number is at least 120 px tall, the room
stands beside the doctor, and once sound is enabled (one tap) a newly called number is spoken
in Chinese through the browser's speech synthesis."""

from __future__ import annotations

import pytest
from django.utils import timezone

from appointments.services import appointment_check_in, queue_call_next
from tests.appointments.conftest import SHANGHAI, appointment_at, clerk_of
from tests.factories import DoctorFactory, HospitalFactory, PatientFactory, UserFactory
from tests.sockets import browser_session_cookie

pytestmark = pytest.mark.django_db(transaction=True)

# Records every utterance instead of (also) speaking it: headless Chromium has no voices.
RECORD_SPEECH = """
window.__spoken = [];
if (window.speechSynthesis) {
  const speak = window.speechSynthesis.speak.bind(window.speechSynthesis);
  window.speechSynthesis.speak = function (utterance) {
    window.__spoken.push({ text: utterance.text, lang: utterance.lang });
    try { speak(utterance); } catch (error) { /* no voice: fine */ }
  };
}
"""


def test_the_board_is_readable_across_the_room_and_speaks_the_call_in_chinese(browser, live_server):
    hospital = HospitalFactory(slug="board")
    doctor = DoctorFactory(department__hospital=hospital, user=UserFactory(), room="2楼 205诊室")
    clerk = clerk_of(hospital)
    now = timezone.now().astimezone(SHANGHAI)
    for hour, name in ((now.hour, "张晓明"), (now.hour, "李建国")):
        appointment = appointment_at(
            hospital, doctor=doctor, day=now, hour=hour, patient=PatientFactory(name=name)
        )
        appointment_check_in(appointment=appointment, by=clerk, at_desk=True)
    queue_call_next(doctor=doctor, by=doctor.user)  # A001 is called before the screen is on

    context = browser.new_context(viewport={"width": 1920, "height": 1080}, locale="zh-CN")
    context.add_cookies([browser_session_cookie(clerk, live_server.url)])
    context.add_init_script(RECORD_SPEECH)
    page = context.new_page()
    page.set_default_timeout(15_000)
    try:
        page.goto(live_server.url + "/desk/display/board/")
        number = page.locator(".display-number").first
        assert number.inner_text() == "A001"
        assert number.bounding_box()["height"] >= 120
        assert page.locator(".display-doctor [data-room]").inner_text() == "2楼 205诊室"

        page.get_by_role("button", name="开启语音叫号").click()
        queue_call_next(doctor=doctor, by=doctor.user)  # A002, seen at the next reload
        page.evaluate("document.body.dispatchEvent(new CustomEvent('display-refresh'))")
        # A bounded wait (the page's CSP refuses wait_for_function's eval).
        for _ in range(150):
            spoken = page.evaluate("window.__spoken.filter((u) => u.text)")
            if spoken:
                break
            page.wait_for_timeout(100)
    finally:
        context.close()

    assert spoken == [{"text": "请A 0 0 2号李*国到2楼 205诊室就诊。", "lang": "zh-CN"}]
