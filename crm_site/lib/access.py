"""View decorators that open a view only to users who pass a check the caller supplies.

Which users pass is decided by the app that knows roles and rights (``orgs.access``); this
module only wires a check into a view.
"""

from collections.abc import Callable
from functools import wraps

from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied


def user_passes(check: Callable[..., bool], message) -> Callable:
    """Open the view only to signed-in users for whom ``check(user)`` holds; everyone else
    gets a 403 carrying ``message`` (a lazy translation)."""

    def decorator(view: Callable) -> Callable:
        @login_required
        @wraps(view)
        def wrapped(request, *args, **kwargs):
            if not check(request.user):
                raise PermissionDenied(str(message))
            return view(request, *args, **kwargs)

        return wrapped

    return decorator
