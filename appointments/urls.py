from django.urls import path, re_path

from appointments.views import booking, desk, my_appointments, public, rebook

CODE = r"(?P<code>[A-Za-z0-9-]{1,12})"

urlpatterns = [
    path("search/", public.search, name="search"),
    path("doctors/<int:pk>/", public.doctor_detail, name="doctor_detail"),
    path("doctors/<int:pk>/periods/", public.doctor_slots, name="doctor_slots"),
    path("appointments/", my_appointments.appointment_list, name="appointment_list"),
    path(
        "appointments/book/<int:slot_id>/",
        booking.appointment_confirm,
        name="appointment_confirm",
    ),
    path(
        "appointments/book/<int:slot_id>/release/",
        booking.appointment_hold_release,
        name="appointment_hold_release",
    ),
    path(
        "appointments/book/<int:slot_id>/waitlist/",
        booking.appointment_waitlist_join,
        name="appointment_waitlist_join",
    ),
    path(
        "appointments/calendar/", my_appointments.calendar_links, name="appointment_calendar_links"
    ),
    path(
        "appointments/rebook/<str:token>/",
        rebook.appointment_rebook,
        name="appointment_rebook",
    ),
    re_path(
        rf"^appointments/{CODE}\.ics$",
        my_appointments.appointment_calendar_file,
        name="appointment_ics",
    ),
    re_path(
        rf"^appointments/{CODE}/$", my_appointments.appointment_detail, name="appointment_detail"
    ),
    re_path(
        rf"^appointments/{CODE}/cancel/$",
        booking.appointment_cancel_view,
        name="appointment_cancel",
    ),
    re_path(
        rf"^appointments/{CODE}/reschedule/$",
        booking.appointment_reschedule_view,
        name="appointment_reschedule",
    ),
    re_path(rf"^a/{CODE}$", my_appointments.appointment_short, name="appointment_short"),
    path("calendar/<str:token>.ics", my_appointments.calendar_feed, name="calendar_feed"),
    path("desk/", desk.desk, name="desk"),
    path("desk/check-in/", desk.desk_check_in, name="desk_check_in"),
    path("desk/queue/", desk.desk_queue, name="desk_queue"),
    path("desk/claim/", desk.desk_claim_self, name="desk_claim_self"),
    path("desk/display/<slug:slug>/", desk.desk_display, name="desk_display"),
    path(
        "desk/display/<slug:slug>/board/",
        desk.desk_display_board,
        name="desk_display_board",
    ),
]
