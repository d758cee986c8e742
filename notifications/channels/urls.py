from django.urls import path

from . import views

urlpatterns = [
    path("settings/im/", views.im_preferences, name="im_preferences"),
    path("team-robots/", views.team_robot_list, name="team_robot_list"),
    path("team-robots/new/", views.team_robot_edit, name="team_robot_add"),
    path("team-robots/<int:pk>/", views.team_robot_edit, name="team_robot_edit"),
    path("team-robots/<int:pk>/test/", views.team_robot_test, name="team_robot_test"),
    path("team-robots/<int:pk>/digest/", views.team_robot_digest, name="team_robot_digest"),
    path("team-robots/<int:pk>/delete/", views.team_robot_delete, name="team_robot_delete"),
]
