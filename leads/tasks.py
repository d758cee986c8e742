"""Celery tasks of the leads app: thin wrappers over services."""

from celery import shared_task
from django.utils import timezone

from .importer import ImportFileError, run_job
from .models_intake import ImportJob


@shared_task(name="leads.import_file", time_limit=1800, soft_time_limit=1700)
def import_file(job_id: int) -> dict:
    """Run one import job. Safe to deliver twice: only a queued job is started."""
    started = ImportJob.objects.filter(pk=job_id, status=ImportJob.Status.QUEUED).update(
        status=ImportJob.Status.RUNNING)
    if not started:
        return {"job": job_id, "status": "not queued"}
    job = ImportJob.objects.select_related("pool", "created_by").get(pk=job_id)
    try:
        counts = run_job(job)
    except ImportFileError as exc:
        ImportJob.objects.filter(pk=job_id).update(status=ImportJob.Status.FAILED,
                                                   error=str(exc), finished_at=timezone.now())
        return {"job": job_id, "status": "failed"}
    except Exception as exc:
        ImportJob.objects.filter(pk=job_id).update(
            status=ImportJob.Status.FAILED, error=exc.__class__.__name__,
            finished_at=timezone.now())
        raise
    ImportJob.objects.filter(pk=job_id).update(
        status=ImportJob.Status.DONE, processed_rows=counts.total, accepted=counts.accepted,
        merged=counts.merged, skipped=counts.skipped, rejected=counts.rejected,
        finished_at=timezone.now())
    return {"job": job_id, "status": "done", "accepted": counts.accepted}
