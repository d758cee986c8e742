"""Pipeline pages: the board, the list (and its CSV export), an opportunity's page, the
opportunity pool, and converting a lead.

Views are thin: check the entry, validate a form, call one service or selector, render the
page or, for htmx requests, the named partial of the same template.
"""

from __future__ import annotations

from datetime import timedelta

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import pgettext
from django.views.decorators.http import require_POST

from crm_site.lib.exports import csv_response
from crm_site.lib.htmx import render_htmx
from crm_site.lib.inputs import parse_id, parse_ids
from crm_site.lib.masking import mask
from leads import selectors as lead_selectors
from leads.permissions import pool_allows
from leads.pools.extensions import ExtensionRefused, extension_request
from opportunities.subjects import OPPORTUNITIES
from orgs.access import can_unmask, entry_required
from orgs.rights import Entry, Operation
from orgs.selectors import rights_for

from .. import stages as stage_dictionary
from ..customers.selectors import customer_url_for
from ..models import Opportunity
from . import conversion as services_conversion
from . import selectors as selectors
from . import services as services_pipeline
from .forms import ConvertForm, MoveForm


def _owners(user):
    return list(lead_selectors.assignable_reps(user=user))


# --- the board -------------------------------------------------------------------------------


def _board_context(request, filters) -> dict:
    columns = selectors.board(user=request.user, filters=filters)
    return {"columns": columns, "filters": filters, "qs": filters.querystring(),
            "lost_reasons": stage_dictionary.lost_reasons(),
            "stages": [c.stage for c in columns],
            "owners": _owners(request.user) if not rights_for(request.user).widest_scope
            or rights_for(request.user).widest_scope > 10 else [],
            "types": Opportunity.Type.choices}


@entry_required(Entry.OPPORTUNITIES)
def pipeline_board(request):
    filters = selectors.Filters.from_query(request.GET)
    return render_htmx(request, "opportunities/pipeline_board.html",
                       _board_context(request, filters),
                       fragment="board" if request.GET.get("fragment") == "board" else None)


@login_required
def pipeline_summary(request):
    """The workbench card: my (or my team's) pipeline by stage, loaded by htmx."""
    if not rights_for(request.user).opens(Entry.OPPORTUNITIES):
        return HttpResponse("")
    columns = selectors.board(user=request.user, filters=selectors.Filters(), cards=False)
    return render(request, "opportunities/pipeline_summary.html", {
        "columns": columns, "total": sum(c.total for c in columns if not c.stage.closed),
        "weighted": sum(c.weighted for c in columns if not c.stage.closed)})


@entry_required(Entry.OPPORTUNITIES)
def board_column(request, stage: str):
    """The next cards of one column (the "more" button)."""
    filters = selectors.Filters.from_query(request.GET)
    after = request.GET.get("after") or ""
    cards, next_cursor = selectors.board_column_page(
        user=request.user, filters=filters, stage=stage,
        after=parse_id(after))
    found = stage_dictionary.stage_map()
    column_stage = found.get(stage) or stage_dictionary.Stage(
        code=stage, label=stage, order=len(found), probability=0, closed="")
    return render(request, "opportunities/pipeline_board.html#more-cards", {
        "cards": cards, "column": {"stage": column_stage, "next_cursor": next_cursor},
        "stages": list(found.values()), "qs": filters.querystring(),
        "lost_reasons": stage_dictionary.lost_reasons()})


@require_POST
@entry_required(Entry.OPPORTUNITIES)
def opportunity_move(request, pk: int):
    """Move a card (drag, keyboard or the detail page's form); a stale move is refused."""
    form = MoveForm(request.POST)
    if not form.is_valid():
        messages.error(request, _("Choose a stage from the list."))
    else:
        try:
            moved = services_pipeline.opportunity_move(
                opportunity_id=pk, user=request.user, to_stage=form.cleaned_data["stage"],
                version=form.cleaned_data["version"],
                lost_reason=form.cleaned_data["lost_reason"] or "")
            messages.success(request, _("“%(name)s” moved to %(stage)s.") % {
                "name": moved.name,
                "stage": stage_dictionary.stage_map()[moved.stage].label})
        except services_pipeline.OpportunityActionRefused as refused:
            if refused.code == "forbidden":
                raise Http404 from None
            messages.error(request, refused.message)
    if request.POST.get("from") == "board":
        filters = selectors.Filters.from_query(request.GET)
        context = _board_context(request, filters)
        if request.htmx:
            return render(request, "opportunities/pipeline_board.html#board", context)
        return redirect(f"{reverse('pipeline_board')}?{filters.querystring()}")
    return redirect("opportunity_detail", pk=pk)


# --- the list and its export ----------------------------------------------------------------


