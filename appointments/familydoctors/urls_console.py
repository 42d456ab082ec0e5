from django.urls import path

from appointments.familydoctors import views

# Mounted at /manage/: a clinic's family-doctor teams.
urlpatterns = [
    path("<slug:hospital_slug>/family-teams/", views.console_teams, name="console_family_teams"),
    path(
        "<slug:hospital_slug>/family-teams/<int:team_id>/",
        views.console_teams,
        name="console_family_team",
    ),
]
