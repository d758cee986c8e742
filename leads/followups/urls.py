"""Follow-ups on any record: the shared panel (``/followups/<kind>/<id>/``)."""

from django.urls import path

from . import views as views_followups

urlpatterns = [
    path("<slug:subject>/<int:pk>/", views_followups.followup_panel, name="followup_panel"),
]
