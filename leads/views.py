"""The lead workbench: My leads, the pool, lead detail, manual entry, team leads.

Views are thin: check the entry, validate a form, call one service or selector, render
the page or, for htmx requests, the named partial of the same template.
"""

from __future__ import annotations

from datetime import timedelta

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.template.backends.utils import csrf_input
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from crm_site.lib.htmx import render_htmx
from crm_site.lib.inputs import parse_id
from crm_site.lib.redirects import safe_next
from orgs.access import Scenario, entry_required, show_bag
from orgs.rights import Entry, Operation
from orgs.selectors import rights_for

from . import selectors, services
from .forms import AssignForm, FollowUpForm, LeadForm, ReasonForm, TransferForm
from .models import FollowUp, Lead, LeadPool
from .permissions import descendant_pools, pool_allows, pools_for
from .pools.claims import rep_load
from .subjects import LEADS

# --- My leads ---------------------------------------------------------------------------


@entry_required(Entry.LEADS)
def lead_list(request):
    sort = request.GET.get("sort", "next")
    status = request.GET.get("status", "")
    starred = request.GET.get("starred") == "1"
    search = (request.GET.get("q") or "").strip()[:100]
    page = selectors.my_leads(user=request.user, sort=sort, status=status, starred=starred,
                              search=search, cursor=request.GET.get("after"))
    context = {
        "page": page, "sort": sort, "status": status, "starred": starred, "q": search,
        "sorts": [("next", _("Next follow-up")), ("age", _("Oldest first")),
                  ("newest", _("Newest first")), ("grade", _("Grade")), ("star", _("Key first")),
                  ("recycle", _("Recycle date (soonest first)"))],
        "statuses": [(s, Lead.Status(s).label) for s in Lead.OPEN_STATUSES],
        "now": timezone.now(),
        "soon": timezone.now() + timedelta(days=3),
    }
    return render_htmx(request, "leads/lead_list.html", context,
                       fragment="rows" if request.GET.get("after") else "table")


# --- Pool -----------------------------------------------------------------------------------


@entry_required(Entry.POOL)
def pool_list(request):
    # Opportunity pools hold opportunities: they have their own page.
    pools = list(pools_for(request.user).exclude(kind=LeadPool.Kind.OPPORTUNITY)
                 .order_by("kind", "code"))
    pool = None
    code = request.GET.get("pool")
    if pools:
        pool = next((p for p in pools if p.code == code), None) or next(
            (p for p in pools if p.kind == LeadPool.Kind.SUB), pools[0])
    search = (request.GET.get("q") or "").strip()[:100]
    page = (selectors.pool_leads(user=request.user, pool=pool, search=search,
                                 cursor=request.GET.get("after")) if pool else None)
    former = selectors.former_owner_lead_ids(request.user,
                                             [lead.pk for lead in page.rows] if page else [])
    can_claim = bool(pool) and pool_allows(request.user, pool, "claim_from_pool")
    load = rep_load(LEADS, request.user.pk, pool) if pool and can_claim else None
    can_assign = bool(pool) and pool_allows(request.user, pool, "assign_from_pool")
    route_targets = []
    if pool and rights_for(request.user).can(Operation.ROUTE) and (
            can_assign or pool_allows(request.user, pool, "manage_pool")):
        route_targets = list(descendant_pools(pool).exclude(kind=LeadPool.Kind.OPPORTUNITY))
    # Rows arrive ready to print: per-row template tags and URL reversals were most of
    # the page's server time at 50 rows.
    context = {"pools": pools, "pool": pool, "page": page, "q": search, "former": former,
               "rows": selectors.pool_rows(request.user, page.rows if page else [], former),
               "selectable": bool(can_assign or route_targets),
               "claim_label": _("Claim"), "csrf_input": csrf_input(request),
               "can_claim": can_claim, "load": load, "can_assign": can_assign,
               "route_targets": route_targets,
               "receivers": (selectors.lead_receivers(user=request.user, pool=pool)
                             if can_assign else [])}
    return render_htmx(request, "leads/pool_list.html", context,
                       fragment="rows" if request.GET.get("after") else None)


