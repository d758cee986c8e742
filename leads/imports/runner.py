"""The one job runner of every import kind: read the stored upload in the worker, keep a
preview for the mapping page, run the kind batch by batch under a lease, resume or fail a
job whose worker died.

* ``read_job`` parses the upload (limits and hostile input in
  ``crm_site.lib.imports.reading``) and stores its header, first rows and row count; a
  lead job then waits for its mapping, a record job goes on to run.
* ``run_job`` claims the job (a lease renewed with every batch), runs its kind with a
  journal that records each batch and its rejected rows in the batch's own transaction,
  and finishes with the totals of the recorded batches.
* ``sweep`` (beat, every minute) finds jobs whose lease ran out — their worker was killed
  or lost its database — and queues them again; the rerun skips the batches already
  recorded, so no row is written twice. After ``MAX_ATTEMPTS`` the job fails, saying how
  many rows were written.
"""

from __future__ import annotations

import uuid
from datetime import timedelta

from django.conf import settings
from django.db import close_old_connections, transaction
from django.db.models import F, Q, Sum
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from crm_site.lib.imports.columns import ATTRIBUTE
from crm_site.lib.imports.reading import ImportFileError, read_table
from crm_site.lib.imports.registry import ImportCounts, ImportOptions, NullJournal, get_kind
from crm_site.lib.imports.report import masked_cells
from crm_site.lib.masking import Scenario, can_unmask

from ..models_intake import ImportBatch, ImportJob, ImportMapping, ImportRejectedRow

MAX_ATTEMPTS = 3
PREVIEW_ROWS = 5


def lease() -> timedelta:
    return timedelta(seconds=getattr(settings, "IMPORT_LEASE_SECONDS", 120))


def batch_size() -> int:
    return getattr(settings, "IMPORT_BATCH_SIZE", 2000)


class LeaseLost(Exception):
    """Another worker took the job over (this one was presumed dead)."""


def mapping_names(kind: str) -> list[str]:
    """Saved mappings offered for ``kind``: the built-in ones, then those saved in admin."""
    return sorted(get_kind(kind).presets) + list(
        ImportMapping.objects.values_list("name", flat=True))


def resolve_mapping(kind: str, headers: list[str], name: str = "") -> dict[str, str]:
    """Column → field for ``headers``: from the saved mapping ``name``, else guessed.

    Raises ``LookupError`` for an unknown mapping name.
    """
    if not name:
        return get_kind(kind).guess_mapping(headers)
    preset = get_kind(kind).presets.get(name)
    if preset is None:
        saved = ImportMapping.objects.filter(name=name).first()
        if saved is None:
            raise LookupError(name)
        preset = saved.mapping
    return {h: preset.get(h, ATTRIBUTE) for h in headers if h}


def import_table(kind: str, *, table, mapping: dict, actor=None, mapping_name: str = "",
                 empty_markers=None, on_progress=None, batch_size: int | None = None,
                 **options) -> ImportCounts:
    """Import a parsed file as ``kind`` outside a job (``manage.py``): nothing to resume,
    progress to ``on_progress(processed, counts)``."""
    return get_kind(kind).run(table=table, options=ImportOptions(
        mapping=mapping, actor=actor, mapping_name=mapping_name, empty_markers=empty_markers,
        batch_size=batch_size, **options), journal=NullJournal(on_progress))


def _fail(job_id: int, message: str) -> None:
    ImportJob.objects.filter(pk=job_id).update(status=ImportJob.Status.FAILED, error=message,
                                               lease_token="", finished_at=timezone.now())


def _read(job: ImportJob):
    with job.file.open("rb") as handle:
        return read_table(handle.read(), job.original_name)


