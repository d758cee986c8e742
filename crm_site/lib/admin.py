"""Admin helpers: contact data in admin lists and forms is masked for the viewing user."""

from contextvars import ContextVar

_viewer: ContextVar = ContextVar("admin_viewer", default=None)


class ViewerAwareAdminMixin:
    """Remember who is looking, per request, so display methods can mask for them.

    A ``ModelAdmin`` is shared by every request (and thread), so the viewer is kept in a
    context variable rather than on ``self``.
    """

    @property
    def viewer(self):
        return _viewer.get()

    def changelist_view(self, request, extra_context=None):
        token = _viewer.set(request.user)
        try:
            response = super().changelist_view(request, extra_context)
            if hasattr(response, "render"):
                response.render()
            return response
        finally:
            _viewer.reset(token)

    def changeform_view(self, request, object_id=None, form_url="", extra_context=None):
        token = _viewer.set(request.user)
        try:
            response = super().changeform_view(request, object_id, form_url, extra_context)
            if hasattr(response, "render"):
                response.render()
            return response
        finally:
            _viewer.reset(token)