@require_POST
@entry_required(Entry.LEADS, Entry.POOL)
def lead_claim(request, pk: int):
    """Claim from the pool list (htmx: the row turns into the outcome) or a detail page."""
    try:
        lead = services.lead_claim(lead_id=pk, user=request.user)
        outcome = {"ok": True, "message": _("Claimed. The lead is now in My leads."),
                   "lead": lead}
    except services.LeadActionRefused as refused:
        outcome = {"ok": False, "message": refused.message, "code": refused.code}
    if request.htmx and request.POST.get("from") == "pool":
        return render(request, "leads/pool_list.html#claim-result", {"outcome": outcome,
                                                                    "lead_id": pk})
    if outcome["ok"]:
        messages.success(request, outcome["message"])
    else:
        messages.error(request, outcome["message"])
    return _back_to_detail(request, pk)


# --- Lead detail ---------------------------------------------------------------------------


def _detail_context(request, lead: Lead) -> dict:
    events = selectors.lead_events(lead)
    is_owner = lead.owner_id == request.user.pk
    due = lead.recycle_due_at
    outcomes = dict(FollowUp.Outcome.choices)
    contact_clear = selectors.lead_contact_clear(request.user, lead, "detail")
    return {
        "recycle_soon": bool(due and due - timezone.now() < timedelta(days=3)),
        "extension": (lead.extension_requests.filter(requested_by=request.user).first()
                      if is_owner else None),
        "qualifying_outcomes": [outcomes.get(o, o) for o in lead.pool.qualifying_outcomes or ()],
        "lead": lead,
        "is_owner": is_owner and lead.is_open,
        "contact_clear": contact_clear,
        # The channel's free-form data (raw payload, unmapped import columns) is masked by
        # pattern like the contact fields, e.g. on a pool that hides contacts until claimed.
        "attributes": show_bag(request.user, lead.attributes, Scenario.DETAIL,
                               clear=contact_clear),
        "events": events,
        "stints": selectors.ownership_stints(events),
        "followups": selectors.lead_followups(lead),
        "touchpoints": list(lead.touchpoints.all()[:50]),
        "in_pool": lead.owner_id is None and lead.status == Lead.Status.IN_POOL,
        "can_claim": pool_allows(request.user, lead.pool, "claim_from_pool"),
        "release_form": ReasonForm(dictionary="release_reason"),
        "invalid_form": ReasonForm(dictionary="lead_status_reason"),
        "followup_form": FollowUpForm(),
    }


def _record_pool_open(request, lead: Lead) -> None:
    """Count a pool lead's page view against the pool's daily open limit."""
    try:
        services.pool_lead_open(lead=lead, user=request.user)
    except services.LeadActionRefused as refused:
        raise PermissionDenied(refused.message) from refused


@entry_required(Entry.LEADS, Entry.POOL)
def lead_detail(request, pk: int):
    lead = selectors.lead_get(user=request.user, lead_id=pk)
    _record_pool_open(request, lead)
    return render_htmx(request, "leads/lead_detail.html", _detail_context(request, lead),
                       fragment="panel")


def _back_to_detail(request, pk: int):
    if request.htmx:
        try:
            lead = selectors.lead_get(user=request.user, lead_id=pk)
        except Http404:
            response = HttpResponse(status=204)
            response["HX-Redirect"] = "/leads/"
            return response
        return render(request, "leads/lead_detail.html#panel", _detail_context(request, lead))
    return redirect("lead_detail", pk=pk)


def _run(request, pk: int, action) -> HttpResponse:
    try:
        action()
    except services.LeadActionRefused as refused:
        messages.error(request, refused.message)
    return _back_to_detail(request, pk)


