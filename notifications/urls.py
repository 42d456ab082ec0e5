from django.urls import path

from notifications import views

urlpatterns = [
    path("", views.notification_list, name="notification_list"),
    path("unread/", views.notification_unread, name="notification_unread"),
    path("channels/", views.message_channels, name="message_channels"),
    path("read/", views.notification_read_all, name="notification_read_all"),
    path("<int:pk>/read/", views.notification_read, name="notification_read"),
]
