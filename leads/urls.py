from django.urls import path

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

from . import views_rules  # noqa: E402

urlpatterns += [
    path("rules/", views_rules.rules_home, name="rules_home"),
    path("rules/<slug:code>/", views_rules.pool_rules, name="pool_rules"),
    path("rules/<slug:code>/next/", views_rules.pool_next, name="pool_next"),
    path("rules/<slug:code>/assign-preview/", views_rules.pool_assign_preview,
         name="pool_assign_preview"),
    path("rules/<slug:code>/fairness/", views_rules.pool_fairness, name="pool_fairness"),
    path("rules/<slug:code>/members/add/", views_rules.member_add, name="pool_member_add"),
    path("rules/<slug:code>/members/<int:pk>/", views_rules.member_edit, name="pool_member_edit"),
    path("rules/<slug:code>/members/<int:pk>/remove/", views_rules.member_remove,
         name="pool_member_remove"),
    path("rules/<slug:code>/recycle/new/", views_rules.recycle_rule_edit,
         name="recycle_rule_new"),
    path("rules/<slug:code>/recycle/<int:pk>/", views_rules.recycle_rule_edit,
         name="recycle_rule_edit"),
    path("rules/<slug:code>/recycle/<int:pk>/delete/", views_rules.recycle_rule_delete,
         name="recycle_rule_delete"),
    path("rules/<slug:code>/routing/new/", views_rules.routing_rule_edit,
         name="routing_rule_new"),
    path("rules/<slug:code>/routing/<int:pk>/", views_rules.routing_rule_edit,
         name="routing_rule_edit"),
    path("rules/<slug:code>/routing/<int:pk>/delete/", views_rules.routing_rule_delete,
         name="routing_rule_delete"),
    path("pool/<slug:code>/assign-now/", views_rules.pool_assign_now, name="pool_assign_now"),
    path("pool/<slug:code>/route/", views_rules.pool_route, name="pool_route"),
    path("<int:pk>/extension/", views_rules.lead_extension, name="lead_extension"),
    path("extensions/", views_rules.extension_list, name="extension_list"),
    path("extensions/<int:pk>/decide/", views_rules.extension_decide, name="extension_decide"),
]
