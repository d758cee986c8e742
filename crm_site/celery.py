"""The Celery application: a worker pool plus exactly one beat scheduler.

Configuration comes from Django settings (``CELERY_*``); tasks are discovered in each
app's ``tasks.py``.
"""

import os

from celery import Celery

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "crm_site.settings.local")

app = Celery("crm_site")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()
