"""Import of customers, contacts, opportunities, products and employees from the browser:
upload (kind, file, saved mapping) → the lead import's background task, progress bar and
rejected-rows report (``leads.views_intake.import_progress``)."""

from __future__ import annotations

from django import forms
from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.shortcuts import redirect, render
from django.utils import translation
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from leads import tasks
from leads.importer import DEFAULT_EMPTY_MARKERS, ImportFileError, read_table
from leads.models_intake import ImportJob
from leads.views_intake import ImportFileField
from orgs.access import entry_required
from orgs.rights import Entry, Operation
from orgs.selectors import rights_for

from .importing import KINDS, mapping_names, resolve_mapping


class RecordUploadForm(forms.Form):
    kind = forms.ChoiceField(label=gettext_lazy("Records"))
    file = ImportFileField(label=gettext_lazy("CSV or Excel file"))
    mapping = forms.ChoiceField(label=gettext_lazy("Columns"), required=False)

    def __init__(self, *args, kinds=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["kind"].choices = [(code, KINDS[code]) for code in kinds]
        names = sorted({name for code in kinds for name in mapping_names(code)})
        self.fields["mapping"].choices = [("", _("Recognise the column headers"))] + [
            (name, _("Saved mapping: %(name)s") % {"name": name}) for name in names]



def importable_kinds(user) -> list[str]:
    """What ``user`` may import: records with the import right; employees (the org tree)
    only with administration as well."""
    rights = rights_for(user)
    if not rights.can(Operation.IMPORT):
        return []
    return [code for code in KINDS if code != "employees" or rights.opens(Entry.ADMIN)]


@entry_required(Entry.POOL, Entry.MARKETING_HOME, Entry.ADMIN)
def record_import_upload(request):
    kinds = importable_kinds(request.user)
    if not kinds:
        raise PermissionDenied(_("Your roles do not allow importing records."))
    form = RecordUploadForm(request.POST or None, request.FILES or None, kinds=kinds)
    if request.method == "POST" and form.is_valid():
        upload, kind = form.cleaned_data["file"], form.cleaned_data["kind"]
        name = form.cleaned_data["mapping"]
        try:
            table = read_table(upload.read(), upload.name)
            mapping = resolve_mapping(kind, table.headers, name)
        except ImportFileError as exc:
            form.add_error("file", str(exc))
        except LookupError:
            form.add_error("mapping", _("The saved mapping %(name)s has no columns for "
                                        "%(kind)s.") % {"name": name, "kind": KINDS[kind]})
        else:
            upload.seek(0)
            with transaction.atomic():
                job = ImportJob.objects.create(
                    created_by=request.user, kind=kind, mapping_name=name, pool=None,
                    file=upload, original_name=upload.name[:255], encoding=table.encoding,
                    headers=table.headers, total_rows=table.total, mapping=mapping,
                    empty_markers=DEFAULT_EMPTY_MARKERS, status=ImportJob.Status.QUEUED)
                tasks.import_file.delay_on_commit(job.pk, language=translation.get_language())
            return redirect("import_progress", pk=job.pk)
    jobs = ImportJob.objects.filter(created_by=request.user).exclude(kind="leads")[:10]
    return render(request, "imports/record_upload.html", {"form": form, "jobs": jobs,
                                                          "kinds": KINDS})
