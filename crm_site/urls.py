"""URL map of LeadPool CRM."""

from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.urls import include, path

from crm_site import views
from leads import api as lead_api
from opportunities import urls_customers as customer_urls
from orgs import views as org_views

admin.site.site_header = "LeadPool CRM"
admin.site.site_title = "LeadPool CRM"

urlpatterns = [
    path("", views.home, name="home"),
    path(
        "login/",
        auth_views.LoginView.as_view(template_name="registration/login.html",
                                     redirect_authenticated_user=True),
        name="login",
    ),
    path("logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("workbench/", views.workbench, name="workbench"),
    path("manager/", views.manager_home, name="manager_home"),
    path("marketing/", views.marketing_home, name="marketing_home"),
    path("qa/", include("qa.urls")),
    path("team/", org_views.team_directory, name="team_directory"),
    path("team/export.csv", org_views.team_export, name="team_export"),
    path("leads/", include("leads.urls")),
    path("api/leads/ingest/", lead_api.ingest, name="lead_ingest"),
    path("notifications/", include("notifications.urls")),
    path("contracts/", include("contracts.urls")),
    path("followups/", include("leads.urls_followups")),
    path("imports/", include("opportunities.urls_importing")),
    path("customers/", include(customer_urls.customer_patterns)),
    path("contacts/", include(customer_urls.contact_patterns)),
    path("opportunities/", include("opportunities.urls_pipeline")),
    path("reports/", include("reports.urls")),
    path("health/", views.health, name="health"),
    path("favicon.ico", views.favicon, name="favicon"),
    path("i18n/", include("django.conf.urls.i18n")),
    path("admin/", admin.site.urls),
]
