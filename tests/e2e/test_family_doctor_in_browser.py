"""Family doctors in a real browser (issue 20): a parent signs a child with a clinic's team on
a phone; the team's GP sees the child on the panel with the chronic problem and the overdue
follow-up. Both pages fit 390 px and 1280 px in Chinese and English."""

from __future__ import annotations

import datetime as dt
import os
from pathlib import Path

import pytest

from appointments.familydoctors.models import FamilySigning, FollowUpTask
from appointments.familydoctors.services import followup_plan_set
from records.models import Problem
from tests.appointments.conftest import person
from tests.conftest import with_totp
from tests.familydoctors.conftest import clinic_team
from tests.sockets import browser_session_cookie

pytestmark = pytest.mark.django_db(transaction=True)

# Screenshots only when asked for (SHOTS_DIR=/tmp/shots-familydoc), to be looked at.
SHOTS = Path(os.environ["SHOTS_DIR"]) if os.environ.get("SHOTS_DIR") else None


def _context(browser, live_server, user, language, width):
    context = browser.new_context(viewport={"width": width, "height": 900})
    context.add_cookies(
        [
            browser_session_cookie(user, live_server.url),
            {"name": "django_language", "value": language, "url": live_server.url},
        ]
    )
    page = context.new_page()
    page.set_default_timeout(15_000)
    return context, page


def _shoot(page, name: str) -> None:
    if SHOTS:
        page.screenshot(path=str(SHOTS / f"{name}.png"), full_page=True)


def test_a_parent_signs_a_child_and_the_team_sees_the_follow_up_due(browser, live_server):
    if SHOTS:
        SHOTS.mkdir(exist_ok=True)
    team = clinic_team(name="阳光家庭医生团队")
    clinic = team.clinic
    clinic.name, clinic.name_en = "江北社区卫生服务中心", "Jiangbei Community Clinic"
    clinic.save(update_fields=["name", "name_en"])
    child, parent = person(
        relationship="child", name="王小雨", birth_date=dt.date(2019, 3, 1), sex="female"
    )
    grandmother, _ = person(parent, relationship="parent", name="李秀英", sex="female")

    context, page = _context(browser, live_server, parent, "en", 390)
    try:
        page.goto(live_server.url + "/me/family-doctor/")
        _shoot(page, "family-form-en-390")
        section = page.locator("section", has_text="王小雨")
        section.get_by_label("Team", exact=True).select_option(
            label=f"阳光家庭医生团队 · {team.gp.name_en}"
        )
        section.get_by_role("checkbox").check()
        section.get_by_role("button", name="Sign with this team").click()
        page.wait_for_selector("text=Signed. The team has been told.")
    finally:
        context.close()
    signing = FamilySigning.objects.get(patient=child)
    assert signing.on_behalf == "guardian"
    # The grandmother signs too, from the parent's account (she is an adult: on her behalf).
    from appointments.familydoctors.services import signing_create

    gm_signing = signing_create(patient=grandmother, team=team, by=parent, consent=True)
    Problem.objects.create(
        patient=grandmother,
        description="原发性高血压",
        icd10_code="I10",
        hospital=clinic,
        recorded_by=team.gp.user,
    )
    plan = followup_plan_set(
        signing=gm_signing, by=team.gp.user, interval_months=3, label="血压随访"
    )
    FollowUpTask.objects.filter(pk=plan.tasks.order_by("due_on").first().pk).update(
        due_on=dt.date.today() - dt.timedelta(days=2)
    )

    gp = with_totp(team.gp.user)
    for language in ("zh-hans", "en"):
        for width in (390, 1280):
            context, page = _context(browser, live_server, parent, language, width)
            try:
                page.goto(live_server.url + "/me/family-doctor/")
                assert page.evaluate("document.documentElement.scrollWidth") <= width
                _shoot(page, f"family-{language}-{width}")
            finally:
                context.close()
            context, page = _context(browser, live_server, gp, language, width)
            try:
                page.goto(f"{live_server.url}/doctor/family/{team.public_id}/")
                main = page.locator("main").inner_text()
                assert "李秀英" in main and "I10" in main and "血压随访" in main
                assert page.evaluate("document.documentElement.scrollWidth") <= width
                _shoot(page, f"panel-{language}-{width}")
            finally:
                context.close()
