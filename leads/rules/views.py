"""Pool rules pages: the assignment policy and members of a pool, its recycle and routing
rules with a dry-run preview before saving, "who gets the next N", "Assign now", the
assignment log with the reason for each decision, and the distribution against weights.

Also the rep's extension request and the manager's list of requests to decide.
"""

from __future__ import annotations

from datetime import timedelta

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from crm_site.lib.htmx import render_htmx, vary_on_htmx
from crm_site.lib.inputs import parse_id, parse_ids
from crm_site.lib.redirects import safe_next
from orgs.access import entry_required
from orgs.rights import Entry, Operation
from orgs.selectors import rights_for

from .. import selectors
from ..models import ExtensionRequest, LeadPool, PoolMember, RecycleRule, RoutingRule
from ..permissions import pool_allows
from ..pools import extensions as pool_extensions
from ..pools.assign import assign_pool
from ..pools.extensions import ExtensionRefused, extension_request
from ..pools.previews import preview_recycle, preview_routing
from ..pools.route import RoutingRefused, lead_route
from ..subjects import LEADS, subject_for_pool
from . import selectors as selectors_rules
from . import services as services_rules
from .forms import (
    AddMemberForm,
    MemberForm,
    PoolPolicyForm,
    RecycleRuleForm,
    RoutingRuleForm,
    descendant_pools,
)

PERIODS = {"7": 7, "30": 30, "90": 90}


@entry_required(Entry.RULES)
def rules_home(request):
    return render(request, "leads/rules_home.html",
                  {"rows": selectors_rules.managed_pools(request.user)})


def _rules_context(request, pool: LeadPool, **extra) -> dict:
    candidates = selectors_rules.member_candidates(pool)
    labels = selectors_rules.display_names(candidates.values_list("pk", flat=True))
    return {
        "pool": pool,
        "policy_form": extra.pop("policy_form", None) or PoolPolicyForm(instance=pool),
        "members": selectors_rules.pool_members(pool),
        "add_member_form": AddMemberForm(candidates=candidates, labels=labels),
        "recycle_rules": list(pool.recycle_rules.select_related("target_pool", "dormant_pool")
                              .order_by("order", "pk")),
        "routing_rules": list(pool.routing_rules.select_related("target_pool")
                              .order_by("order", "pk")),
        "has_children": descendant_pools(pool).exists(),
        "can_assign": pool_allows(request.user, pool, "assign_from_pool"),
        **extra,
    }


@entry_required(Entry.RULES)
def pool_rules(request, code: str):
    pool = selectors_rules.managed_pool(request.user, code)
    if request.method == "POST":
        form = PoolPolicyForm(request.POST, instance=pool)
        if form.is_valid():
            try:
                services_rules.pool_policy_update(pool=pool, form=form, user=request.user)
            except services_rules.RulesRefused as refused:
                messages.error(request, refused.message)
            else:
                messages.success(request, _("Pool settings saved."))
                return redirect("pool_rules", code=code)
        else:
            messages.error(request, _("Please correct the marked fields."))
        pool.refresh_from_db()
        return render(request, "leads/pool_rules.html",
                      _rules_context(request, pool, policy_form=form), status=400)
    return render(request, "leads/pool_rules.html", _rules_context(request, pool))


@entry_required(Entry.RULES)
def pool_next(request, code: str):
    """“Who gets the next N” for the pool (htmx fragment)."""
    pool = selectors_rules.managed_pool(request.user, code)
    count = min(50, parse_id(request.GET.get("n")) or 10)
    return vary_on_htmx(render(request, "leads/pool_rules.html#next", {
        "pool": pool, "count": count, "next": selectors_rules.who_gets_next(pool, count)}))


@entry_required(Entry.RULES)
def pool_assign_preview(request, code: str):
    """A dry run of assignment over everything waiting: how many each rep would get."""
    pool = selectors_rules.managed_pool(request.user, code)
    report = assign_pool(pool, dry_run=True) if (
        pool.strategy != LeadPool.Strategy.MANUAL) else None
    rows = []
    if report is not None:
        names = selectors_rules.display_names(u for _p, u in report.assigned)
        rows = sorted(((names.get(u, ""), n) for (_p, u), n in report.assigned.items()),
                      key=lambda r: -r[1])
    return vary_on_htmx(render(request, "leads/pool_rules.html#assign-preview", {
        "pool": pool, "report": report, "rows": rows,
        "left": sum(report.unassigned.values()) if report else 0}))


