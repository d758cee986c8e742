from django.urls import path

from . import views

urlpatterns = [
    path("orders/", views.order_list, name="order_list"),
    path("orders/export.csv", views.order_export, name="order_export"),
    path("orders/new/", views.order_new, name="order_new"),
    path("orders/<int:pk>/", views.order_detail, name="order_detail"),
    path("orders/<int:pk>/edit/", views.order_edit, name="order_edit"),
    path("orders/<int:pk>/<slug:action>/", views.order_action, name="order_action"),
    path("", views.contract_list, name="contract_list"),
    path("new/", views.contract_new, name="contract_new"),
    path("<int:pk>/", views.contract_detail, name="contract_detail"),
    path("<int:pk>/do/<slug:action>/", views.contract_action, name="contract_action"),
    path("attachments/<int:pk>/", views.attachment_download, name="contract_attachment"),
    path("<slug:kind>/<int:pk>/plan/", views.plan_set, name="payment_plan_set"),
    path("<slug:kind>/<int:pk>/payment/", views.payment_add, name="payment_add"),
    path("receivables/", views.receivables, name="receivables"),
    path("approvals/", views.approval_inbox, name="approval_inbox"),
    path("approvals/<int:pk>/<slug:decision>/", views.approval_decide, name="approval_decide"),
]
