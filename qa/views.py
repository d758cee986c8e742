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

from crm_site.lib.exports import csv_response
from crm_site.lib.htmx import render_htmx, vary_on_htmx
from orgs.access import entry_required
from orgs.rights import Entry, Operation
from orgs.selectors import rights_for

from . import calibration, reports, selectors
from .forms import (
    MAX_ID,
    AppealForm,
    CalibrationForm,
    DecisionForm,
    QueueFilterForm,
    ReportPeriodForm,
    ScoreSheetForm,
)
from .inspections import (
    QARefused,
    appeal_decide,
    appeal_file,
    inspection_submit,
    is_qa_lead,
    version_items,
)
from .models import Appeal, CalibrationSession, ViolationType


def _known(*ids: int) -> None:
    """Ids from the URL beyond the database's range name no record: 404, not an error."""
    if any(pk > MAX_ID for pk in ids):
        raise Http404


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
    return vary_on_htmx(response)


@entry_required(Entry.QA_HOME)
def workbench(request):
    """The inspector's queue beside the item being inspected."""
    _require(request.user, Operation.INSPECT)
    filters, cursor, form = _filters(request)
    page = selectors.queue_page(user=request.user, filters=filters, cursor=cursor)
    if request.htmx and request.htmx.target == "queue-rows":
        return render_htmx(request, "qa/workbench.html", {"page": page, "filters": form.data},
                           fragment="rows")
    selected = form.cleaned_data.get("item") if form.is_valid() else None
    item_id = selected or (page.rows[0].pk if page.rows else None)
    context = selectors.item_context(user=request.user, item_id=item_id) if item_id else None
    sheet = None
    if context is not None and context.can_score:
        sheet = ScoreSheetForm(items=version_items(context.version) if context.version else ())
    return render_htmx(request, "qa/workbench.html", {
        "page": page, "filters": form.data, "choices": selectors.queue_choices(user=request.user),
        "ctx": context, "sheet": sheet, "status": filters.status,
        "violation_types": ViolationType.objects.filter(is_active=True),
        "is_lead": is_qa_lead(request.user),
    })


@entry_required(Entry.QA_HOME)
def item_panel(request, item_id: int):
    """One item in context (the htmx swap when the inspector picks another item)."""
    _known(item_id)
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
    _known(item_id)
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
    _known(inspection_id)
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
    _known(appeal_id)
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


# --- calibration -------------------------------------------------------------------------


@entry_required(Entry.QA_HOME)
def calibrations(request):
    """Calibration sessions: a QA lead starts one; inspectors find theirs here."""
    _require(request.user, Operation.INSPECT)
    lead = is_qa_lead(request.user)
    if request.method == "POST":
        _require(request.user, Operation.QA_LEAD)
        form = CalibrationForm(request.POST, inspectors=calibration.eligible_inspectors())
        if form.is_valid():
            try:
                session = calibration.calibration_create(
                    user=request.user, name=form.cleaned_data["name"],
                    item_count=form.cleaned_data["items"],
                    inspector_user_ids=[u.pk for u in form.cleaned_data["inspectors"]],
                    tolerance=form.cleaned_data["tolerance"])
            except QARefused as refused:
                messages.error(request, refused.message)
            else:
                return redirect("qa_calibration", session.pk)
        else:
            messages.error(request, _("Name the session, pick 1 to 50 items and two "
                                      "inspectors or more."))
        return redirect("qa_calibrations")
    sessions = CalibrationSession.objects.select_related("version__scorecard", "created_by")
    if not lead:
        sessions = sessions.filter(inspectors=request.user)
    return render(request, "qa/calibrations.html", {
        "sessions": sessions.order_by("-created_at", "-pk")[:50], "is_lead": lead,
        "form": CalibrationForm(inspectors=calibration.eligible_inspectors()) if lead else None})


