"""Template context for the base layout: navigation built from the viewer's roles."""

from django.urls import reverse

from orgs.rights import NAVIGATION, Entry
from orgs.selectors import rights_for


def navigation(request) -> dict:
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {"nav_items": []}
    rights = rights_for(user)
    labels = dict(Entry.choices)
    items = [
        {"entry": entry, "label": labels[entry], "url": reverse(url_name), "icon": icon,
         "active": False}
        for entry, url_name, icon in NAVIGATION
        if rights.opens(entry)
    ]
    # The entry whose URL is the longest prefix of this page is the current one
    # (/leads/pool/ is the pool, not My leads at /leads/).
    matching = [item for item in items if request.path.startswith(item["url"])]
    if matching:
        max(matching, key=lambda item: len(item["url"]))["active"] = True
    return {
        "nav_items": items,
        "nav_admin": (user.is_staff and rights.opens(Entry.ADMIN)) or user.is_superuser,
        "current_rights": rights,
    }
