"""Access checks for views: the entry layer of a role decides which pages open."""

from collections.abc import Callable
from functools import wraps

from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.utils.translation import gettext as _

from orgs.selectors import rights_for


def entry_required(*entries: str) -> Callable:
    """Open the view only to signed-in users whose roles open one of ``entries``."""

    def decorator(view: Callable) -> Callable:
        @login_required
        @wraps(view)
        def wrapped(request, *args, **kwargs):
            rights = rights_for(request.user)
            if not any(rights.opens(entry) for entry in entries):
                raise PermissionDenied(_("None of your roles opens this page."))
            return view(request, *args, **kwargs)

        return wrapped

    return decorator