@entry_required(Entry.OPPORTUNITIES)
def opportunity_list(request):
    filters = selectors.Filters.from_query(request.GET)
    page = selectors.opportunity_list(user=request.user, filters=filters,
                                      cursor=request.GET.get("after"))
    clear = can_unmask(request.user, "list")
    for row in page.rows:
        row.mobile_shown = selectors.masked(row.mobile or "", clear)
    context = {"page": page, "filters": filters, "qs": filters.querystring(),
               "stages": stage_dictionary.stages(), "owners": _owners(request.user),
               "statuses": Opportunity.Status.choices, "types": Opportunity.Type.choices,
               "stage_labels": {s.code: s.label for s in stage_dictionary.stages()},
               "can_export": rights_for(request.user).can(Operation.EXPORT)}
    return render_htmx(request, "opportunities/opportunity_list.html", context,
                       fragment="rows" if request.GET.get("after") else None)


@entry_required(Entry.OPPORTUNITIES)
def opportunity_export(request):
    if not rights_for(request.user).can(Operation.EXPORT):
        raise PermissionDenied(_("Your roles do not allow exporting data."))
    filters = selectors.Filters.from_query(request.GET)
    clear = can_unmask(request.user, "export")
    labels = {s.code: s.label for s in stage_dictionary.stages(include_inactive=True)}
    reasons = dict(stage_dictionary.lost_reasons())
    header = [_("Opportunity"), _("Customer"), _("Contact"), _("Mobile"), _("Owner"),
              pgettext("opportunity", "Type"), _("Amount"), _("Stage"), _("Status"),
              _("Lost reason"), _("Expected close"), _("Created")]

    def rows():
        for row in selectors.export_rows(user=request.user, filters=filters).iterator(
                chunk_size=2000):
            owner = getattr(row.owner, "employee", None)
            yield [row.name, row.customer.name, row.contact.name if row.contact else "",
                   (row.mobile or "") if clear else mask(row.mobile or "", "phone"),
                   owner.display_name if owner else row.owner.get_username(),
                   row.get_type_display(), row.amount, labels.get(row.stage, row.stage),
                   row.get_status_display(), reasons.get(row.lost_reason, row.lost_reason),
                   row.expected_close or "",
                   timezone.localtime(row.created_at).strftime("%Y-%m-%d")]

    return csv_response("opportunities.csv", header, rows())


# --- an opportunity's page -------------------------------------------------------------------


@entry_required(Entry.OPPORTUNITIES)
def opportunity_detail(request, pk: int):
    opportunity = selectors.opportunity_get(user=request.user, opportunity_id=pk)
    clear = selectors.contact_clear(request.user, opportunity, "detail")
    methods = [(m, m.value if clear else mask(m.value, "email" if m.kind == "email"
                                              else "phone"))
               for m in selectors.contact_methods(opportunity)]
    found = stage_dictionary.stage_map()
    due = opportunity.recycle_due_at
    in_pool = opportunity.owner_id is None and opportunity.status == Opportunity.Status.IN_POOL
    context = {
        "opportunity": opportunity, "stage": found.get(opportunity.stage),
        "customer_url": customer_url_for(request.user, opportunity.customer_id),
        "stages": list(found.values()), "lost_reasons": stage_dictionary.lost_reasons(),
        "lost_reason_label": dict(stage_dictionary.lost_reasons()).get(
            opportunity.lost_reason, opportunity.lost_reason),
        "history": selectors.stage_history(opportunity),
        "events": selectors.opportunity_events(opportunity),
        "methods": methods, "contact_clear": clear,
        "can_move": services_pipeline.may_move(request.user, opportunity),
        "in_pool": in_pool,
        "can_claim": in_pool and opportunity.pool is not None
        and pool_allows(request.user, opportunity.pool, "claim_from_pool"),
        "in_stage_for": timezone.now() - opportunity.stage_changed_at,
        "recycle_soon": bool(due and due - timezone.now() < timedelta(days=3)),
        "source_leads": list(opportunity.source_leads.only("pk", "name", "company")),
        "extension": (opportunity.extension_requests.filter(requested_by=request.user).first()
                      if opportunity.owner_id == request.user.pk else None),
        "is_owner": opportunity.owner_id == request.user.pk,
    }
    return render(request, "opportunities/opportunity_detail.html", context)


@require_POST
@entry_required(Entry.OPPORTUNITIES)
def opportunity_extension(request, pk: int):
    """The owner asks once for more time before the opportunity is recycled."""
    selectors.opportunity_get(user=request.user, opportunity_id=pk)  # 404 outside reach
    try:
        extension_request(subject=OPPORTUNITIES, record_id=pk, user=request.user,
                                      reason=request.POST.get("reason", "")[:500])
    except ExtensionRefused as refused:
        messages.error(request, refused.message)
    else:
        messages.success(request, _("Request sent to your manager."))
    return redirect("opportunity_detail", pk=pk)


