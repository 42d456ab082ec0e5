"""Every page of the site runs under the Content-Security-Policy without one violation.

The route list is the security suite's (tests/security/routes.py: read from the URL resolver),
so a new page is swept without anybody listing it. Each GET route is loaded in Chromium as a
role the policy table (tests/security/policy.py) says gets 200, in the world of
tests/security/world.py; every `securitypolicyviolation` event and every console message about
the policy is a failure. The doctor's editors swap the clinical workspace in place (htmx): one
swap in the consult room and one on the visit page must not cause a violation either.
"""

from __future__ import annotations

import shutil
import tempfile
import time
from urllib.parse import urlencode

import pytest
from channels.testing import ChannelsLiveServerTestCase
from django.conf import settings
from django.test import Client, override_settings

from telemedicine.services import consultation_admit
from tests.conftest import sign_in_recently
from tests.e2e.conftest import htmx_at_rest
from tests.security.matrix import url_for, value_of
from tests.security.policy import GROUPS, OK, POLICY, group_of
from tests.security.routes import http_routes
from tests.security.world import build_world

# Every violation the page reports, whoever caused it (Playwright injects this outside the CSP).
RECORD_VIOLATIONS = """
window.__cspViolations = [];
document.addEventListener("securitypolicyviolation", (event) => {
  window.__cspViolations.push(event.violatedDirective + " " + (event.blockedURI || "inline"));
});
"""

# Which role loads a page when several get 200: the one that sees the most of it (the treating
# doctor sees the record's editors, patient A her own people, X's admin the console).
PREFERENCE = (
    "doctor_care",
    "patient_a",
    "admin_x",
    "desk_x",
    "platform_admin",
    "doctor_nocare",
    "admin_y",
    "patient_b",
    "revoked",
    "anonymous",
)
# Third-party families: allauth's pages as a visitor would see them, the admin as its admin.
GROUP_ROLE = {"allauth.": "anonymous", "django.contrib.admin": "platform_admin"}


def role_for(rule) -> str | None:
    """A role the policy table says gets 200 for this GET, or None (a POST-only endpoint)."""
    return next((role for role in PREFERENCE if rule.get[role] is OK), None)


# The live server is a forked process: the world's attachment must be on a disk it reads, not
# in the test process's memory (tests/settings.py's InMemoryStorage).
MEDIA = tempfile.mkdtemp(prefix="csp-sweep-media-")


@override_settings(
    STORAGES={
        "default": {
            "BACKEND": "django.core.files.storage.FileSystemStorage",
            "OPTIONS": {"location": MEDIA},
        },
        "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
    }
)
class UnderThePolicy(ChannelsLiveServerTestCase):
    """The world in a live server, and Chromium recording violations. One test per class: the
    live server is forked once per class and caches content-type ids, which the flush after a
    test renumbers (the audit trail's next write would then fail on a stale id)."""

    serve_static = True

    @classmethod
    def tearDownClass(cls):
        super().tearDownClass()
        shutil.rmtree(MEDIA, ignore_errors=True)

    @pytest.fixture(autouse=True)
    def _chromium(self, browser):
        self.browser = browser

    def setUp(self):
        super().setUp()
        self.world = build_world()
        self.contexts = {}
        self.console: list[str] = []

    def tearDown(self):
        for context in self.contexts.values():
            context.close()
        super().tearDown()

    def page_as(self, role: str):
        """One browser context per role, signed in (just now: the pages behind allauth's
        reauthentication open too), recording every violation."""
        if role not in self.contexts:
            context = self.browser.new_context(viewport={"width": 390, "height": 844})
            user = self.world.users[role]
            if user is not None:
                client = Client()
                sign_in_recently(client, user)
                session = client.cookies[settings.SESSION_COOKIE_NAME].value
                context.add_cookies(
                    [
                        {
                            "name": settings.SESSION_COOKIE_NAME,
                            "value": session,
                            "url": self.live_server_url,
                        }
                    ]
                )
            context.add_init_script(RECORD_VIOLATIONS)
            self.contexts[role] = context
        context = self.contexts[role]
        if not context.pages:
            page = context.new_page()
            page.set_default_timeout(15_000)
            page.on(
                "console",
                lambda message: (
                    self.console.append(message.text)
                    if "Content Security Policy" in message.text
                    else None
                ),
            )
        return context.pages[0]

    def violations(self, page) -> list[str]:
        found = page.evaluate("window.__cspViolations") + self.console
        self.console.clear()
        return found

    def load(self, role: str, path: str) -> tuple[object, list[str]]:
        """Load one page as the role: its response (None for a download) and its violations."""
        page = self.page_as(role)
        self.console.clear()
        try:
            response = page.goto(self.live_server_url + path)
        except Exception as error:  # Playwright's Error: a download, or an answer without a body
            if "Download is starting" in str(error):
                return None, []
            if "ERR_HTTP_RESPONSE_CODE_FAILURE" in str(error):
                # Chromium goes on to its own error page, which would cut the next navigation
                # short: the role's next page starts in a new tab.
                page.close()
                return "empty", []
            raise
        page.wait_for_load_state("load")
        return response, self.violations(page)


