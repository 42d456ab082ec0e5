from __future__ import annotations

from dataclasses import dataclass

from django.http import HttpRequest
from django.urls import NoReverseMatch, reverse
from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _

from hospitals.selectors import user_is_hospital_staff


@dataclass(frozen=True)
class NavItem:
    url_name: str
    label: str | Promise
    audience: str  # "everyone" | "account" | "staff" | "platform"


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
    NavItem("doctor_day", _("My day"), "staff"),
    NavItem("desk", _("Front desk"), "staff"),
    NavItem("manage", _("Manage"), "staff"),
    NavItem("admin:index", _("Platform admin"), "platform"),
)


def _visible(item: NavItem, user) -> bool:
    if item.audience == "everyone":
        return True
    if not user.is_authenticated:
        return False
    if item.audience == "account":
        return True
    if item.audience == "staff":
        # Hospital staff are not Django staff; the MFA middleware has already cached this.
        return bool(user.is_staff) or user_is_hospital_staff(user=user)
    return bool(user.is_staff)


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
        items.append({"url": url, "label": item.label, "active": active})
    return {"nav_items": items}
