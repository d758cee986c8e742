"""What higher apps do when a follow-up is written.

``followup_record`` calls every registered hook inside its transaction, after the row is
written, with the new follow-up; a hook that raises rolls the follow-up back, so hooks do
only quick, set-based work (quality inspection scans the text for sensitive words). Apps
register in ``AppConfig.ready``::

    from leads.followup_hooks import register_followup_saved

    register_followup_saved("qa.scan", scan_followup)
"""

from __future__ import annotations

from collections.abc import Callable

FollowUpHook = Callable[..., None]

_SAVED: dict[str, FollowUpHook] = {}


def register_followup_saved(name: str, fn: FollowUpHook) -> None:
    """Register ``fn(followup)`` to run when a follow-up is written (same transaction)."""
    _SAVED[name] = fn


def unregister_followup_saved(name: str) -> None:
    _SAVED.pop(name, None)


def followup_saved(followup) -> None:
    for fn in list(_SAVED.values()):
        fn(followup)