class EveryPageUnderThePolicy(UnderThePolicy):
    def test_every_get_route_loads_without_a_violation(self):
        started = time.monotonic()
        world = self.world
        routes = {route.name: route for route in http_routes()}
        problems: dict[str, list[str]] = {}
        wrong_status: list[str] = []
        pages = other = downloads = post_only = empty = 0
        for name, route in routes.items():
            group = group_of(route)
            if group is not None:
                rule, role = GROUPS[group], GROUP_ROLE[group]
                expect_ok = False
            else:
                rule = POLICY[name]
                role = role_for(rule)
                expect_ok = True
                if role is None:
                    post_only += 1
                    continue
            path = url_for(route, rule if group is None else None, world)
            query = {key: value_of(world, text) for key, text in rule.query.items()}
            if query:
                path += "?" + urlencode(query)
            response, found = self.load(role, path)
            if found:
                problems[f"{name} as {role} ({path})"] = found
            if response is None:
                downloads += 1
                continue
            if response == "empty":  # e.g. the admin's logout, which is POST only (405)
                empty += 1
                if expect_ok:
                    wrong_status.append(f"{name} as {role}: an answer without a body")
                continue
            if "text/html" not in response.headers.get("content-type", ""):
                # JSON, iCalendar, FHIR: shown as text; their status is the matrix's business
                # (/healthz may say 503 on a loaded machine: its channel-layer check is timed).
                other += 1
                continue
            pages += 1
            if expect_ok and response.status != 200:
                wrong_status.append(f"{name} as {role}: {response.status}")
        elapsed = time.monotonic() - started
        print(
            f"\nCSP sweep: {pages} HTML pages loaded in Chromium, and {other} other documents, "
            f"{downloads} downloads, {empty} answers without a body; {post_only} POST-only "
            f"routes skipped; {elapsed:.0f} s"
        )

        assert (problems, wrong_status) == ({}, [])
        assert pages > 80


class EditorSwapsUnderThePolicy(UnderThePolicy):
    def swap_an_editor(self, path: str) -> list[str]:
        """The treating doctor makes the note's box taller (dragging its corner, as one does
        for a long history), types and saves a draft: htmx swaps the workspace in place."""
        page = self.page_as("doctor_care")
        self.console.clear()
        page.goto(self.live_server_url + path)
        if path.startswith("/consult/"):
            # The room learns over its socket that the consult is live and reloads the
            # workspace once (htmx): resize the box that reload leaves, not the one it replaces.
            page.wait_for_selector("body.consult-live")
        htmx_at_rest(page)
        page.evaluate("window.loadedOnce = true")
        subjective = page.get_by_label("Subjective")
        subjective.scroll_into_view_if_needed()
        box = subjective.bounding_box()
        corner = (box["x"] + box["width"] - 3, box["y"] + box["height"] - 3)
        page.mouse.move(*corner)
        page.mouse.down()
        page.mouse.move(corner[0], corner[1] + 80, steps=4)
        page.mouse.up()
        assert subjective.get_attribute("style")  # the browser sized it: a style attribute
        subjective.fill("Dry cough for three days")
        page.get_by_role("button", name="Save draft").click()
        page.wait_for_selector(".note-draft:has-text('Dry cough for three days')")
        htmx_at_rest(page)
        assert page.evaluate("window.loadedOnce") is True  # swapped, not reloaded
        return self.violations(page)

    def test_an_editor_swap_in_the_consult_room_and_on_the_visit_page_causes_no_violation(self):
        world = self.world
        consultation = world.objects["consultation"]
        # The consult is live: its encounter is open and the room shows the doctor's editors.
        consultation_admit(consultation=consultation, by=world.users["doctor_care"])
        room = f"/consult/{consultation.public_id}/"
        visit = f"/doctor/visit/{world.objects['arrived'].code}/"

        assert {"room": self.swap_an_editor(room), "visit": self.swap_an_editor(visit)} == {
            "room": [],
            "visit": [],
        }
