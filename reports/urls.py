from django.urls import path

from . import views

urlpatterns = [
    path("", views.funnel, name="report_funnel"),
    path("funnel/leads/", views.funnel_leads, name="report_funnel_leads"),
    path("reps/", views.rates, name="report_rates"),
    path("pools/", views.pools, name="report_pools"),
]
