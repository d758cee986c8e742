"""URLs of the customer pages (under /customers/) and contact pages (under /contacts/)."""

from django.urls import path

from . import views as views

customer_patterns = [
    path("", views.customer_list, name="customer_list"),
    path("new/", views.customer_new, name="customer_new"),
    path("export.csv", views.customer_export, name="customer_export"),
    path("<int:pk>/", views.customer_detail, name="customer_detail"),
    path("<int:pk>/edit/", views.customer_edit, name="customer_edit"),
    path("<int:pk>/star/", views.customer_star, name="customer_star"),
    path("<int:pk>/transfer/", views.customer_transfer, name="customer_transfer"),
    path("<int:pk>/merge/", views.customer_merge, name="customer_merge"),
]

contact_patterns = [
    path("", views.contact_list, name="contact_list"),
    path("new/", views.contact_new, name="contact_new"),
    path("<int:pk>/", views.contact_detail, name="contact_detail"),
    path("<int:pk>/edit/", views.contact_edit, name="contact_edit"),
    path("<int:pk>/merge/", views.contact_merge, name="contact_merge"),
    path("<int:pk>/link/", views.contact_link, name="contact_link"),
    path("<int:pk>/unlink/", views.contact_unlink, name="contact_unlink"),
]
