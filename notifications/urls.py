from django.urls import include, path

from . import views

urlpatterns = [
    path("", views.notification_list, name="notification_list"),
    path("bell/", views.bell, name="notification_bell"),
    path("read-all/", views.notification_read_all, name="notification_read_all"),
    path("settings/", views.notification_settings, name="notification_settings"),
    path("<int:pk>/open/", views.notification_open, name="notification_open"),
    path("", include("notifications.channels.urls")),
]
