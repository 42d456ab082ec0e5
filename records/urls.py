from django.urls import path

from records import views

# Mounted at /me/patients/. A person is addressed by their unguessable public_id.
urlpatterns = [
    path("", views.patient_list, name="patient_list"),
    path("add/", views.patient_add, name="patient_add"),
    path("invitations/<str:token>/", views.invitation_respond, name="invitation_respond"),
    path("<uuid:public_id>/", views.patient_detail, name="patient_detail"),
    path("<uuid:public_id>/edit/", views.patient_edit, name="patient_edit"),
    path("<uuid:public_id>/remove/", views.patient_remove, name="patient_remove"),
    path("<uuid:public_id>/invite/", views.patient_invite, name="patient_invite"),
    path(
        "<uuid:public_id>/invitations/<uuid:invitation_id>/revoke/",
        views.invitation_revoke,
        name="invitation_revoke",
    ),
    path("<uuid:public_id>/links/<uuid:link_id>/revoke/", views.link_revoke, name="link_revoke"),
    path("<uuid:public_id>/consents/give/", views.consent_give, name="consent_give"),
    path(
        "<uuid:public_id>/consents/<uuid:consent_id>/revoke/",
        views.consent_revoke,
        name="consent_revoke",
    ),
]
