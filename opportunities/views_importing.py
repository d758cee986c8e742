"""Import of customers, contacts, opportunities, products and employees from the browser:
upload (kind, file, saved mapping) → the one import pipeline's background task, progress
bar and rejected-rows report (``leads.views_intake.import_progress``)."""

from __future__ import annotations

from django import forms
from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.shortcuts import redirect, render
from django.utils import translation
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from crm_site.lib.imports.columns import DEFAULT_EMPTY_MARKERS
from crm_site.lib.imports.registry import all_kinds
from leads import tasks
from leads.imports.runner import mapping_names
from leads.models_intake import ImportJob
from leads.views_intake import ImportFileField
from orgs.access import entry_required
from orgs.rights import Entry, Operation
from orgs.selectors import rights_for


def record_kinds() -> dict:
    """The kinds imported from this page (leads have their own, with a pool)."""
    return {code: kind for code, kind in all_kinds().items() if not kind.into_pool}


class RecordUploadForm(forms.Form):
    kind = forms.ChoiceField(label=gettext_lazy("Records"))
    file = ImportFileField(label=gettext_lazy("CSV or Excel file"))
    mapping = forms.ChoiceField(label=gettext_lazy("Columns"), required=False)

    def __init__(self, *args, kinds=(), **kwargs):
        super().__init__(*args, **kwargs)
        labels = record_kinds()
        self.fields["kind"].choices = [(code, labels[code].label) for code in kinds]
        self.offered = {code: set(mapping_names(code)) for code in kinds}
        names = sorted(set().union(*self.offered.values())) if kinds else []
        self.fields["mapping"].choices = [("", _("Recognise the column headers"))] + [
            (name, _("Saved mapping: %(name)s") % {"name": name}) for name in names]

    def clean(self):
        data = super().clean()
        kind, name = data.get("kind"), data.get("mapping")
        if kind and name and name not in self.offered.get(kind, ()):
            self.add_error("mapping", _("The saved mapping %(name)s has no columns for "
                                        "%(kind)s.") % {"name": name,
                                                        "kind": record_kinds()[kind].label})
        return data


def importable_kinds(user) -> list[str]:
    """What ``user`` may import: records with the import right; employees (the org tree)
    only with administration as well."""
    rights = rights_for(user)
    if not rights.can(Operation.IMPORT):
        return []
    return [code for code, kind in record_kinds().items()
            if not kind.admin_only or rights.opens(Entry.ADMIN)]


@entry_required(Entry.POOL, Entry.MARKETING_HOME, Entry.ADMIN)
def record_import_upload(request):
    kinds = importable_kinds(request.user)
    if not kinds:
        raise PermissionDenied(_("Your roles do not allow importing records."))
    form = RecordUploadForm(request.POST or None, request.FILES or None, kinds=kinds)
    if request.method == "POST" and form.is_valid():
        upload, kind = form.cleaned_data["file"], form.cleaned_data["kind"]
        language = translation.get_language()
        with transaction.atomic():
            job = ImportJob.objects.create(
                created_by=request.user, kind=kind, mapping_name=form.cleaned_data["mapping"],
                pool=None, file=upload, original_name=upload.name[:255],
                empty_markers=DEFAULT_EMPTY_MARKERS, status=ImportJob.Status.READING,
                language=language)
            tasks.import_file.delay_on_commit(job.pk, language=language)
        return redirect("import_progress", pk=job.pk)
    jobs = ImportJob.objects.filter(created_by=request.user).exclude(kind="leads")[:10]
    return render(request, "imports/record_upload.html", {"form": form, "jobs": jobs,
                                                          "kinds": record_kinds()})
