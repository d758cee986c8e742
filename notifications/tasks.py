"""Celery tasks of notifications: thin wrappers over services."""

from celery import shared_task

from . import services


@shared_task(name="notifications.email_sweep", time_limit=120, soft_time_limit=100)
def email_sweep() -> dict:
    """E-mail pending notifications of users who opted in (beat, every minute)."""
    return {"sent": services.email_sweep()}
