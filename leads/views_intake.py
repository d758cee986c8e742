"""Import pages: lead file upload → header mapping with preview → progress → report (the
report and progress of every import kind). Files are only stored here; the worker reads
them (``leads.imports.runner``) and the mapping page shows the preview it stored."""

from __future__ import annotations

from django import forms
from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.http import HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import translation
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from crm_site.lib.exports import csv_response
from crm_site.lib.htmx import render_htmx, vary_on_htmx
from crm_site.lib.imports.columns import ATTRIBUTE, DEFAULT_EMPTY_MARKERS, IGNORE, empty_set
from crm_site.lib.imports.reading import limit
from crm_site.lib.masking import Scenario
from orgs.access import entry_required
from orgs.rights import Entry, Operation
from orgs.selectors import rights_for

from . import tasks
from .forms import dictionary_choices
from .imports.lead_rows import TARGET_FIELDS, lead_matchers, preview_row
from .imports.runner import rejected_rows
from .models import LeadPool
from .models_intake import ImportJob, ImportMapping
from .permissions import pools_for


class ImportFileField(forms.FileField):
    """A CSV or Excel upload of at most ``IMPORT_MAX_BYTES`` (50 MB), for every import
    form; what is inside is read by the worker."""

    def clean(self, *args, **kwargs):
        upload = super().clean(*args, **kwargs)
        if upload.size > limit("MAX_BYTES"):
            raise forms.ValidationError(
                _("The file is larger than %(size)d MB. Split it and import the parts.")
                % {"size": limit("MAX_BYTES") // 2**20})
        if not upload.name.lower().endswith((".csv", ".txt", ".xlsx")):
            raise forms.ValidationError(_("Upload a .csv or .xlsx file."))
        return upload


class UploadForm(forms.Form):
    file = ImportFileField(label=gettext_lazy("CSV or Excel file"))
    pool = forms.ModelChoiceField(label=gettext_lazy("Into pool"), queryset=None,
                                  empty_label=None)
    channel = forms.ChoiceField(label=gettext_lazy("Channel"))

    def __init__(self, *args, pools=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["pool"].queryset = pools
        self.fields["channel"].choices = dictionary_choices("channel", blank=False)
        self.fields["channel"].initial = "file_import"



def _import_pools(user):
    return pools_for(user).exclude(kind=LeadPool.Kind.DORMANT).order_by("kind", "code")


def _require_import(user) -> None:
    if not rights_for(user).can(Operation.IMPORT):
        raise PermissionDenied(_("Your roles do not allow importing leads."))


def _own_job(request, pk: int) -> ImportJob:
    return get_object_or_404(ImportJob.objects.select_related("pool"), pk=pk,
                             created_by=request.user)


@entry_required(Entry.POOL, Entry.MARKETING_HOME)
def import_upload(request):
    _require_import(request.user)
    form = UploadForm(request.POST or None, request.FILES or None,
                      pools=_import_pools(request.user))
    if request.method == "POST" and form.is_valid():
        upload = form.cleaned_data["file"]
        with transaction.atomic():
            job = ImportJob.objects.create(
                created_by=request.user, kind="leads", pool=form.cleaned_data["pool"],
                channel=form.cleaned_data["channel"], file=upload,
                original_name=upload.name[:255], empty_markers=DEFAULT_EMPTY_MARKERS,
                status=ImportJob.Status.READING, language=translation.get_language(),
            )
            tasks.import_file.delay_on_commit(job.pk, language=translation.get_language())
        return redirect("import_map", pk=job.pk)
    jobs = ImportJob.objects.filter(created_by=request.user).select_related("pool")[:10]
    return render(request, "leads/import_upload.html", {"form": form, "jobs": jobs})


def _field_choices():
    return ([(ATTRIBUTE, _("Keep as an attribute")), (IGNORE, _("Ignore"))]
            + [(name, field.verbose_name) for name, field in TARGET_FIELDS.items()])


def _preview(job: ImportJob, mapping: dict, name_template: str, empty: list[str]):
    """The first rows as the import would read them, from the preview the worker stored
    (the file itself is never parsed in a web request)."""
    rows = []
    matchers = lead_matchers()
    for line, cells in job.preview:
        values, attributes, problem = preview_row(cells, job.headers, mapping,
                                                   empty_set(empty), name_template, matchers)
        rows.append({"line": line, "values": values, "attributes": attributes,
                     "problem": problem})
    return rows


@entry_required(Entry.POOL, Entry.MARKETING_HOME)
def import_map(request, pk: int):
    _require_import(request.user)
    job = _own_job(request, pk)
    if job.status == ImportJob.Status.READING:
        # The worker is reading the file: the page polls until the preview is there.
        return render_htmx(request, "leads/import_reading.html", {"job": job},
                           fragment="reading")
    if request.htmx:
        response = HttpResponse()
        response["HX-Redirect"] = request.path
        return vary_on_htmx(response)
    if job.status != ImportJob.Status.UPLOADED:
        return redirect("import_progress", pk=job.pk)
    saved = ImportMapping.objects.all()
    if request.method == "POST":
        chosen = request.POST.get("saved_mapping")
        if chosen and "load" in request.POST:
            preset = ImportMapping.objects.filter(pk=chosen).first()
            if preset:
                job.mapping = {h: preset.mapping.get(h, ATTRIBUTE) for h in job.headers if h}
                job.name_template, job.empty_markers = preset.name_template, (
                    preset.empty_markers or DEFAULT_EMPTY_MARKERS)
                job.save(update_fields=["mapping", "name_template", "empty_markers"])
            return redirect("import_map", pk=job.pk)
        valid = {c for c, _label in _field_choices()}
        mapping = {}
        for index, header in enumerate(job.headers):
            if header:
                value = request.POST.get(f"col_{index}", ATTRIBUTE)
                mapping[header] = value if value in valid else ATTRIBUTE
        targets = [v for v in mapping.values() if v not in (ATTRIBUTE, IGNORE)]
        job.mapping = mapping
        job.name_template = (request.POST.get("name_template") or "").strip()[:200]
        job.empty_markers = [m.strip() for m in (request.POST.get("empty_markers") or
                                                 "").split(",") if m.strip()]
        job.duplicate_mode = (ImportJob.DuplicateMode.MERGE
                              if request.POST.get("duplicate_mode") == "merge"
                              else ImportJob.DuplicateMode.SKIP)
        if len(targets) != len(set(targets)):
            messages.error(request, _("Each lead field can take one column only."))
            job.save(update_fields=["mapping", "name_template", "empty_markers",
                                    "duplicate_mode"])
            return redirect("import_map", pk=job.pk)
        save_as = (request.POST.get("save_as") or "").strip()[:200]
        with transaction.atomic():
            if save_as:
                ImportMapping.objects.update_or_create(
                    name=save_as, defaults={"mapping": mapping,
                                            "name_template": job.name_template,
                                            "empty_markers": job.empty_markers,
                                            "created_by": request.user})
            if "preview" in request.POST:
                job.save(update_fields=["mapping", "name_template", "empty_markers",
                                        "duplicate_mode"])
                return redirect("import_map", pk=job.pk)
            job.status = ImportJob.Status.QUEUED
            job.save()
            tasks.import_file.delay_on_commit(job.pk, language=translation.get_language())
        return redirect("import_progress", pk=job.pk)
    columns = [{"index": i, "header": h, "target": job.mapping.get(h, ATTRIBUTE)}
               for i, h in enumerate(job.headers) if h]
    return render_htmx(request, "leads/import_map.html", {
        "job": job, "columns": columns, "choices": _field_choices(), "saved": saved,
        "preview": _preview(job, job.mapping, job.name_template, job.empty_markers),
        "empty_markers": ", ".join(job.empty_markers),
    })


@entry_required(Entry.POOL, Entry.MARKETING_HOME)
def import_progress(request, pk: int):
    job = _own_job(request, pk)
    # The filled cells of each rejected row in file order, so the user recognises the
    # row; contact values masked unless the importer may see them.
    rejected = [{"line": line, "reason": reason, "cells": [c for c in cells if c]}
                for line, reason, cells in rejected_rows(job, request.user, limit=100)
                ] if job.finished else []
    return render_htmx(request, "leads/import_progress.html",
                       {"job": job, "rejected": rejected}, fragment="status")


@entry_required(Entry.POOL, Entry.MARKETING_HOME)
def import_rejects_download(request, pk: int):
    job = _own_job(request, pk)
    rows = ([line, reason, *cells] for line, reason, cells in rejected_rows(
        job, request.user, scenario=Scenario.EXPORT))
    return csv_response(f"rejected-{job.pk}.csv",
                        [_("Line"), _("Reason"), *[h for h in job.headers if h]], rows)