@require_POST
@entry_required(Entry.POOL, Entry.RULES)
def pool_assign_now(request, code: str):
    """Run the pool's strategy at once (the button beside the pool and on its rules page)."""
    pool = LeadPool.objects.filter(code=code, is_active=True).first()
    if pool is None or not pool_allows(request.user, pool, "assign_from_pool"):
        raise Http404
    back = safe_next(request, reverse("pool_list") + f"?pool={code}")
    if pool.strategy == LeadPool.Strategy.MANUAL:
        messages.warning(request, _("%(pool)s is assigned by hand; choose a strategy on its "
                                    "rules page first.") % {"pool": pool.display_name})
        return redirect(back)
    report = assign_pool(pool, actor=None)
    assigned = sum(report.assigned.values())
    if report.skipped_pools:
        messages.info(request, _("The rules are assigning this pool right now; look again in "
                                 "a moment."))
    elif assigned:
        messages.success(request, _("%(count)d leads assigned by %(strategy)s.")
                         % {"count": assigned, "strategy": pool.get_strategy_display()})
    else:
        messages.info(request, _("Nothing assigned: no lead is waiting, or no member has "
                                 "room under the caps."))
    return redirect(back)


# --- members ----------------------------------------------------------------------------------


def _members_fragment(request, pool, **extra):
    context = _rules_context(request, pool, **extra)
    return vary_on_htmx(render(request, "leads/pool_rules.html#members", context))


@require_POST
@entry_required(Entry.RULES)
def member_add(request, code: str):
    pool = selectors_rules.managed_pool(request.user, code)
    candidates = selectors_rules.member_candidates(pool)
    form = AddMemberForm(request.POST, candidates=candidates)
    if not form.is_valid():
        messages.error(request, _("Choose a rep who may claim from this pool, and a weight "
                                  "from 1 to 100."))
    else:
        try:
            services_rules.member_add(pool=pool, user_id=form.cleaned_data["user"].pk,
                                      weight=form.cleaned_data["weight"], actor=request.user)
            messages.success(request, _("Member added."))
        except services_rules.RulesRefused as refused:
            messages.error(request, refused.message)
    if request.htmx:
        return _members_fragment(request, pool)
    return redirect("pool_rules", code=code)


@entry_required(Entry.RULES)
def member_edit(request, code: str, pk: int):
    pool = selectors_rules.managed_pool(request.user, code)
    member = get_object_or_404(PoolMember, pk=pk, pool=pool)
    form = MemberForm(request.POST or None, instance=member)
    if request.method == "POST" and form.is_valid():
        services_rules.member_update(member=member, form=form, actor=request.user)
        messages.success(request, _("Member saved."))
        if request.htmx:
            return _members_fragment(request, pool)
        return redirect("pool_rules", code=code)
    names = selectors_rules.display_names([member.user_id])
    return vary_on_htmx(render(request, "leads/member_form.html", {
        "pool": pool, "member": member, "form": form, "name": names.get(member.user_id)},
        status=400 if request.method == "POST" else 200))


@require_POST
@entry_required(Entry.RULES)
def member_remove(request, code: str, pk: int):
    pool = selectors_rules.managed_pool(request.user, code)
    member = get_object_or_404(PoolMember, pk=pk, pool=pool)
    services_rules.member_remove(member=member, actor=request.user)
    messages.success(request, _("Member removed; their leads stay with them."))
    if request.htmx:
        return _members_fragment(request, pool)
    return redirect("pool_rules", code=code)


# --- recycle rules ---------------------------------------------------------------------------


