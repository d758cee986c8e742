"""Where a ``next=`` may send the user: only to a page of this site."""

from __future__ import annotations

from django.utils.http import url_has_allowed_host_and_scheme


def safe_next(request, fallback: str, *, field: str = "next") -> str:
    """The ``next`` of the POST (or query) when it is a path of this site, else ``fallback``.

    ``//evil.example/``, ``https://evil.example/``, ``/\\evil.example`` and
    ``javascript:…`` are all refused (Django's own check, the one its login view uses).
    """
    target = request.POST.get(field) or request.GET.get(field) or ""
    # A path of this site ("/leads/pool/?pool=x"): a bare word would be taken for a URL name.
    if target.startswith("/") and url_has_allowed_host_and_scheme(
            target, allowed_hosts={request.get_host()}, require_https=request.is_secure()):
        return target
    return fallback
