from django.urls import path, re_path

from appointments import views

CODE = r"(?P<code>[A-Za-z0-9-]{1,12})"

urlpatterns = [
    path("search/", views.search, name="search"),
    path("doctors/<int:pk>/", views.doctor_detail, name="doctor_detail"),
    path("doctors/<int:pk>/periods/", views.doctor_slots, name="doctor_slots"),
    path("appointments/", views.appointment_list, name="appointment_list"),
    path("appointments/calendar/", views.calendar_links, name="appointment_calendar_links"),
    re_path(
        rf"^appointments/{CODE}\.ics$",
        views.appointment_calendar_file,
        name="appointment_ics",
    ),
    re_path(rf"^appointments/{CODE}/$", views.appointment_detail, name="appointment_detail"),
    path("calendar/<str:token>.ics", views.calendar_feed, name="calendar_feed"),
    path("desk/", views.desk, name="desk"),
]
