"""The console's schedule pages, mounted at /manage/ by portal/urls.py."""

from django.urls import path

from appointments import views_console as views

urlpatterns = [
    path(
        "doctors/<int:doctor_id>/sessions.ics",
        views.doctor_sessions_ics,
        name="doctor_sessions_ics",
    ),
    path("<slug:hospital_slug>/rota/", views.rota_list, name="console_rota_list"),
    path("<slug:hospital_slug>/doctors/<int:doctor_id>/rota/", views.rota, name="console_rota"),
    path(
        "<slug:hospital_slug>/doctors/<int:doctor_id>/rota/<int:rule_id>/edit/",
        views.rota_edit,
        name="console_rota_edit",
    ),
    path(
        "<slug:hospital_slug>/doctors/<int:doctor_id>/rota/<int:rule_id>/delete/",
        views.rota_delete,
        name="console_rota_delete",
    ),
    path(
        "<slug:hospital_slug>/doctors/<int:doctor_id>/calendar/",
        views.calendar_links,
        name="console_calendar_links",
    ),
    path("<slug:hospital_slug>/publish/", views.schedule_preview, name="console_schedule_preview"),
    path("<slug:hospital_slug>/closures/", views.closure_list, name="console_closures"),
    path("<slug:hospital_slug>/closures/new/", views.closure_new, name="console_closure_new"),
    path("<slug:hospital_slug>/day/", views.today, name="console_today"),
    path("<slug:hospital_slug>/day/<str:day>/", views.day_view, name="console_day"),
    path("<slug:hospital_slug>/day/<str:day>/export.csv", views.day_csv, name="console_day_csv"),
]
