from __future__ import annotations

from dataclasses import dataclass

from django.http import HttpRequest
from django.urls import NoReverseMatch, reverse
from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _

from hospitals.models import StaffMembership
from hospitals.selectors import hospital_roles

Role = StaffMembership.Role


@dataclass(frozen=True)
class NavItem:
    url_name: str
    label: str | Promise
    # "everyone", "account" (any signed-in account), "platform" (Django staff), or the hospital
    # roles that see it (a platform admin sees every staff entry).
    audience: str | tuple[str, ...]


# The whole site's navigation in one place. An entry whose page has not landed yet (its URL
# name does not resolve) is left out, so each issue's pages appear as they arrive.
NAV = (
    NavItem("home", _("Home"), "everyone"),
    NavItem("search", _("Find care"), "everyone"),
    NavItem("hospital_list", _("Hospitals"), "everyone"),
    NavItem("appointment_list", _("My appointments"), "account"),
    NavItem("patient_list", _("My family"), "account"),
    NavItem("record_mine", _("My record"), "account"),
    NavItem("notification_list", _("Messages"), "account"),
    NavItem("family_doctor", _("Family doctor"), "account"),
    NavItem("doctor_day", _("My day"), (Role.DOCTOR,)),
    NavItem("family_teams_mine", _("My panel"), (Role.DOCTOR, Role.NURSE)),
    NavItem("desk", _("Front desk"), (Role.FRONT_DESK, Role.HOSPITAL_ADMIN)),
    NavItem("manage", _("Manage"), (Role.HOSPITAL_ADMIN,)),
    NavItem("admin:index", _("Platform admin"), "platform"),
)


def _visible(item: NavItem, user) -> bool:
    if item.audience == "everyone":
        return True
    if not user.is_authenticated:
        return False
    if item.audience == "account":
        return True
    if item.audience == "platform" or user.is_superuser:
        return bool(user.is_staff)
    # Cached on the user by the MFA middleware's check: no query of its own.
    return not hospital_roles(user=user).isdisjoint(item.audience)


def site_shell(request: HttpRequest) -> dict:
    user = getattr(request, "user", None)
    items = []
    for item in NAV:
        if user is None or not _visible(item, user):
            continue
        try:
            url = reverse(item.url_name)
        except NoReverseMatch:
            continue
        active = request.path == url if url == "/" else request.path.startswith(url)
        items.append({"name": item.url_name, "url": url, "label": item.label, "active": active})
    return {"nav_items": items}
