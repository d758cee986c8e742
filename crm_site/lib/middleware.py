"""Request-wide guards and headers.

- ``InputGuardMiddleware`` refuses what no view can store before any view sees it: 400
  (a page in the user's language, or JSON for JSON requests) when the path, a query
  parameter or a form field holds a NUL byte or a lone surrogate; 411 when a body arrives
  chunked without a length (behind a WSGI server Django would read it as empty).
- ``PrivatePagesMiddleware``: nothing answered to a signed-in user is kept by a cache.
- ``PageCSPMiddleware``: the Content-Security-Policy on HTML pages.
- ``BusyDatabaseMiddleware``: a lock or statement timeout is "busy, try again" (503).
"""

from __future__ import annotations

import logging

from csp.middleware import CSPMiddleware
from django.http import HttpResponse, JsonResponse
from django.shortcuts import render
from django.utils.cache import patch_cache_control
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _

from .inputs import forbidden_text
from .timeouts import is_busy

logger = logging.getLogger(__name__)

FORM_TYPES = ("application/x-www-form-urlencoded", "multipart/form-data")


def _wants_json(request) -> bool:
    return request.content_type == "application/json" or (
        request.headers.get("Accept", "").startswith("application/json"))


def _querydict_has_forbidden(querydict) -> bool:
    return any(forbidden_text(key) or any(forbidden_text(value) for value in values)
               for key, values in querydict.lists())


def bad_input(request, message: str | None = None, *, status: int = 400):
    """The 400 page (or JSON) that says what was wrong with what was sent."""
    message = message or _("The request holds an invisible control character (such as "
                           "NUL) that is not allowed. Remove it and try again.")
    if _wants_json(request):
        return JsonResponse({"error": "control_characters", "message": message},
                            status=status)
    return render(request, "400.html", {"message": message}, status=status)


class InputGuardMiddleware:
    """Place after ``AuthenticationMiddleware`` (the 400 page shows the navigation)."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        chunked = "chunked" in request.headers.get("Transfer-Encoding", "").lower()
        if chunked and not request.META.get("CONTENT_LENGTH"):
            message = _("Send the body with a Content-Length (chunked bodies are not "
                        "accepted).")
            if _wants_json(request):
                return JsonResponse({"error": "length_required", "message": message},
                                    status=411)
            return render(request, "400.html", {"message": message}, status=411)
        if forbidden_text(request.path) or _querydict_has_forbidden(request.GET):
            return bad_input(request)
        if request.method == "POST" and request.content_type in FORM_TYPES and (
                _querydict_has_forbidden(request.POST)):
            return bad_input(request)
        return self.get_response(request)


class PrivatePagesMiddleware:
    """``Cache-Control: private, no-store`` on everything a signed-in user is answered
    (pages, fragments, CSV exports, attachments): no proxy or shared browser keeps a copy.
    Place after ``AuthenticationMiddleware``."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        user = getattr(request, "user", None)
        if user is not None and user.is_authenticated:
            patch_cache_control(response, private=True, no_store=True)
            response.headers.pop("Expires", None)
            # ``public`` or a ``max-age`` set by a view would contradict the above.
            response["Cache-Control"] = ", ".join(
                part for part in (p.strip() for p in response["Cache-Control"].split(","))
                if part and part != "public" and not part.startswith(("max-age", "s-maxage")))
        return response


class PageCSPMiddleware(CSPMiddleware):
    """django-csp's policy on HTML pages only: a PDF or an image opened inline keeps the
    browser's own viewer (a policy on them would block it) and CSV/JSON need none."""

    def process_response(self, request, response):
        if not response.get("Content-Type", "").startswith("text/html"):
            return response
        return super().process_response(request, response)


class BusyDatabaseMiddleware:
    """A request stopped by the database's lock or statement timeout (someone else holds
    the record, or the database is overloaded) answers 503 "busy, try again" with a
    ``Retry-After``; the transaction it was in has already been rolled back. The page needs
    no database (the database is what was busy)."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        return self.get_response(request)

    def process_exception(self, request, exception):
        if not is_busy(exception):
            return None
        logger.warning("busy database on %s %s: %s", request.method, request.path,
                       str(exception).strip().splitlines()[0] if str(exception) else "")
        message = _("Someone else is working on this record right now, or the system is "
                    "very busy. Nothing was changed. Please try again in a moment.")
        if _wants_json(request):
            response = JsonResponse({"error": "busy", "message": message}, status=503)
        elif getattr(request, "htmx", False):
            response = HttpResponse(message, status=503, content_type="text/plain")
        else:
            retry = (request.get_full_path() if request.method == "GET"
                     else request.headers.get("Referer", ""))
            if not url_has_allowed_host_and_scheme(retry, allowed_hosts={request.get_host()}):
                retry = ""
            response = render(request, "503.html", {"message": message, "retry_url": retry},
                              status=503)
        response["Retry-After"] = "5"
        return response
