from django.urls import path

from . import views

urlpatterns = [
    path("", views.workbench, name="qa_home"),
    path("items/<int:item_id>/", views.item_panel, name="qa_item"),
    path("items/<int:item_id>/inspect/", views.item_inspect, name="qa_inspect"),
    path("results/", views.results, name="qa_results"),
    path("results/<int:inspection_id>/appeal/", views.appeal, name="qa_appeal"),
    path("appeals/", views.appeals, name="qa_appeals"),
    path("appeals/<int:appeal_id>/decide/", views.appeal_decision, name="qa_appeal_decide"),
    path("calibration/", views.calibrations, name="qa_calibrations"),
    path("calibration/<int:session_id>/", views.calibration_detail, name="qa_calibration"),
    path("calibration/<int:session_id>/items/<int:item_id>/", views.calibration_item,
         name="qa_calibration_item"),
    path("reports/", views.report, name="qa_reports"),
]
