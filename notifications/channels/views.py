"""Pages of the messaging channels: a person's choices (on the notifications page) and a
manager's team group robots."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from . import selectors, services
from .forms import ImPreferenceForm, TeamRobotForm
from .models import Delivery, TeamRobot


@require_POST
@login_required
def im_preferences(request):
    form = ImPreferenceForm(request.POST)
    if not form.is_valid():
        messages.error(request, _("Those choices could not be saved: %(errors)s") % {
            "errors": " ".join(e for errors in form.errors.values() for e in errors)})
        return redirect("notification_list")
    services.im_preference_set(user=request.user, topic_codes=form.cleaned_data["topics"],
                               language=form.cleaned_data["language"])
    if form.cleaned_data["topics"] and not selectors.im_settings(request.user).reachable:
        messages.warning(request, _("Saved. No messaging account is recorded for you yet: "
                                    "ask an administrator to add your user ID."))
    else:
        messages.success(request, _("Your messaging choices are saved."))
    return redirect("notification_list")


def _managed_units_or_403(user):
    units = selectors.managed_units(user)
    if not units.exists():
        raise PermissionDenied
    return units


@login_required
def team_robot_list(request):
    _managed_units_or_403(request.user)
    return render(request, "notifications/team_robots.html", {
        "robots": selectors.team_robots_with_recent(request.user),
        "platforms": selectors.robot_platform_choices(),
    })


@login_required
def team_robot_edit(request, pk: int | None = None):
    units = _managed_units_or_403(request.user)
    robot = selectors.team_robot_get(user=request.user, pk=pk) if pk else TeamRobot()
    if robot.pk is None:
        robot.language = request.LANGUAGE_CODE
    platforms = selectors.robot_platform_choices()
    if not platforms and robot.pk is None:
        messages.error(request, _("No messaging platform is switched on yet: an administrator "
                                  "sets up WeCom, DingTalk or Feishu first."))
        return redirect("team_robot_list")
    form = TeamRobotForm(request.POST or None, instance=robot, units=units,
                         platforms=platforms or None)
    if request.method == "POST" and form.is_valid():
        try:
            services.team_robot_save(
                robot=form.save(commit=False), webhook=form.cleaned_data["webhook"],
                sign_secret=form.cleaned_data["sign_secret"],
                clear_sign_secret=form.cleaned_data["clear_sign_secret"], actor=request.user)
        except ValidationError as exc:
            for field, errors in exc.message_dict.items():
                form.add_error(field if field in form.fields else None, errors)
        else:
            messages.success(request, _("The group robot is saved."))
            return redirect("team_robot_list")
    return render(request, "notifications/team_robot_form.html", {"form": form, "robot": robot})


def _report(request, delivery: Delivery) -> None:
    if delivery.status == Delivery.Status.SENT:
        messages.success(request, _("Delivered to %(to)s.") % {"to": delivery.address})
    elif delivery.status == Delivery.Status.PENDING:
        messages.warning(request, _("Not sent yet (%(error)s); it is queued and will be retried "
                                    "shortly.") % {"error": delivery.error or _("busy")})
    else:
        messages.error(request, _("Not delivered: %(error)s") % {"error": delivery.error})


@require_POST
@login_required
def team_robot_test(request, pk: int):
    robot = selectors.team_robot_get(user=request.user, pk=pk)
    _report(request, services.sample_message_send(platform=robot.platform, robot=robot))
    return redirect("team_robot_list")


@require_POST
@login_required
def team_robot_digest(request, pk: int):
    robot = selectors.team_robot_get(user=request.user, pk=pk)
    _report(request, services.digest_send_now(robot=robot))
    return redirect("team_robot_list")


@require_POST
@login_required
def team_robot_delete(request, pk: int):
    robot = selectors.team_robot_get(user=request.user, pk=pk)
    services.team_robot_delete(robot=robot)
    messages.success(request, _("The group robot %(name)s is removed.") % {"name": robot.name})
    return redirect("team_robot_list")