@require_POST
@entry_required(Entry.LEADS, Entry.POOL)
def lead_release(request, pk: int):
    form = ReasonForm(request.POST, dictionary="release_reason")
    if not form.is_valid():
        messages.error(request, _("Choose a release reason from the list."))
        return _back_to_detail(request, pk)

    def act():
        services.lead_release(lead_id=pk, user=request.user, **form.cleaned_data)
        messages.success(request, _("Released back to the pool."))

    return _run(request, pk, act)


@require_POST
@entry_required(Entry.LEADS, Entry.POOL)
def lead_invalidate(request, pk: int):
    form = ReasonForm(request.POST, dictionary="lead_status_reason")
    if not form.is_valid():
        messages.error(request, _("Choose why the lead is invalid."))
        return _back_to_detail(request, pk)

    def act():
        services.lead_invalidate(lead_id=pk, user=request.user, **form.cleaned_data)
        messages.success(request, _("Marked invalid."))

    return _run(request, pk, act)


@require_POST
@entry_required(Entry.LEADS, Entry.POOL)
def lead_star(request, pk: int):
    starred = request.POST.get("starred") == "1"
    if not (request.htmx and request.POST.get("from") == "list"):
        return _run(request, pk, lambda: services.lead_star(lead_id=pk, user=request.user,
                                                            starred=starred))
    try:
        lead = services.lead_star(lead_id=pk, user=request.user, starred=starred)
    except services.LeadActionRefused as refused:
        return HttpResponse(refused.message, status=403)
    return render(request, "leads/lead_list.html#star", {"lead": lead})


@require_POST
@entry_required(Entry.LEADS, Entry.POOL)
def followup_add(request, pk: int):
    form = FollowUpForm(request.POST)
    if not form.is_valid():
        lead = selectors.lead_get(user=request.user, lead_id=pk)
        context = _detail_context(request, lead)
        context["followup_form"] = form
        return render_htmx(request, "leads/lead_detail.html", context, fragment="panel",
                           status=200 if request.htmx else 400)

    def act():
        services.followup_add(lead_id=pk, user=request.user, **form.cleaned_data)
        messages.success(request, _("Follow-up saved."))

    return _run(request, pk, act)


# --- Manual entry with live duplicate check -------------------------------------------------------


def _entry_pools(user):
    return pools_for(user).exclude(kind=LeadPool.Kind.DORMANT).order_by("kind", "code")


@entry_required(Entry.LEADS, Entry.POOL)
def lead_new(request):
    rights = rights_for(request.user)
    if not rights.can(Operation.CREATE_LEAD):
        raise PermissionDenied(_("Your roles do not allow entering leads."))
    can_keep = rights.can(Operation.CLAIM)
    form = LeadForm(request.POST or None, pools=_entry_pools(request.user), can_keep=can_keep)
    hits = []
    if request.method == "POST" and form.is_valid():
        data = dict(form.cleaned_data)
        pool, keep = data.pop("pool"), data.pop("keep", False)
        try:
            lead = services.lead_create(pool=pool, actor=request.user, data=data,
                                        take_ownership=keep)
        except services.DuplicateLead as duplicate:
            hits = duplicate.hits
            form.add_error(None, duplicate.message)
        except services.LeadActionRefused as refused:
            form.add_error(None, refused.message)
        else:
            if getattr(lead, "attached", False):
                messages.info(request, _("Already known: recorded as a new touchpoint of the "
                                         "existing lead."))
            elif lead.owner_id and lead.owner_id != request.user.pk:
                messages.info(request, _("Already a customer of %(team)s: the lead went to "
                                         "its owner.")
                              % {"team": services.owner_team_name(lead.owner_id)})
            else:
                messages.success(request, _("Lead saved."))
            if lead.owner_id == request.user.pk:
                return redirect("lead_detail", pk=lead.pk)
            return redirect("lead_new")
    return render(request, "leads/lead_form.html",
                  {"form": form, "hits": _describe_hits(request, hits)})


