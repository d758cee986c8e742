from django.urls import include, path

from . import views

urlpatterns = [
    path("", views.lead_list, name="lead_list"),
    path("new/", views.lead_new, name="lead_new"),
    path("new/check/", views.lead_check, name="lead_check"),
    path("pool/", views.pool_list, name="pool_list"),
    path("pool/assign/", views.pool_assign, name="pool_assign"),
    path("team/", views.team_leads, name="team_leads"),
    path("team/transfer/", views.team_transfer, name="team_transfer"),
    path("<int:pk>/", views.lead_detail, name="lead_detail"),
    path("<int:pk>/claim/", views.lead_claim, name="lead_claim"),
    path("<int:pk>/release/", views.lead_release, name="lead_release"),
    path("<int:pk>/invalidate/", views.lead_invalidate, name="lead_invalidate"),
    path("<int:pk>/star/", views.lead_star, name="lead_star"),
    path("<int:pk>/followups/", views.followup_add, name="followup_add"),
]

from . import views_intake  # noqa: E402

urlpatterns += [
    path("import/", views_intake.import_upload, name="import_upload"),
    path("import/<int:pk>/", views_intake.import_progress, name="import_progress"),
    path("import/<int:pk>/map/", views_intake.import_map, name="import_map"),
    path("import/<int:pk>/rejected.csv", views_intake.import_rejects_download,
         name="import_rejects"),
]

from . import views_export  # noqa: E402

urlpatterns += [
    path("team/export.csv", views_export.team_leads_export, name="team_leads_export"),
]

urlpatterns += [
    path("", include("leads.rules.urls")),
]