def _session_for(user, session_id: int) -> CalibrationSession:
    session = CalibrationSession.objects.select_related("version__scorecard").filter(
        pk=session_id).first()
    if session is None or not (is_qa_lead(user)
                               or session.inspectors.filter(pk=user.pk).exists()):
        raise Http404
    return session


@entry_required(Entry.QA_HOME)
def calibration_detail(request, session_id: int):
    _known(session_id)
    _require(request.user, Operation.INSPECT)
    session = _session_for(request.user, session_id)
    return render(request, "qa/calibration.html",
                  calibration.session_view(session=session, user=request.user))


@entry_required(Entry.QA_HOME)
def calibration_item(request, session_id: int, item_id: int):
    """Score one calibration item blind (the official verdict and others' scores hidden)."""
    _known(session_id, item_id)
    _require(request.user, Operation.INSPECT)
    session = _session_for(request.user, session_id)
    context = selectors.item_context(user=request.user, item_id=item_id)
    if context is None or not session.items.filter(pk=item_id).exists():
        raise Http404
    context.inspection, context.appeal = None, None
    context.version, context.sections = session.version, selectors.current_sections(
        session.version)
    items = version_items(session.version)
    form, error = ScoreSheetForm(items=items), None
    if request.method == "POST":
        form = ScoreSheetForm(request.POST, items=items)
        if form.is_valid():
            try:
                calibration.calibration_score(
                    session_id=session.pk, item_id=item_id, inspector=request.user,
                    scores=form.scores(), verdict=form.cleaned_data["verdict"],
                    comment=form.cleaned_data["comment"])
            except QARefused as refused:
                error = refused.message
            else:
                return redirect("qa_calibration", session.pk)
        else:
            error = _("Score every item and choose a verdict.")
    return render(request, "qa/calibration_item.html", {
        "session": session, "ctx": context, "sheet": form, "error": error,
        "sheet_action": reverse("qa_calibration_item", args=[session.pk, item_id]),
        "violation_types": []}, status=422 if error else 200)


# --- reports -------------------------------------------------------------------------------


@entry_required(Entry.QA_HOME)
def report(request):
    """QA reports for a period: tables, charts, CSV."""
    form = ReportPeriodForm(request.GET or None)
    start, end = form.period()
    data = reports.qa_report(user=request.user, start=start, end=end)
    export = request.GET.get("export", "")
    if export in data["tables"] or export in ("hits", "appeals"):
        if not rights_for(request.user).can(Operation.EXPORT) and not is_qa_lead(request.user):
            raise PermissionDenied(_("Your roles do not allow exports."))
        return _export(export, data, start, end)
    charts = {
        "rep": {"labels": [r.label for r in data["tables"]["rep"][1]],
                "rate": [r.pass_rate for r in data["tables"]["rep"][1]],
                "average": [r.average for r in data["tables"]["rep"][1]],
                "rateName": str(_("Pass rate (%)")), "averageName": str(_("Average score"))},
        "hits": [{"name": name, "value": count} for name, count in data["hits"]],
        "locale": "EN" if (request.LANGUAGE_CODE or "").startswith("en") else "ZH",
    }
    return render(request, "qa/reports.html", {**data, "form": form, "start": start,
                                               "end": end, "charts": charts})


def _export(code: str, data: dict, start, end):
    name = f"qa-{code}-{start:%Y%m%d}-{end:%Y%m%d}.csv"
    if code == "hits":
        return csv_response(name, [_("Category"), _("Hits")], data["hits"])
    if code == "appeals":
        return csv_response(name, [_("Outcome"), _("Appeals")],
                            [(label, count) for _code, label, count in data["appeals"]])
    label, rows = data["tables"][code]
    return csv_response(name, [str(label), _("Inspections"), _("Passed"), _("Pass rate (%)"),
                               _("Average score (%)")],
                        ([r.label, r.inspections, r.passed, r.pass_rate, r.average]
                         for r in rows))
