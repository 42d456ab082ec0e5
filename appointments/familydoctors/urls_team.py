from django.urls import path

from appointments.familydoctors import views

# Mounted at /doctor/family/: the team's side.
urlpatterns = [
    path("", views.team_list, name="family_teams_mine"),
    path("<uuid:team_id>/", views.team_panel, name="family_panel"),
    path("<uuid:team_id>/<uuid:signing_id>/", views.panel_member, name="family_member"),
    path("<uuid:team_id>/<uuid:signing_id>/plan/", views.plan_set, name="family_plan_set"),
    path("<uuid:team_id>/<uuid:signing_id>/book/", views.panel_book, name="family_book"),
    path("<uuid:team_id>/tasks/<uuid:task_id>/done/", views.task_done, name="family_task_done"),
]