def _describe_hits(request, hits) -> list[dict]:
    described = []
    for hit in hits:
        lead = hit.lead
        if lead.owner_id == request.user.pk:
            kind = "own"
        elif hit.in_pool:
            kind = "pool"
        else:
            kind = "other"
        described.append({
            "lead": lead, "kind": kind, "matched_on": hit.matched_on,
            "team": services.owner_team_name(lead.owner_id) if kind == "other" else "",
            "can_claim": kind == "pool" and pool_allows(request.user, lead.pool,
                                                       "claim_from_pool"),
        })
    return described


@require_POST
@entry_required(Entry.LEADS, Entry.POOL)
def lead_check(request):
    """As-you-type duplicate check of the entry form (htmx fragment)."""
    hits = services.duplicate_hits(mobile=request.POST.get("mobile", "")[:40],
                                   email=request.POST.get("email", "")[:254],
                                   company=request.POST.get("company", "")[:200])
    return render(request, "leads/lead_form.html#dupes",
                  {"hits": _describe_hits(request, hits)})


# --- Manager: team leads, assign, transfer, load ------------------------------------------------


@entry_required(Entry.TEAM_LEADS)
def team_leads(request):
    reps = list(selectors.assignable_reps(user=request.user))
    owner_id = parse_id(request.GET.get("owner"))
    page = selectors.scope_owned_leads(user=request.user, owner_id=owner_id,
                                       cursor=request.GET.get("after"))
    assign_pools = list(pools_for(request.user, "assign_from_pool").order_by("kind", "code"))
    context = {
        "reps": reps, "owner_id": owner_id, "page": page,
        "loads": selectors.rep_loads(user=request.user),
        "transfer_form": TransferForm(reps=reps),
        "assign_form": AssignForm(reps=reps),
        "assign_pools": assign_pools,
    }
    return render_htmx(request, "leads/team_leads.html", context,
                       fragment="rows" if request.GET.get("after") else None)


@require_POST
@entry_required(Entry.TEAM_LEADS)
def team_transfer(request):
    reps = list(selectors.assignable_reps(user=request.user))
    form = TransferForm(request.POST, reps=reps)
    if not form.is_valid():
        for errors in form.errors.values():
            messages.error(request, " ".join(errors))
        return redirect("team_leads")
    try:
        moved = services.lead_transfer(
            lead_ids=form.cleaned_data["leads"], to_user_id=form.cleaned_data["to_rep"],
            actor=request.user, reason=form.cleaned_data["reason"],
            note=form.cleaned_data["note"])
    except services.LeadActionRefused as refused:
        messages.error(request, refused.message)
    else:
        messages.success(request, _("%(count)d leads transferred.") % {"count": moved})
    return redirect("team_leads")


@require_POST
@entry_required(Entry.POOL)
def pool_assign(request):
    # The choices the pool page offered; the service checks each lead's pool again.
    pool = LeadPool.objects.filter(code=request.POST.get("pool") or "").select_related(
        "org_unit").first()
    reps = [e for group in selectors.lead_receivers(user=request.user, pool=pool)
            for e in group.people] if pool else []
    form = AssignForm(request.POST, reps=reps)
    back = safe_next(request, "/leads/pool/")
    if not form.is_valid():
        for errors in form.errors.values():
            messages.error(request, " ".join(errors))
        return redirect(back)
    try:
        moved = services.lead_assign(lead_ids=form.cleaned_data["leads"],
                                     to_user_id=form.cleaned_data["to_rep"],
                                     actor=request.user)
    except services.LeadActionRefused as refused:
        messages.error(request, refused.message)
    else:
        skipped = len(form.cleaned_data["leads"]) - moved
        messages.success(request, _("%(count)d leads assigned.") % {"count": moved})
        if skipped:
            messages.warning(request, _("%(count)d leads were taken by someone else meanwhile "
                                        "and were skipped.") % {"count": skipped})
    return redirect(back)
