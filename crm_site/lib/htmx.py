"""One URL, two answers: the whole page, or (for htmx) one named partial of it.

Pages that htmx refreshes in place answer the same URL with either the full page or a
fragment, chosen by the ``HX-Request`` header. A browser or proxy cache that ignored the
header could hand the fragment to someone opening the page (or the page to an htmx swap),
so every such answer says ``Vary: HX-Request``, whichever of the two it is.
"""

from __future__ import annotations

from django.shortcuts import render
from django.utils.cache import patch_vary_headers

HTMX_HEADER = "HX-Request"


def vary_on_htmx(response):
    """Mark an answer that depends on whether htmx asked for it (keeps other Vary values)."""
    patch_vary_headers(response, (HTMX_HEADER,))
    return response


def render_htmx(request, template: str, context: dict | None = None, *,
                fragment: str | None = None, status: int | None = None):
    """Render ``template``, or its partial ``fragment`` when htmx asks; always Vary.

    ``fragment`` names a django-template-partials partial of ``template``; it is used
    only for htmx requests (``request.htmx``), so a plain request for the same URL always
    gets the whole page.
    """
    name = f"{template}#{fragment}" if fragment and request.htmx else template
    return vary_on_htmx(render(request, name, context, status=status))
