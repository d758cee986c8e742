"""Celery tasks of the leads app: thin wrappers over services."""

from celery import shared_task
from django.utils import timezone, translation

from .importer import ImportFileError, run_job
from .models_intake import ImportJob


@shared_task(name="leads.import_file", time_limit=1800, soft_time_limit=1700)
def import_file(job_id: int, language: str | None = None) -> dict:
    """Run one import job. Safe to deliver twice: only a queued job is started.

    Rejected rows are explained in ``language``, the uploader's, whatever the worker's.
    """
    if language:
        with translation.override(language):
            return _import_file(job_id)
    return _import_file(job_id)


def _import_file(job_id: int) -> dict:
    started = ImportJob.objects.filter(pk=job_id, status=ImportJob.Status.QUEUED).update(
        status=ImportJob.Status.RUNNING)
    if not started:
        return {"job": job_id, "status": "not queued"}
    job = ImportJob.objects.select_related("pool", "created_by").get(pk=job_id)
    if job.kind != "leads":
        from opportunities.importing import run_record_job as run
    else:
        run = run_job
    try:
        counts = run(job)
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
    if counts.accepted and job.pool_id:
        from .pools.config import schedule_arrivals

        schedule_arrivals([job.pool_id])
    return {"job": job_id, "status": "done", "accepted": counts.accepted}


# --- the rule engine: thin wrappers over leads.pools ---------------------------------------
# Each is idempotent and safe to run twice at the same moment (rows are taken with
# SKIP LOCKED, a pool is assigned by one run at a time), so a redelivered or overlapping
# run just finds less to do. Time limits stay above leads.pools.config.RUN_SECONDS per pool.


def _summary(report) -> dict:
    return {"routed": sum(report.routed.values()), "assigned": sum(report.assigned.values()),
            "reassigned": sum(report.reassigned.values()),
            "recycled": sum(report.recycled.values()), "dormant": report.dormant,
            "warned": report.warned, "paused": report.paused, "resumed": report.resumed}


@shared_task(name="leads.engine_tick", time_limit=170, soft_time_limit=150)
def engine_tick() -> dict:
    """Every 30 s (beat): leave clocks, routing, assignment and the first-touch SLA."""
    from .pools.runs import tick

    return _summary(tick())


@shared_task(name="leads.recycle_sweep", time_limit=290, soft_time_limit=270)
def recycle_sweep() -> dict:
    """Every 5 min (beat): warnings, then records whose recycle deadline passed go back."""
    from .pools.runs import recycle_run

    return _summary(recycle_run())


@shared_task(name="leads.pool_arrivals", time_limit=170, soft_time_limit=150)
def pool_arrivals(pool_id: int) -> dict:
    """Right after records entered a pool: route them and assign by the pool's strategy."""
    from .pools.runs import handle_arrivals

    return _summary(handle_arrivals(pool_id))


@shared_task(name="leads.refresh_pool_due", time_limit=600, soft_time_limit=570)
def refresh_pool_due(pool_id: int) -> dict:
    """After a pool's recycle rules changed: every owned record's due time again."""
    from .models import LeadPool
    from .pools.due import refresh_due
    from .subjects import subject_for_pool

    pool = LeadPool.objects.filter(pk=pool_id).first()
    if pool is None:
        return {"pool": pool_id, "refreshed": 0}
    return {"pool": pool_id, "refreshed": refresh_due(subject_for_pool(pool), pool_id=pool_id)}


# --- follow-up reminders ----------------------------------------------------------------------


@shared_task(name="leads.reminder_sweep", time_limit=110, soft_time_limit=100)
def reminder_sweep() -> dict:
    """Every minute (beat): plans whose next follow-up time has come become reminders.

    Safe to run twice at the same moment (rows taken with SKIP LOCKED, idempotent keys).
    """
    from .followups.services import reminder_sweep as sweep

    report = sweep()
    return {"reminded": report.reminded, "closed": report.closed,
            "notified": report.notified}