def _recycle_preview(request, pool, form):
    rule = form.save(commit=False)
    rule.pool = pool
    others = [r for r in pool.recycle_rules.filter(is_active=True)
              if r.pk != form.instance.pk]
    preview = preview_recycle(pool, [*others, rule])
    names = selectors_rules.display_names(preview.per_rep)
    per_rep = sorted(({"name": names.get(u, ""), **stats}
                      for u, stats in preview.per_rep.items()),
                     key=lambda r: (-r["now"], -r["soon"], r["name"]))
    for row in preview.due_now:
        row["owner"] = names.get(row["owner_id"], "")
        row["url"] = subject_for_pool(pool).url(row["id"])
    return {"preview": preview, "per_rep": per_rep,
            "due_now_total": sum(r["now"] for r in per_rep)}


@entry_required(Entry.RULES)
def recycle_rule_edit(request, code: str, pk: int | None = None):
    pool = selectors_rules.managed_pool(request.user, code)
    rule = get_object_or_404(RecycleRule, pk=pk, pool=pool) if pk else None
    initial = {} if rule else {"warn_offsets": [72, 24]}
    form = RecycleRuleForm(request.POST or None, instance=rule, pool=pool, initial=initial)
    context = {"pool": pool, "rule": rule, "form": form}
    if request.method == "POST":
        if not form.is_valid():
            if request.POST.get("preview"):
                return vary_on_htmx(render(request, "leads/recycle_rule_form.html#preview",
                                    {**context, "invalid": True}))
            messages.error(request, _("Please correct the marked fields."))
            return render(request, "leads/recycle_rule_form.html", context, status=400)
        if request.POST.get("preview"):
            context.update(_recycle_preview(request, pool, form))
            return vary_on_htmx(render(request, "leads/recycle_rule_form.html#preview", context))
        try:
            services_rules.recycle_rule_save(pool=pool, form=form, user=request.user)
        except services_rules.RulesRefused as refused:
            raise PermissionDenied(refused.message) from refused
        messages.success(request, _("Rule saved. Every lead of %(pool)s held by a rep now "
                                    "counts down to its new recycle date.")
                         % {"pool": pool.display_name})
        return redirect("pool_rules", code=code)
    return render(request, "leads/recycle_rule_form.html", context)


@require_POST
@entry_required(Entry.RULES)
def recycle_rule_delete(request, code: str, pk: int):
    pool = selectors_rules.managed_pool(request.user, code)
    rule = get_object_or_404(RecycleRule, pk=pk, pool=pool)
    services_rules.recycle_rule_delete(rule=rule, user=request.user)
    messages.success(request, _("Rule deleted."))
    return redirect("pool_rules", code=code)


# --- routing rules ------------------------------------------------------------------------------


@entry_required(Entry.RULES)
def routing_rule_edit(request, code: str, pk: int | None = None):
    pool = selectors_rules.managed_pool(request.user, code)
    rule = get_object_or_404(RoutingRule, pk=pk, source_pool=pool) if pk else None
    form = RoutingRuleForm(request.POST or None, instance=rule, pool=pool)
    context = {"pool": pool, "rule": rule, "form": form, "routes": None}
    if request.method == "POST":
        if not form.is_valid():
            if request.POST.get("preview"):
                return vary_on_htmx(render(request, "leads/routing_rule_form.html#preview",
                                    {**context, "invalid": True}))
            messages.error(request, _("Please correct the marked fields."))
            return render(request, "leads/routing_rule_form.html", context, status=400)
        if request.POST.get("preview"):
            proposed = form.save(commit=False)
            proposed.source_pool = pool
            rules = [r for r in pool.routing_rules.filter(is_active=True).order_by("order", "pk")
                     if r.pk != proposed.pk]
            if proposed.is_active:
                rules = sorted([*rules, proposed], key=lambda r: (r.order, r.pk or 0))
            counts = preview_routing(pool, rules)
            targets = {p.pk: p for p in LeadPool.objects.filter(pk__in=[k for k in counts if k])}
            context["routes"] = [(targets[k], n) for k, n in counts.items() if k and n]
            context["stay"] = counts.get(None, 0)
            return vary_on_htmx(render(request, "leads/routing_rule_form.html#preview", context))
        services_rules.routing_rule_save(pool=pool, form=form, user=request.user)
        messages.success(request, _("Routing rule saved. Waiting leads are routed again under "
                                    "the new rules."))
        return redirect("pool_rules", code=code)
    return render(request, "leads/routing_rule_form.html", context)