# --- the opportunity pool ---------------------------------------------------------------------


@entry_required(Entry.OPPORTUNITIES)
def opportunity_pool(request):
    pools = list(selectors.opportunity_pools(request.user).order_by("code"))
    pool = next((p for p in pools if p.code == request.GET.get("pool")), None) or (
        pools[0] if pools else None)
    search = (request.GET.get("q") or "").strip()[:100]
    page = (selectors.pool_opportunities(pool=pool, search=search,
                                         cursor=request.GET.get("after")) if pool else None)
    can_assign = bool(pool) and pool_allows(request.user, pool, "assign_from_pool")
    context = {"pools": pools, "pool": pool, "page": page, "q": search,
               "counts": services_pipeline.pool_counts([p.pk for p in pools]),
               "can_claim": bool(pool) and pool_allows(request.user, pool, "claim_from_pool"),
               "can_assign": can_assign,
               "reps": _owners(request.user) if can_assign else [],
               "stage_labels": {s.code: s.label for s in stage_dictionary.stages()}}
    return render_htmx(request, "opportunities/opportunity_pool.html", context,
                       fragment="rows" if request.GET.get("after") else None)


@require_POST
@entry_required(Entry.OPPORTUNITIES)
def opportunity_claim(request, pk: int):
    try:
        services_pipeline.opportunity_claim(opportunity_id=pk, user=request.user)
        messages.success(request, _("Claimed. The opportunity is now on your board."))
    except services_pipeline.OpportunityActionRefused as refused:
        if refused.code == "forbidden":
            raise Http404 from None
        messages.error(request, refused.message)
        return redirect("opportunity_pool")
    return redirect("opportunity_detail", pk=pk)


@require_POST
@entry_required(Entry.OPPORTUNITIES)
def opportunity_pool_assign(request):
    ids = parse_ids(request.POST.getlist("ids"))
    to_user = parse_id(request.POST.get("to_user"))
    pool_code = request.POST.get("pool") or ""
    if not ids or to_user is None:
        messages.error(request, _("Choose opportunities and a rep."))
    else:
        try:
            n = services_pipeline.opportunity_assign(opportunity_ids=ids,
                                                     to_user_id=to_user,
                                                     actor=request.user)
            messages.success(request, _("%(n)d opportunities assigned.") % {"n": n})
        except services_pipeline.OpportunityActionRefused as refused:
            if refused.code == "forbidden":
                raise PermissionDenied(refused.message) from None
            messages.error(request, refused.message)
    return redirect(f"{reverse('opportunity_pool')}?pool={pool_code}")


# --- converting a lead ---------------------------------------------------------------------


@entry_required(Entry.LEADS)
def lead_convert(request, lead_id: int):
    lead = lead_selectors.lead_get(user=request.user, lead_id=lead_id)
    if lead.owner_id != request.user.pk or not lead.is_open:
        raise Http404
    clear = lead_selectors.lead_contact_clear(request.user, lead, "detail")
    if request.method == "POST":
        form = ConvertForm(request.POST)
        if form.is_valid():
            data = form.cleaned_data
            try:
                done = services_conversion.lead_convert(
                    lead_id=lead.pk, user=request.user, customer_id=data["customer_id"],
                    customer_name=data["customer_name"], contact_name=data["contact_name"],
                    mobile=data["mobile"], email=data["email"],
                    opportunity_name=data["opportunity_name"], type=data["type"],
                    amount=data["amount"], expected_close=data["expected_close"],
                    stage=data["stage"])
            except services_pipeline.OpportunityActionRefused as refused:
                form.add_error(None, refused.message)
            else:
                messages.success(request, _("Lead converted: customer “%(customer)s”, "
                                            "opportunity “%(name)s”.")
                                 % {"customer": done.customer.name,
                                    "name": done.opportunity.name})
                return redirect("opportunity_detail", pk=done.opportunity.pk)
    else:
        form = ConvertForm(initial={
            "customer_name": lead.company or lead.name, "contact_name": lead.name,
            "mobile": lead.mobile if clear else "", "email": lead.email if clear else "",
            "opportunity_name": services_conversion.default_opportunity_name(lead),
            "stage": stage_dictionary.first_open_stage()})
    return render(request, "opportunities/lead_convert.html", {"lead": lead, "form": form,
                                                               "contact_clear": clear})


@entry_required(Entry.LEADS)
def customer_search(request):
    """Customers in the user's scope whose name matches (htmx options for the convert form)."""
    found = services_conversion.customer_search(user=request.user,
                                                query=request.GET.get("customer_name", ""))
    return render(request, "opportunities/lead_convert.html#customer-options",
                  {"customers": found})
