from django.urls import path, re_path

from appointments import views, views_booking, views_desk, views_rebook

CODE = r"(?P<code>[A-Za-z0-9-]{1,12})"

urlpatterns = [
    path("search/", views.search, name="search"),
    path("doctors/<int:pk>/", views.doctor_detail, name="doctor_detail"),
    path("doctors/<int:pk>/periods/", views.doctor_slots, name="doctor_slots"),
    path("appointments/", views.appointment_list, name="appointment_list"),
    path(
        "appointments/book/<int:slot_id>/",
        views_booking.appointment_confirm,
        name="appointment_confirm",
    ),
    path(
        "appointments/book/<int:slot_id>/release/",
        views_booking.appointment_hold_release,
        name="appointment_hold_release",
    ),
    path(
        "appointments/book/<int:slot_id>/waitlist/",
        views_booking.appointment_waitlist_join,
        name="appointment_waitlist_join",
    ),
    path("appointments/calendar/", views.calendar_links, name="appointment_calendar_links"),
    path(
        "appointments/rebook/<str:token>/",
        views_rebook.appointment_rebook,
        name="appointment_rebook",
    ),
    re_path(
        rf"^appointments/{CODE}\.ics$",
        views.appointment_calendar_file,
        name="appointment_ics",
    ),
    re_path(rf"^appointments/{CODE}/$", views.appointment_detail, name="appointment_detail"),
    re_path(
        rf"^appointments/{CODE}/cancel/$",
        views_booking.appointment_cancel_view,
        name="appointment_cancel",
    ),
    re_path(
        rf"^appointments/{CODE}/reschedule/$",
        views_booking.appointment_reschedule_view,
        name="appointment_reschedule",
    ),
    path("calendar/<str:token>.ics", views.calendar_feed, name="calendar_feed"),
    path("desk/", views_desk.desk, name="desk"),
    path("desk/check-in/", views_desk.desk_check_in, name="desk_check_in"),
    path("desk/queue/", views_desk.desk_queue, name="desk_queue"),
    path("desk/claim/", views_desk.desk_claim_self, name="desk_claim_self"),
    path("desk/display/<slug:slug>/", views_desk.desk_display, name="desk_display"),
    path(
        "desk/display/<slug:slug>/board/",
        views_desk.desk_display_board,
        name="desk_display_board",
    ),
]
