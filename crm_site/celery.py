"""The Celery application: a worker pool plus exactly one beat scheduler.

Configuration comes from Django settings (``CELERY_*``); tasks are discovered in each
app's ``tasks.py``.
"""

import os

from celery import Celery
from celery.signals import worker_init

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "crm_site.settings.local")

app = Celery("crm_site")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()


@worker_init.connect
def _worker_timeouts(**kwargs):
    """Workers wait longer for locks and statements than web requests do (bulk sweeps,
    imports); see ``DB_WORKER_*`` in the settings."""
    from django.conf import settings

    from crm_site.lib.timeouts import use_worker_timeouts

    use_worker_timeouts(settings)
