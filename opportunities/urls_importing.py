from django.urls import path

from . import views_importing

urlpatterns = [
    path("", views_importing.record_import_upload, name="record_import"),
]
