"""The in-app inbox: /me/notifications/ (thin: selectors read, services change)."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_POST

from accounts.services import account_message_channels_set
from notifications.models import Notification
from notifications.selectors import inbox_page, unread_count
from notifications.services.inbox import notification_mark_all_read, notification_mark_read

# How often the badge asks when no push arrives (the in-memory channel layer, a lost socket).
POLL_SECONDS = 30


@login_required
@require_GET
def notification_list(request: HttpRequest) -> HttpResponse:
    page = inbox_page(account=request.user, number=request.GET.get("page"))
    return render(request, "notifications/notification_list.html", {"page": page})


@login_required
@require_POST
def notification_read(request: HttpRequest, pk: int) -> HttpResponse:
    """Mark one read; with `open`, go on to where it points (a path on this site only)."""
    notification = get_object_or_404(Notification, pk=pk, account=request.user)
    notification_mark_read(account=request.user, notification=notification)
    if "open" in request.POST and url_has_allowed_host_and_scheme(
        notification.link, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return redirect(notification.link)
    return redirect("notification_list")


@login_required
@require_POST
def notification_read_all(request: HttpRequest) -> HttpResponse:
    count = notification_mark_all_read(account=request.user)
    if count:
        messages.success(request, _("All messages marked as read."))
    return redirect("notification_list")


@never_cache
@login_required
@require_GET
def notification_unread(request: HttpRequest) -> JsonResponse:
    """The badge's figure, for polling."""
    return JsonResponse({"unread": unread_count(account=request.user)})


@login_required
@require_POST
def message_channels(request: HttpRequest) -> HttpResponse:
    """The channel choice on the messages page: e-mail and text message on or off."""
    account_message_channels_set(
        account=request.user,
        by_email=request.POST.get("by_email") == "on",
        by_sms=request.POST.get("by_sms") == "on",
    )
    messages.success(request, _("Your choice of channels is saved."))
    return redirect("notification_list")
