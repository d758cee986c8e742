"""Project-wide Celery tasks."""

from celery import shared_task
from django.db import connection
from django.utils import timezone


@shared_task(name="crm_site.health", time_limit=30, soft_time_limit=20)
def health() -> dict:
    """Prove that a worker is alive and can reach the database; beat runs it every 5 min."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")
        cursor.fetchone()
    return {"status": "ok", "server_version": connection.pg_version,
            "at": timezone.now().isoformat()}