def read_job(job_id: int) -> dict:
    """Parse a freshly uploaded file: header, preview, row count, guessed mapping.

    Safe to run twice (it only reads); a record job whose mapping was chosen on upload
    goes on to run."""
    job = ImportJob.objects.filter(pk=job_id, status=ImportJob.Status.READING).first()
    if job is None:
        return {"job": job_id, "status": "not reading"}
    # Reading counts as an attempt too: a file that kills every worker reading it is
    # failed by the sweep, not read forever.
    ImportJob.objects.filter(pk=job_id).update(lease_until=timezone.now() + lease(),
                                               attempts=F("attempts") + 1)
    try:
        table = _read(job)
        mapping = resolve_mapping(job.kind, table.headers, job.mapping_name)
    except ImportFileError as exc:
        _fail(job_id, str(exc))
        return {"job": job_id, "status": "failed"}
    except LookupError:
        _fail(job_id, _("The saved mapping %(name)s no longer exists.")
              % {"name": job.mapping_name})
        return {"job": job_id, "status": "failed"}
    waits = get_kind(job.kind).into_pool
    ImportJob.objects.filter(pk=job_id, status=ImportJob.Status.READING).update(
        headers=table.headers, preview=table.preview(PREVIEW_ROWS), total_rows=table.total,
        encoding=table.encoding, mapping=mapping, lease_until=None, attempts=0,
        status=ImportJob.Status.UPLOADED if waits else ImportJob.Status.QUEUED)
    if waits:
        return {"job": job_id, "status": "read"}
    return run_job(job_id)


class JobJournal:
    """Records each batch of a job (and its rejected rows) in the batch's transaction,
    renewing the lease; the job's counts are those of earlier runs plus this run's."""

    def __init__(self, job: ImportJob, token: str):
        self.job_id, self.token = job.pk, token
        batches = ImportBatch.objects.filter(job_id=job.pk)
        self.done = set(batches.values_list("number", flat=True))
        self.before = batches.aggregate(accepted=Sum("accepted"), merged=Sum("merged"),
                                        skipped=Sum("skipped"), rejected=Sum("rejected"))

    def written(self, number: int) -> bool:
        return number in self.done

    def _renew(self, **fields) -> None:
        held = ImportJob.objects.filter(pk=self.job_id, lease_token=self.token).update(
            lease_until=timezone.now() + lease(), **fields)
        if not held:
            raise LeaseLost(self.job_id)

    def record(self, number: int, first_line: int, rows: int, counts: ImportCounts) -> None:
        self._renew()  # also takes the job's row lock until the batch commits
        ImportBatch.objects.create(job_id=self.job_id, number=number, first_line=first_line,
                                   rows=rows, accepted=counts.accepted, merged=counts.merged,
                                   skipped=counts.skipped, rejected=counts.rejected)
        ImportRejectedRow.objects.bulk_create(
            [ImportRejectedRow(job_id=self.job_id, line=line, reason=reason[:300], data=data)
             for line, reason, data in counts.rejects], batch_size=2000)

    def progress(self, processed: int, counts: ImportCounts) -> None:
        self._renew(processed_rows=processed, **{
            name: (self.before[name] or 0) + getattr(counts, name)
            for name in ("accepted", "merged", "skipped", "rejected")})


def _claim(job_id: int) -> str | None:
    """Take a queued job, or a running one whose worker's lease ran out."""
    token, now = uuid.uuid4().hex, timezone.now()
    taken = ImportJob.objects.filter(
        Q(status=ImportJob.Status.QUEUED)
        | Q(status=ImportJob.Status.RUNNING, lease_until__lt=now), pk=job_id,
    ).update(status=ImportJob.Status.RUNNING, lease_token=token, lease_until=now + lease(),
             attempts=F("attempts") + 1)
    return token if taken else None


def _options(job: ImportJob) -> ImportOptions:
    return ImportOptions(
        mapping=job.mapping, actor=job.created_by, mapping_name=job.mapping_name,
        empty_markers=job.empty_markers or None, name_template=job.name_template,
        pool=job.pool, channel=job.channel,
        merge=job.duplicate_mode == ImportJob.DuplicateMode.MERGE,
        batch_size=job.batch_size)


def _totals(job_id: int) -> dict:
    totals = ImportBatch.objects.filter(job_id=job_id).aggregate(
        processed_rows=Sum("rows"), accepted=Sum("accepted"), merged=Sum("merged"),
        skipped=Sum("skipped"), rejected=Sum("rejected"))
    return {name: value or 0 for name, value in totals.items()}


