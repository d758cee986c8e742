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
)
