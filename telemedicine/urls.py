from django.urls import path

from telemedicine import views, views_remote, views_text

urlpatterns = [
    path("doctor/", views.doctor_day_view, name="doctor_day"),
    path("doctor/visit/<str:code>/", views.doctor_visit, name="doctor_visit"),
    path(
        "doctor/visit/<str:code>/workspace/",
        views.doctor_visit_workspace,
        name="doctor_visit_workspace",
    ),
    path(
        "doctor/visit/<str:code>/complete/",
        views.doctor_visit_complete,
        name="doctor_visit_complete",
    ),
    path(
        "doctor/visit/<str:code>/remote-consultation/",
        views_remote.remote_consultation_new,
        name="remote_consultation_new",
    ),
    path("doctor/call-next/", views.doctor_call_next, name="doctor_call_next"),
    # Text consults (图文问诊): the family's list, asking one, the thread, the doctor's queue.
    path("text-consults/", views_text.text_consult_list, name="text_consult_list"),
    path(
        "text-consults/ask/<int:doctor_id>/", views_text.text_consult_new, name="text_consult_new"
    ),
    path("text-consults/<uuid:public_id>/", views_text.text_consult_thread, name="text_consult"),
    path(
        "text-consults/<uuid:public_id>/messages/",
        views_text.text_consult_thread_part,
        name="text_consult_messages",
    ),
    path(
        "text-consults/<uuid:public_id>/photos/<uuid:photo_id>/",
        views_text.text_consult_photo,
        name="text_consult_photo",
    ),
    path(
        "text-consults/<uuid:public_id>/book/",
        views_text.text_consult_book,
        name="text_consult_book",
    ),
    path(
        "text-consults/<uuid:public_id>/close/",
        views_text.text_consult_close_view,
        name="text_consult_close",
    ),
    path("doctor/text-consults/", views_text.text_consult_queue, name="text_consult_queue"),
    path(
        "doctor/text-consults/settings/",
        views_text.text_offer_settings,
        name="text_offer_settings",
    ),
    path("consult/<str:public_id>/", views.consult_room, name="consult_room"),
    path("consult/<str:public_id>/ice-servers", views.consult_ice_servers, name="consult_ice"),
]
