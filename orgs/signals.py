"""Signal receivers of the orgs app (bookkeeping only; business writes live in services)."""

from .models import Employee, UserSession
from .services import team_history_sync


def remember_session(sender, request, user, **kwargs) -> None:
    """Record the session a user signed in with, so a departure can end it."""
    session = getattr(request, "session", None)
    if session is None:
        return
    if not session.session_key:
        session.save()
    UserSession.objects.get_or_create(session_key=session.session_key, defaults={"user": user})


def membership_changed(sender, instance, **kwargs) -> None:
    """Keep the team history (``TeamStint``) in step with the membership just saved or
    deleted — skipped when the employee itself is being deleted (their history goes too)."""
    origin = kwargs.get("origin")
    model = getattr(origin, "model", None) or type(origin)
    if model is Employee:
        return
    team_history_sync(employee_id=instance.employee_id)