def run_job(job_id: int) -> dict:
    """Run (or resume) a queued job. Safe to deliver twice: only one worker holds it."""
    token = _claim(job_id)
    if token is None:
        return {"job": job_id, "status": "not queued"}
    ImportJob.objects.filter(pk=job_id, batch_size=0).update(batch_size=batch_size())
    job = ImportJob.objects.select_related("pool", "created_by").get(pk=job_id)
    kind = get_kind(job.kind)
    try:
        table = _read(job)
        ImportJob.objects.filter(pk=job_id).update(total_rows=table.total,
                                                   encoding=table.encoding)
        options = _options(job)
        counts = kind.run(table=table, options=options, journal=JobJournal(job, token))
    except ImportFileError as exc:
        _fail(job_id, str(exc))
        return {"job": job_id, "status": "failed"}
    except LeaseLost:
        return {"job": job_id, "status": "taken over"}
    except Exception:
        # Leave it to the sweep: it resumes the job from its last batch, or fails it with
        # the count written once the attempts are spent.
        close_old_connections()
        ImportJob.objects.filter(pk=job_id, lease_token=token).update(
            lease_until=timezone.now())
        raise
    finished = ImportJob.objects.filter(pk=job_id, lease_token=token).update(
        status=ImportJob.Status.DONE, lease_token="", lease_until=None,
        finished_at=timezone.now(), **_totals(job_id))
    if not finished:
        return {"job": job_id, "status": "taken over"}
    if kind.after:
        kind.after(options, counts)
    return {"job": job_id, "status": "done", "accepted": _totals(job_id)["accepted"]}


def rejected_rows(job: ImportJob, viewer, *, scenario: str = Scenario.LIST,
                  limit: int | None = None):
    """``(line, reason, cells)`` of the job's rejected rows in line order, the cells in
    header order with contact values masked unless ``viewer`` may unmask them in
    ``scenario`` (the report page, or the CSV download as an export)."""
    headers = [h for h in job.headers if h]
    unmask = can_unmask(viewer, scenario)
    rows = job.rejected_rows.order_by("line", "pk").values_list("line", "reason", "data")
    rows = rows[:limit] if limit else rows.iterator(chunk_size=2000)
    for line, reason, data in rows:
        yield line, reason, masked_cells(data or {}, headers, job.mapping, unmask=unmask)


def sweep(now=None) -> dict:
    """Jobs whose worker stopped renewing its lease: queue them again, or fail them after
    ``MAX_ATTEMPTS``. Safe to run twice at the same moment (conditional updates)."""
    from .. import tasks

    now = now or timezone.now()
    resumed = failed = 0
    stale = ImportJob.objects.filter(status__in=[ImportJob.Status.RUNNING,
                                                 ImportJob.Status.READING],
                                     lease_until__lt=now)
    for job_id, status, attempts, language in stale.values_list(
            "pk", "status", "attempts", "language")[:100]:
        still = ImportJob.objects.filter(pk=job_id, status=status, lease_until__lt=now)
        if attempts >= MAX_ATTEMPTS:
            written = _totals(job_id)
            with translation.override(language or None):  # the uploader's
                error = _("The import stopped %(count)d times before the end; %(written)d "
                          "rows were added and %(merged)d merged before it stopped.") % {
                    "count": attempts, "written": written["accepted"],
                    "merged": written["merged"]}
            failed += still.update(status=ImportJob.Status.FAILED, lease_token="",
                                   finished_at=now, error=error, **written)
            continue
        next_status = (ImportJob.Status.QUEUED if status == ImportJob.Status.RUNNING
                       else status)
        with transaction.atomic():
            # A cleared token: the old worker, should it still be alive, loses the job
            # at its next batch (that batch rolls back).
            if still.update(status=next_status, lease_token="", lease_until=now + lease()):
                resumed += 1
                tasks.import_file.delay_on_commit(job_id, language=language or None)
    return {"resumed": resumed, "failed": failed}
