"""Celery tasks of the leads app: thin wrappers over services."""

from celery import shared_task
from django.utils import translation


# Safe to run twice: a job is claimed under a lease (one worker at a time) and each batch
# is recorded in the transaction that writes it, so a redelivered or resumed run skips the
# batches already written. acks_late + reject_on_worker_lost: a worker killed mid-import
# gives the message back to the broker instead of losing it.
@shared_task(name="leads.import_file", acks_late=True, reject_on_worker_lost=True,
             time_limit=1800, soft_time_limit=1700)
def import_file(job_id: int, language: str | None = None) -> dict:
    """Read or run one import job. Rejected rows are explained in ``language``, the
    uploader's, whatever the worker's."""
    from .imports.runner import read_job, run_job
    from .models_intake import ImportJob

    with translation.override(language or translation.get_language()):
        status = ImportJob.objects.filter(pk=job_id).values_list("status", flat=True).first()
        if status == ImportJob.Status.READING:
            return read_job(job_id)
        return run_job(job_id)


@shared_task(name="leads.import_sweep", time_limit=110, soft_time_limit=100)
def import_sweep() -> dict:
    """Every minute (beat): import jobs whose worker died are resumed or failed."""
    from .imports.runner import sweep

    return sweep()


# --- the rule engine: thin wrappers over leads.circulation ---------------------------------
# Each is idempotent and safe to run twice at the same moment (rows are taken with
# SKIP LOCKED, a pool is assigned by one run at a time), so a redelivered or overlapping
# run just finds less to do. Time limits stay above circulation.RUN_SECONDS per pool.


def _summary(report) -> dict:
    return {"routed": sum(report.routed.values()), "assigned": sum(report.assigned.values()),
            "reassigned": sum(report.reassigned.values()),
            "recycled": sum(report.recycled.values()), "dormant": report.dormant,
            "warned": report.warned, "paused": report.paused, "resumed": report.resumed}


@shared_task(name="leads.engine_tick", time_limit=170, soft_time_limit=150)
def engine_tick() -> dict:
    """Every 30 s (beat): leave clocks, routing, assignment and the first-touch SLA."""
    from .circulation import tick

    return _summary(tick())


@shared_task(name="leads.recycle_sweep", time_limit=290, soft_time_limit=270)
def recycle_sweep() -> dict:
    """Every 5 min (beat): warnings, then records whose recycle deadline passed go back."""
    from .circulation import recycle_run

    return _summary(recycle_run())


@shared_task(name="leads.pool_arrivals", time_limit=170, soft_time_limit=150)
def pool_arrivals(pool_id: int) -> dict:
    """Right after records entered a pool: route them and assign by the pool's strategy."""
    from .circulation import handle_arrivals

    return _summary(handle_arrivals(pool_id))


@shared_task(name="leads.refresh_pool_due", time_limit=600, soft_time_limit=570)
def refresh_pool_due(pool_id: int) -> dict:
    """After a pool's recycle rules changed: every owned record's due time again."""
    from .circulation import refresh_due
    from .models import LeadPool
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
    from .services_followups import reminder_sweep as sweep

    report = sweep()
    return {"reminded": report.reminded, "closed": report.closed,
            "notified": report.notified}
