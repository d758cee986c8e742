"""The bell in the top bar, the notification list and the e-mail opt-in."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.shortcuts import redirect, render
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from crm_site.lib.htmx import render_htmx, vary_on_htmx

from . import selectors, services
from .channels import selectors as channel_selectors
from .channels.forms import ImPreferenceForm


@login_required
def bell(request):
    """The bell fragment: unread count and the latest few (htmx polls it)."""
    response = render(request, "notifications/bell.html", {
        "unread": selectors.unread_count(request.user),
        "latest": selectors.recent(request.user),
    })
    vary_on_htmx(response)
    response["Cache-Control"] = "no-store"
    return response


@login_required
def notification_list(request):
    unread_only = request.GET.get("unread") == "1"
    page = selectors.notification_page(request.user, unread_only=unread_only,
                                       cursor=request.GET.get("after"))
    template = "notifications/list.html"
    if request.htmx and request.GET.get("after"):
        return render_htmx(request, template, {"page": page, "unread_only": unread_only},
                           fragment="rows")
    return render_htmx(request, template, {
        "page": page, "unread_only": unread_only,
        "unread": selectors.unread_count(request.user),
        "email_enabled": selectors.email_enabled(request.user),
        "im": channel_selectors.im_settings(request.user,
                                            default_language=request.LANGUAGE_CODE),
        "im_form": ImPreferenceForm(),
        "manages_team": channel_selectors.manages_a_team(request.user),
    })


@require_POST
@login_required
def notification_open(request, pk: int):
    """Mark read and go where the notification points."""
    notification = services.mark_read(user=request.user, notification_id=pk)
    target = notification.get_absolute_url() if notification else "/notifications/"
    if not url_has_allowed_host_and_scheme(target, allowed_hosts={request.get_host()}):
        target = "/notifications/"
    return redirect(target)


@require_POST
@login_required
def notification_read_all(request):
    count = services.mark_all_read(user=request.user)
    if not request.htmx:
        messages.success(request, _("%(count)d notifications marked read.") % {"count": count})
        return redirect("notification_list")
    return bell(request)


@require_POST
@login_required
def notification_settings(request):
    enabled = request.POST.get("email_enabled") == "1"
    if enabled and not request.user.email:
        messages.error(request, _("Your account has no e-mail address; ask an administrator "
                                  "to add one first."))
        return redirect("notification_list")
    services.set_email_enabled(user=request.user, enabled=enabled)
    messages.success(request, _("E-mail copies are on.") if enabled
                     else _("E-mail copies are off."))
    return redirect("notification_list")
