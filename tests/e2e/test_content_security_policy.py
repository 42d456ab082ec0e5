"""The main pages run under the Content-Security-Policy without one violation: no inline script,
no inline style, nothing from another origin (checked in Chromium, which reports each one)."""

from __future__ import annotations

import pytest
from channels.testing import ChannelsLiveServerTestCase
from django.urls import reverse

from tests.conftest import with_totp
from tests.factories import StaffFactory, StaffMembershipFactory, UserFactory
from tests.sockets import browser_session_cookie
from tests.telemedicine.conftest import open_room

# Every violation the page reports, whoever caused it (Playwright injects this outside the CSP).
RECORD_VIOLATIONS = """
window.__cspViolations = [];
document.addEventListener("securitypolicyviolation", (event) => {
  window.__cspViolations.push(event.violatedDirective + " " + (event.blockedURI || "inline"));
});
"""

INLINE_STYLE_CONTROL = """
document.body.insertAdjacentHTML("beforeend", '<b style="color:red">x</b>');
"""


class PagesUnderTheContentSecurityPolicy(ChannelsLiveServerTestCase):
    serve_static = True

    @pytest.fixture(autouse=True)
    def _chromium(self, browser):
        self.browser = browser

    def visit(self, paths: list[str], user=None, control: bool = False) -> dict[str, list[str]]:
        context = self.browser.new_context(viewport={"width": 390, "height": 844})
        problems: dict[str, list[str]] = {}
        try:
            if user is not None:
                context.add_cookies([browser_session_cookie(user, self.live_server_url)])
            context.add_init_script(RECORD_VIOLATIONS)
            page = context.new_page()
            page.set_default_timeout(15_000)
            console: list[str] = []
            page.on(
                "console",
                lambda message: (
                    console.append(message.text)
                    if "Content Security Policy" in message.text
                    else None
                ),
            )
            for path in paths:
                console.clear()
                response = page.goto(self.live_server_url + path)
                assert response is not None and response.status == 200, (path, response.status)
                assert "script-src 'self'" in response.headers["content-security-policy"]
                page.wait_for_load_state("load")
                found = page.evaluate("window.__cspViolations") + console
                if found:
                    problems[path] = found
            if control:
                # The listener hears a real violation: an inline style the policy must refuse.
                page.evaluate(INLINE_STYLE_CONTROL)
                page.wait_for_function("window.__cspViolations.length > 0")
        finally:
            context.close()
        return problems

    def test_public_pages_report_no_violation(self):
        appointment, _patient, _doctor = open_room()
        doctor = appointment.slot.doctor
        paths = [
            "/",
            "/search/",
            "/hospitals/",
            f"/hospitals/{doctor.department.hospital.slug}/",
            f"/doctors/{doctor.pk}/",
            reverse("account_login"),
            reverse("account_signup"),
            reverse("account_reset_password"),
        ]

        assert self.visit(paths, control=True) == {}

    def test_patient_pages_and_the_consult_room_report_no_violation(self):
        appointment, patient, _doctor = open_room()
        paths = [
            "/appointments/",
            f"/appointments/{appointment.code}/",
            "/me/patients/",
            "/me/notifications/",
            reverse("account_email"),
            f"/consult/{appointment.consultation.public_id}/",
        ]

        assert self.visit(paths, user=patient) == {}

    def test_staff_pages_and_mfa_set_up_report_no_violation(self):
        appointment, _patient, doctor_account = open_room()
        hospital = appointment.slot.doctor.department.hospital
        admin = with_totp(UserFactory())
        StaffMembershipFactory(user=admin, hospital=hospital, role="hospital_admin")
        with_totp(doctor_account)
        newcomer = StaffFactory()  # no second factor yet: sent to TOTP set-up (a QR code)

        assert self.visit([f"/manage/{hospital.slug}/"], user=admin) == {}
        assert self.visit(["/doctor/"], user=doctor_account) == {}
        assert self.visit([reverse("mfa_activate_totp")], user=newcomer) == {}
