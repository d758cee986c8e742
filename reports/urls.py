from django.urls import path

from . import views

urlpatterns = [
    path("", views.funnel, name="report_funnel"),
]
