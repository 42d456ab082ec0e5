"""The desk scans the QR code on a patient's phone with the camera: Chromium's fake camera
plays a video of the appointment page's QR code, the vendored jsQR reads it, the desk finds
the appointment and checks the patient in."""

from __future__ import annotations

import pytest
import segno
from django.utils import timezone

from appointments.models import Appointment
from tests.appointments.conftest import SHANGHAI, appointment_at, clerk_of
from tests.e2e.conftest import CHROMIUM, CHROMIUM_ARGS
from tests.factories import HospitalFactory
from tests.sockets import browser_session_cookie

pytestmark = pytest.mark.django_db(transaction=True)

WIDTH, HEIGHT = 640, 480


def qr_video(text: str, path) -> None:
    """A few frames of raw 4:2:0 video (Y4M) showing the QR code, black on white, centred."""
    matrix = [list(row) for row in segno.make(text, error="m", micro=False).matrix_iter(border=4)]
    scale = min(WIDTH, HEIGHT) // len(matrix)
    left = (WIDTH - len(matrix) * scale) // 2
    top = (HEIGHT - len(matrix) * scale) // 2
    luma = bytearray(b"\xff" * (WIDTH * HEIGHT))
    for y, row in enumerate(matrix):
        for x, dark in enumerate(row):
            if dark:
                for dy in range(scale):
                    start = (top + y * scale + dy) * WIDTH + left + x * scale
                    luma[start : start + scale] = b"\x00" * scale
    chroma = b"\x80" * (WIDTH * HEIGHT // 4)
    with open(path, "wb") as video:
        video.write(f"YUV4MPEG2 W{WIDTH} H{HEIGHT} F10:1 Ip A1:1 C420jpeg\n".encode())
        for _frame in range(5):
            video.write(b"FRAME\n" + bytes(luma) + chroma + chroma)


def test_the_desk_reads_the_qr_code_with_the_camera_and_checks_in(browser, live_server, tmp_path):
    hospital = HospitalFactory()
    clerk = clerk_of(hospital)
    today = timezone.now().astimezone(SHANGHAI)
    appointment = appointment_at(hospital, day=today, hour=today.hour, code="CAM2QR7K")
    video = tmp_path / "qr.y4m"
    qr_video(appointment.code, video)
    camera = [
        "--use-fake-device-for-media-stream",
        "--use-fake-ui-for-media-stream",
        f"--use-file-for-fake-video-capture={video}",
    ]

    # A Chromium of its own, with a fake camera, from the session's Playwright.
    with_camera = browser.browser_type.launch(
        executable_path=CHROMIUM, args=[*CHROMIUM_ARGS, *camera]
    )
    try:
        context = with_camera.new_context(viewport={"width": 390, "height": 844}, locale="en-US")
        context.add_cookies(
            [
                browser_session_cookie(clerk, live_server.url),
                {"name": "django_language", "value": "en", "url": live_server.url},
            ]
        )
        page = context.new_page()
        page.set_default_timeout(20_000)
        # localhost is a secure context: the camera may be asked for.
        page.goto(live_server.url + "/desk/")
        page.get_by_role("button", name="Scan with camera").click()
        page.wait_for_selector("h2:has-text('CAM2QR7K ·')")
        page.get_by_role("button", name="Check in").click()
        page.wait_for_selector("text=is checked in: queue number A001.")
    finally:
        with_camera.close()

    assert Appointment.objects.get(pk=appointment.pk).status == "checked_in"
