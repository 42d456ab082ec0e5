"""The console's schedule pages, mounted at /manage/ by portal/urls.py."""

from django.urls import path

from appointments.views import console_closures, console_day, console_rota

urlpatterns = [
    path(
        "doctors/<int:doctor_id>/sessions.ics",
        console_day.doctor_sessions_ics,
        name="doctor_sessions_ics",
    ),
    path("<slug:hospital_slug>/rota/", console_rota.rota_list, name="console_rota_list"),
    path(
        "<slug:hospital_slug>/doctors/<int:doctor_id>/rota/", console_rota.rota, name="console_rota"
    ),
    path(
        "<slug:hospital_slug>/doctors/<int:doctor_id>/rota/<int:rule_id>/edit/",
        console_rota.rota_edit,
        name="console_rota_edit",
    ),
    path(
        "<slug:hospital_slug>/doctors/<int:doctor_id>/rota/<int:rule_id>/delete/",
        console_rota.rota_delete,
        name="console_rota_delete",
    ),
    path(
        "<slug:hospital_slug>/doctors/<int:doctor_id>/calendar/",
        console_day.calendar_links,
        name="console_calendar_links",
    ),
    path(
        "<slug:hospital_slug>/publish/",
        console_rota.schedule_preview,
        name="console_schedule_preview",
    ),
    path("<slug:hospital_slug>/closures/", console_closures.closure_list, name="console_closures"),
    path(
        "<slug:hospital_slug>/closures/new/",
        console_closures.closure_new,
        name="console_closure_new",
    ),
    path("<slug:hospital_slug>/day/", console_day.today, name="console_today"),
    path("<slug:hospital_slug>/day/<str:day>/", console_day.day_view, name="console_day"),
    path(
        "<slug:hospital_slug>/day/<str:day>/export.csv", console_day.day_csv, name="console_day_csv"
    ),
]
