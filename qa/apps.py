from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class QaConfig(AppConfig):
    """Quality inspection (PRODUCT.md §6, QA workbench): a bounded context above deals.

    Lower apps offer hooks that this app fills here: leads scans a follow-up's text when it
    is saved, and the demo runs the nightly sampling once at seed time.
    """

    name = "qa"
    verbose_name = _("Quality inspection")

    def ready(self) -> None:
        # The notification kinds of verdicts and appeals are registered by ``inspections``
        # at import: every process (web, worker) that may render them has them.
        from . import hooks, inspections  # noqa: F401

        hooks.connect()
