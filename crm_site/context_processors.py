"""Template context for the base layout: navigation built from the viewer's roles."""

from django.urls import reverse

from leads.permissions import reaches_pools
from orgs.rights import MENUS, NAVIGATION, Entry
from orgs.selectors import rights_for

# Entries whose page is only a list of pools: shown only to someone who reaches a pool
# that way (an entry that opens on "you manage no pool" is a dead end in the bar).
_POOL_ENTRIES = {Entry.POOL: "view_pool_leads", Entry.RULES: "manage_pool"}


def _may_open(user, rights, entry: str) -> bool:
    if entry == Entry.ADMIN:
        return (user.is_staff and rights.opens(Entry.ADMIN)) or user.is_superuser
    return rights.opens(entry)


def navigation(request) -> dict:
    """The navigation bar: top-level links and dropdown menus, current page marked.

    ``nav_items`` is a list of links (``entry``, ``label``, ``url``, ``icon``, ``active``)
    and menus (``menu``, ``label``, ``icon``, ``children``, ``active``); a menu the viewer
    holds a single entry of is shown as that entry's own link.
    """
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {"nav_items": []}
    rights = rights_for(user)
    labels = dict(Entry.choices)
    opened = [row for row in NAVIGATION if _may_open(user, rights, row[0])]
    pool_entries = [entry for entry, *_rest in opened if entry in _POOL_ENTRIES]
    reached = reaches_pools(user, tuple(_POOL_ENTRIES[e] for e in pool_entries))
    links = [
        {"entry": entry, "label": labels[entry], "url": reverse(url_name), "icon": icon,
         "menu": menu, "active": False}
        for entry, url_name, icon, menu in opened
        if entry not in _POOL_ENTRIES or reached[_POOL_ENTRIES[entry]]
    ]
    # The entry whose URL is the longest prefix of this page is the current one
    # (/leads/pool/ is the pool, not My leads at /leads/).
    matching = [link for link in links if request.path.startswith(link["url"])]
    if matching:
        max(matching, key=lambda link: len(link["url"]))["active"] = True

    per_menu: dict[str, list[dict]] = {}
    for link in links:
        if link["menu"]:
            per_menu.setdefault(link["menu"], []).append(link)
    items: list[dict] = []
    placed: set[str] = set()
    for link in links:
        menu = link["menu"]
        if not menu or len(per_menu[menu]) == 1:
            items.append(link)
        elif menu not in placed:
            placed.add(menu)
            label, icon = MENUS[menu]
            members = per_menu[menu]
            items.append({"menu": menu, "label": label, "icon": icon, "children": members,
                          "active": any(member["active"] for member in members)})
    return {"nav_items": items, "current_rights": rights}
