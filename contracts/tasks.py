"""Periodic sweeps of contracts and payments: thin wrappers over services, safe to run
twice at once (SKIP LOCKED claims, conditional set-based UPDATEs)."""

from celery import shared_task

from .services import payments, renewals


@shared_task(name="contracts.renewal_sweep", time_limit=600, soft_time_limit=540)
def renewal_sweep() -> dict:
    """Renewal plans for contracts entering the renewal window, then expiry of ended ones."""
    return {"planned": renewals.renewal_sweep(), "expired": renewals.expiry_sweep()}


@shared_task(name="contracts.payment_sweep", time_limit=600, soft_time_limit=540)
def payment_sweep() -> dict:
    """Statuses of open instalments from amounts and dates, then reminders before due."""
    return {"changed": payments.payment_sweep(), "reminded": payments.payment_reminder_sweep()}
