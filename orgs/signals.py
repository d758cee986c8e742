"""Signal receivers of the orgs app (bookkeeping only; business writes live in services)."""

from .models import UserSession


def remember_session(sender, request, user, **kwargs) -> None:
    """Record the session a user signed in with, so a departure can end it."""
    session = getattr(request, "session", None)
    if session is None:
        return
    if not session.session_key:
        session.save()
    UserSession.objects.get_or_create(session_key=session.session_key, defaults={"user": user})
