"""Pages of quality inspection: the inspector's workbench (queue + item + score sheet), the
rep's results and appeals, the QA lead's appeal decisions.

Each view: check the entry and right → validate a form → one selector or service →
render (the full page, or its htmx fragment) or redirect.
"""

from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.http import Http404
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from crm_site.lib.access import entry_required
from orgs.rights import Entry, Operation
from orgs.selectors import rights_for

from . import selectors
from .forms import AppealForm, DecisionForm, QueueFilterForm, ScoreSheetForm
from .inspections import (
    QARefused,
    appeal_decide,
    appeal_file,
    inspection_submit,
    is_qa_lead,
    version_items,
)
from .models import Appeal, ViolationType


def _require(user, operation: str) -> None:
    if not rights_for(user).can(operation):
        raise PermissionDenied(_("Your roles do not allow this."))


def _filters(request) -> tuple[selectors.QueueFilters, str | None, QueueFilterForm]:
    form = QueueFilterForm(request.GET)
    data = form.cleaned_data if form.is_valid() else {}
    filters = selectors.QueueFilters(
        plan=data.get("plan"), team=data.get("team"), rep=data.get("rep"),
        category=data.get("category") or "", age=data.get("age"),
        status=data.get("status") or "open")
    return filters, data.get("cursor") or None, form


def _item_panel(request, context, *, form=None, error=None, status=200, oob_done=None):
    sheet = form
    if sheet is None and context is not None and context.can_score:
        sheet = ScoreSheetForm(items=version_items(context.version) if context.version else ())
    if request.htmx:
        status = 200  # htmx swaps only 2xx answers: the refusal shows in the panel
    response = render(request, "qa/workbench.html#item", {
        "ctx": context, "sheet": sheet, "error": error, "oob_done": oob_done,
        "violation_types": ViolationType.objects.filter(is_active=True),
    }, status=status)
    response["Vary"] = "HX-Request"
    return response


@entry_required(Entry.QA_HOME)
def workbench(request):
    """The inspector's queue beside the item being inspected."""
    _require(request.user, Operation.INSPECT)
    filters, cursor, form = _filters(request)
    page = selectors.queue_page(user=request.user, filters=filters, cursor=cursor)
    if request.htmx and request.htmx.target == "queue-rows":
        response = render(request, "qa/workbench.html#rows",
                          {"page": page, "filters": form.data})
        response["Vary"] = "HX-Request"
        return response
    selected = request.GET.get("item")
    item_id = int(selected) if selected and selected.isdigit() else (
        page.rows[0].pk if page.rows else None)
    context = selectors.item_context(user=request.user, item_id=item_id) if item_id else None
    sheet = None
    if context is not None and context.can_score:
        sheet = ScoreSheetForm(items=version_items(context.version) if context.version else ())
    response = render(request, "qa/workbench.html", {
        "page": page, "filters": form.data, "choices": selectors.queue_choices(user=request.user),
        "ctx": context, "sheet": sheet, "status": filters.status,
        "violation_types": ViolationType.objects.filter(is_active=True),
        "is_lead": is_qa_lead(request.user),
    })
    response["Vary"] = "HX-Request"
    return response


@entry_required(Entry.QA_HOME)
def item_panel(request, item_id: int):
    """One item in context (the htmx swap when the inspector picks another item)."""
    _require(request.user, Operation.INSPECT)
    context = selectors.item_context(user=request.user, item_id=item_id)
    if context is None:
        raise Http404
    if not request.htmx:
        return redirect(f"{reverse('qa_home')}?item={item_id}")
    return _item_panel(request, context)


@require_POST
@entry_required(Entry.QA_HOME)
def item_inspect(request, item_id: int):
    """Score the item; the answer is the next item of the queue (htmx) or a redirect."""
    _require(request.user, Operation.INSPECT)
    context = selectors.item_context(user=request.user, item_id=item_id)
    if context is None:
        raise Http404
    items = version_items(context.version) if context.version else []
    form = ScoreSheetForm(request.POST, items=items)
    if not form.is_valid():
        return _item_panel(request, context, form=form,
                           error=_("Score every item and choose a verdict."), status=422)
    try:
        inspection_submit(item_id=item_id, inspector=request.user, scores=form.scores(),
                          verdict=form.cleaned_data["verdict"],
                          violation_ids=[v.pk for v in form.cleaned_data["violations"]],
                          comment=form.cleaned_data["comment"])
    except QARefused as refused:
        return _item_panel(request, context, form=form, error=refused.message, status=409)
    following = selectors.next_item_id(user=request.user, after_id=item_id)
    if not request.htmx:
        messages.success(request, _("Inspection saved."))
        return redirect(f"{reverse('qa_home')}?item={following}" if following
                        else reverse("qa_home"))
    nxt = selectors.item_context(user=request.user, item_id=following) if following else None
    return _item_panel(request, nxt, oob_done=item_id)


@entry_required(Entry.WORKBENCH, Entry.QA_HOME)
def results(request):
    """The rep's own inspection results, with the appeal form where one is allowed."""
    return render(request, "qa/results.html", {
        "results": selectors.rep_results(user=request.user), "form": AppealForm()})


@require_POST
@entry_required(Entry.WORKBENCH, Entry.QA_HOME)
def appeal(request, inspection_id: int):
    form = AppealForm(request.POST)
    if not form.is_valid():
        messages.error(request, _("Say why you appeal."))
        return redirect("qa_results")
    try:
        appeal_file(inspection_id=inspection_id, rep=request.user,
                    reason=form.cleaned_data["reason"])
    except QARefused as refused:
        messages.error(request, refused.message)
    else:
        messages.success(request, _("Your appeal was sent to the QA leads."))
    return redirect("qa_results")


@entry_required(Entry.QA_HOME)
def appeals(request):
    """Open appeals for a QA lead to decide, and the latest decided ones."""
    _require(request.user, Operation.QA_LEAD)
    return render(request, "qa/appeals.html", {
        "open": selectors.open_appeals(user=request.user),
        "decided": selectors.open_appeals(user=request.user, status=Appeal.Status.OVERTURNED,
                                          limit=20)
        + selectors.open_appeals(user=request.user, status=Appeal.Status.UPHELD, limit=20),
    })


@require_POST
@entry_required(Entry.QA_HOME)
def appeal_decision(request, appeal_id: int):
    _require(request.user, Operation.QA_LEAD)
    form = DecisionForm(request.POST)
    if not form.is_valid():
        messages.error(request, _("Choose uphold or overturn."))
        return redirect("qa_appeals")
    try:
        appeal_decide(appeal_id=appeal_id, user=request.user,
                      overturn=form.cleaned_data["decision"] == "overturn",
                      comment=form.cleaned_data["comment"])
    except QARefused as refused:
        messages.error(request, refused.message)
    else:
        messages.success(request, _("Appeal decided."))
    return redirect("qa_appeals")
