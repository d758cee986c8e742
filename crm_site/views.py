"""Role homes and service endpoints. Each home shows what its role works on."""

from django.conf import settings
from django.contrib.auth.decorators import login_required
from django.db import connection
from django.http import JsonResponse
from django.shortcuts import redirect, render
from django.templatetags.static import static
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET

from orgs.access import entry_required
from orgs.rights import HOME_PAGES, DataScope, Entry
from orgs.selectors import data_scope_for, employee_list, rights_for


@login_required
def home(request):
    """Send each user to the home page of their most specific role."""
    rights = rights_for(request.user)
    for entry, url_name in HOME_PAGES:
        if rights.opens(entry):
            return redirect(url_name)
    if request.user.is_staff:
        return redirect("admin:index")
    return render(request, "home/no_roles.html", status=403)


def _scope_label(rights) -> str:
    widest = rights.widest_scope
    return DataScope(widest).label if widest is not None else _("No records")


@entry_required(Entry.WORKBENCH)
def workbench(request):
    from leads.selectors import pool_overview, workbench_summary
    from leads.selectors_followups import agenda_buckets
    from qa.selectors import rep_results

    rights = rights_for(request.user)
    return render(
        request,
        "home/workbench.html",
        {"rights": rights, "scope_label": _scope_label(rights),
         "summary": workbench_summary(user=request.user),
         "agenda_buckets": agenda_buckets(user=request.user), "agenda_limit": 8,
         "pools": pool_overview(user=request.user, perm="claim_from_pool"),
         "qa_results": rep_results(user=request.user, limit=5)},
    )


@entry_required(Entry.MANAGER_HOME)
def manager_home(request):
    from leads.selectors import pool_overview
    from leads.selectors_rules import extension_requests

    rights = rights_for(request.user)
    members = list(employee_list(user=request.user)[:50])
    return render(
        request,
        "home/manager.html",
        {
            "rights": rights,
            "scope_label": _scope_label(rights),
            "members": members,
            "scope_units": data_scope_for(request.user).units().order_by("path")[:50],
            "pools": pool_overview(user=request.user),
            "pending_extensions": len(extension_requests(request.user)),
        },
    )


@entry_required(Entry.MARKETING_HOME)
def marketing_home(request):
    from leads.selectors import pool_overview

    rights = rights_for(request.user)
    return render(
        request, "home/marketing.html",
        {"rights": rights, "scope_label": _scope_label(rights),
         "pools": pool_overview(user=request.user)},
    )


@never_cache
@require_GET
def health(request):
    """Liveness for load balancers: the database answers (and Redis, when configured)."""
    checks = {}
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
        checks["database"] = "ok"
    except Exception as exc:
        checks["database"] = f"error: {exc.__class__.__name__}"
    if settings.REDIS_URL:
        try:
            import redis

            redis.Redis.from_url(settings.REDIS_URL, socket_timeout=2).ping()
            checks["redis"] = "ok"
        except Exception as exc:
            checks["redis"] = f"error: {exc.__class__.__name__}"
    healthy = all(v == "ok" for v in checks.values())
    return JsonResponse({"status": "ok" if healthy else "error", **checks},
                        status=200 if healthy else 503)


@require_GET
def favicon(request):
    """``/favicon.ico``, which browsers ask for on their own: the icon in the static files
    (fingerprinted and cached for a long time in production), by a permanent redirect."""
    return redirect(static("favicon.ico"), permanent=True)
