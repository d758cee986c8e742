"""WSGI entry point for gunicorn."""

import os

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "crm_site.settings.production")

application = get_wsgi_application()

# Web requests wait at most a few seconds for a lock or a statement ("busy, try again").
from django.conf import settings  # noqa: E402

from crm_site.lib.timeouts import use_web_timeouts  # noqa: E402

use_web_timeouts(settings)
