"""``@entry_required(Entry.LEADS)``: the entry layer of a role decides which pages open."""

from collections.abc import Callable

from django.utils.translation import gettext_lazy as _

from crm_site.lib.access import user_passes

from .rights import rights_for


def entry_required(*entries: str) -> Callable:
    """Open the view only to signed-in users whose roles open one of ``entries``."""

    def opens(user) -> bool:
        rights = rights_for(user)
        return any(rights.opens(entry) for entry in entries)

    return user_passes(opens, _("None of your roles opens this page."))
