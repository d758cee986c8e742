"""Labels that third-party apps show in admin without a Simplified Chinese translation.

Listing them here puts them in our catalogue (``makemessages`` finds them), so the admin
reads the same in both languages. Never imported at run time.
"""

from django.utils.translation import gettext_noop

LABELS = (
    gettext_noop("Audit log"),
    gettext_noop("access attempts"),
    gettext_noop("access attempt"),
    gettext_noop("access failures"),
    gettext_noop("access failure"),
    gettext_noop("access logs"),
    gettext_noop("access log"),
    gettext_noop("access attempt expiration"),
    gettext_noop("access attempt expirations"),
    # django-auditlog: its log entries' fields and actions.
    gettext_noop("log entry"),
    gettext_noop("log entries"),
    gettext_noop("action"),
    gettext_noop("create"),
    gettext_noop("update"),
    gettext_noop("delete"),
    gettext_noop("access"),
    gettext_noop("content type"),
    gettext_noop("object pk"),
    gettext_noop("object id"),
    gettext_noop("object representation"),
    gettext_noop("change message"),
    gettext_noop("actor"),
    gettext_noop("remote address"),
    gettext_noop("remote port"),
    gettext_noop("timestamp"),
    gettext_noop("additional data"),
    gettext_noop("actor email"),
    gettext_noop("Click to filter by records with this correlation id"),
    gettext_noop("View"),
    gettext_noop("Field"),
    gettext_noop("From"),
    gettext_noop("To"),
)
