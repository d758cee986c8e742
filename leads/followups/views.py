"""The follow-up panel shared by lead, customer and opportunity pages.

One view serves the panel (GET, an htmx fragment) and the add form (POST): it resolves the
record through the scoped selector of its kind (404 outside the viewer's data boundary),
calls the one follow-up service and answers with the panel again, or, without htmx,
sends the browser back to the record's page.
"""

from __future__ import annotations

from django.contrib import messages
from django.http import Http404
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _

from crm_site.lib.htmx import vary_on_htmx
from orgs.access import entry_required
from orgs.rights import Entry

from ..forms import FollowUpForm
from ..services import LeadActionRefused
from ..subjects import get_subject, subject_of
from . import selectors as selectors
from .services import followup_record

PANEL_TEMPLATE = "followups/panel.html"


def panel_context(request, record, *, form: FollowUpForm | None = None,
                  saved: bool = False, error: str = "") -> dict:
    """What the panel shows: the record's follow-ups, its open plan and, for its owner,
    the add form."""
    subject = subject_of(record)
    can_write = selectors.can_write_followups(request.user, record)
    auto_id = f"fu_{subject.code}_{record.pk}_%s"
    return {
        "subject": subject,
        "record": record,
        "panel_id": f"followups-{subject.code}-{record.pk}",
        "followups": selectors.subject_followups(record),
        "can_write": can_write,
        "form": (form or FollowUpForm(auto_id=auto_id)) if can_write else None,
        "saved": saved,
        "error": error,
        "now": timezone.now(),
    }


@entry_required(*Entry.values)
def followup_panel(request, subject: str, pk: int):
    if get_subject(subject) is None:
        raise Http404
    record = selectors.subject_get(user=request.user, code=subject, pk=pk)
    if request.method != "POST":
        return render(request, PANEL_TEMPLATE, panel_context(request, record))
    form = FollowUpForm(request.POST, auto_id=f"fu_{subject}_{pk}_%s")
    error, saved = "", False
    if form.is_valid():
        try:
            followup_record(subject=subject, record_id=pk, user=request.user,
                            **form.cleaned_data)
        except LeadActionRefused as refused:
            error = refused.message
        else:
            saved = True
    if not request.htmx:
        if saved:
            messages.success(request, _("Follow-up saved."))
        else:
            messages.error(request, error or " ".join(
                " ".join(errors) for errors in form.errors.values()))
        return redirect(get_subject(subject).url(pk) or "workbench")
    record = selectors.subject_get(user=request.user, code=subject, pk=pk)
    context = panel_context(request, record, form=None if saved else form, saved=saved,
                            error=error)
    response = vary_on_htmx(render(request, PANEL_TEMPLATE, context))
    if saved:
        # The page around the panel (status badge, recycle clock) may listen for this.
        response["HX-Trigger"] = "followup-saved"
    return response
