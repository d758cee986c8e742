"""URLs of the pipeline: board, list, export, detail, moves, the opportunity pool and
lead conversion."""

from django.urls import path

from . import views as views

urlpatterns = [
    path("", views.opportunity_list, name="opportunity_list"),
    path("board/", views.pipeline_board, name="pipeline_board"),
    path("board/summary/", views.pipeline_summary, name="pipeline_summary"),
    path("board/column/<slug:stage>/", views.board_column, name="board_column"),
    path("export.csv", views.opportunity_export, name="opportunity_export"),
    path("pool/", views.opportunity_pool, name="opportunity_pool"),
    path("pool/assign/", views.opportunity_pool_assign, name="opportunity_pool_assign"),
    path("convert/<int:lead_id>/", views.lead_convert, name="lead_convert"),
    path("convert/customers/", views.customer_search, name="convert_customer_search"),
    path("<int:pk>/", views.opportunity_detail, name="opportunity_detail"),
    path("<int:pk>/move/", views.opportunity_move, name="opportunity_move"),
    path("<int:pk>/claim/", views.opportunity_claim, name="opportunity_claim"),
    path("<int:pk>/extension/", views.opportunity_extension, name="opportunity_extension"),
]
