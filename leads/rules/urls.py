"""URLs of pool rules (under /leads/): the rules pages, members, recycle and routing rules,
manual runs and extension requests."""

from django.urls import path

from . import views

urlpatterns = [
    path("rules/", views.rules_home, name="rules_home"),
    path("rules/<slug:code>/", views.pool_rules, name="pool_rules"),
    path("rules/<slug:code>/next/", views.pool_next, name="pool_next"),
    path("rules/<slug:code>/assign-preview/", views.pool_assign_preview,
         name="pool_assign_preview"),
    path("rules/<slug:code>/fairness/", views.pool_fairness, name="pool_fairness"),
    path("rules/<slug:code>/members/add/", views.member_add, name="pool_member_add"),
    path("rules/<slug:code>/members/<int:pk>/", views.member_edit, name="pool_member_edit"),
    path("rules/<slug:code>/members/<int:pk>/remove/", views.member_remove,
         name="pool_member_remove"),
    path("rules/<slug:code>/recycle/new/", views.recycle_rule_edit,
         name="recycle_rule_new"),
    path("rules/<slug:code>/recycle/<int:pk>/", views.recycle_rule_edit,
         name="recycle_rule_edit"),
    path("rules/<slug:code>/recycle/<int:pk>/delete/", views.recycle_rule_delete,
         name="recycle_rule_delete"),
    path("rules/<slug:code>/routing/new/", views.routing_rule_edit,
         name="routing_rule_new"),
    path("rules/<slug:code>/routing/<int:pk>/", views.routing_rule_edit,
         name="routing_rule_edit"),
    path("rules/<slug:code>/routing/<int:pk>/delete/", views.routing_rule_delete,
         name="routing_rule_delete"),
    path("pool/<slug:code>/assign-now/", views.pool_assign_now, name="pool_assign_now"),
    path("pool/<slug:code>/route/", views.pool_route, name="pool_route"),
    path("<int:pk>/extension/", views.lead_extension, name="lead_extension"),
    path("extensions/", views.extension_list, name="extension_list"),
    path("extensions/<int:pk>/decide/", views.extension_decide, name="extension_decide"),
]