@require_POST
@entry_required(Entry.RULES)
def routing_rule_delete(request, code: str, pk: int):
    pool = selectors_rules.managed_pool(request.user, code)
    rule = get_object_or_404(RoutingRule, pk=pk, source_pool=pool)
    services_rules.routing_rule_delete(rule=rule, user=request.user)
    messages.success(request, _("Routing rule deleted."))
    return redirect("pool_rules", code=code)


# --- fairness ----------------------------------------------------------------------------------


@entry_required(Entry.RULES)
def pool_fairness(request, code: str):
    pool = selectors_rules.managed_pool(request.user, code)
    period = request.GET.get("days", "30")
    days = PERIODS.get(period, 30)
    since = timezone.now() - timedelta(days=days)
    page = selectors_rules.assignment_log(pool, cursor=request.GET.get("after"))
    context = {"pool": pool, "days": days, "periods": PERIODS.values(),
               "page": page, "log": selectors_rules.log_rows(pool, page)}
    if request.htmx and request.GET.get("after"):
        return render_htmx(request, "leads/pool_fairness.html", context, fragment="log-rows")
    context.update(distribution=selectors_rules.distribution(pool, since),
                   heat=selectors_rules.pool_heat(pool, since))
    return render_htmx(request, "leads/pool_fairness.html", context)


# --- routing by hand ------------------------------------------------------------------------


@require_POST
@entry_required(Entry.POOL)
def pool_route(request, code: str):
    """Marketing sends chosen waiting leads of a pool into one of its sub-pools."""
    pool = LeadPool.objects.filter(code=code, is_active=True).first()
    if pool is None:
        raise Http404
    back = reverse("pool_list") + f"?pool={code}"
    target = descendant_pools(pool).filter(pk=parse_id(request.POST.get("to_pool")) or 0).first()
    lead_ids = parse_ids(request.POST.getlist("leads"))
    if target is None or not lead_ids:
        messages.error(request, _("Choose leads and the sub-pool to route them to."))
        return redirect(back)
    try:
        moved = lead_route(lead_ids=lead_ids, to_pool=target, actor=request.user)
    except RoutingRefused as refused:
        messages.error(request, refused.message)
    else:
        messages.success(request, _("%(count)d leads routed to %(pool)s.")
                         % {"count": moved, "pool": target.display_name})
    return redirect(back)


# --- extension requests -------------------------------------------------------------------


@require_POST
@entry_required(Entry.LEADS)
def lead_extension(request, pk: int):
    """The owner asks for more time before the lead is recycled (once)."""
    selectors.lead_get(user=request.user, lead_id=pk)  # 404 outside the viewer's reach
    try:
        extension_request(subject=LEADS, record_id=pk, user=request.user,
                                      reason=request.POST.get("reason", "")[:500])
    except ExtensionRefused as refused:
        messages.error(request, refused.message)
    else:
        messages.success(request, _("Request sent to your manager."))
    from ..views import _back_to_detail

    return _back_to_detail(request, pk)


@entry_required(Entry.MANAGER_HOME, Entry.TEAM_LEADS)
def extension_list(request):
    if not rights_for(request.user).can(Operation.APPROVE):
        raise PermissionDenied(_("Your roles do not allow approving requests."))
    return render(request, "leads/extensions.html", {
        "pending": selectors_rules.extension_requests(request.user),
        "decided": selectors_rules.extension_requests(request.user, pending=False, limit=20),
    })


@require_POST
@entry_required(Entry.MANAGER_HOME, Entry.TEAM_LEADS)
def extension_decide(request, pk: int):
    approve = request.POST.get("decision") == "approve"
    try:
        decided = pool_extensions.extension_decide(request_id=pk, user=request.user,
                                                   approve=approve,
                                                   note=request.POST.get("note", "")[:500])
    except ExtensionRefused as refused:
        messages.error(request, refused.message)
    else:
        if decided.status == ExtensionRequest.Status.APPROVED:
            messages.success(request, _("Approved: the lead's recycle date moved back by "
                                        "%(days)d days.") % {"days": decided.days})
        else:
            messages.success(request, _("Request rejected."))
    return redirect("extension_list")
