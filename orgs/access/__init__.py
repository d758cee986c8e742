"""One place that answers "may this user see, unmask or act on this record".

* rights (``rights.py``): what a user's roles open (entries), let them do (operations) and
  unmask in which scenario — ``rights_for``, ``can_unmask``;
* data boundaries (``scope.py``): which owners and units a user's records come from —
  ``data_scope_for``;
* records (``records.py``): the rules of each kind of record, registered by the app that
  owns it — ``visible``, ``may_see``, ``may_unmask``, ``may_act``;
* masking (``masking.py``): how a contact-bearing value is shown to a viewer in a scenario
  — ``show``, ``show_bag``, ``show_text``, ``form_placeholder``;
* views (``decorators.py``): ``entry_required``.
"""

from crm_site.lib.masking import Kind, Scenario

from .decorators import entry_required
from .masking import form_placeholder, show, show_bag, show_text
from .records import (
    may_act,
    may_see,
    may_unmask,
    register_record_rules,
    registered,
    visible,
)
from .rights import (
    NO_RIGHTS,
    UNMASK_OPERATION,
    Rights,
    can_unmask,
    forget_rights,
    rights_for,
    rights_for_many,
    unmask_operation,
)
from .scope import EMPTY_SCOPE, DataScopeFilter, data_scope_for


def mask_for(user, value, kind: str, scenario: str = Scenario.LIST) -> str:
    """``show`` for a value not tied to one record."""
    return show(user, value, kind, scenario)


__all__ = [
    "EMPTY_SCOPE", "NO_RIGHTS", "UNMASK_OPERATION", "DataScopeFilter", "Kind", "Rights",
    "Scenario", "can_unmask", "data_scope_for", "entry_required", "forget_rights",
    "form_placeholder", "mask_for", "may_act", "may_see", "may_unmask",
    "register_record_rules", "registered", "rights_for", "rights_for_many", "show",
    "show_bag", "show_text", "unmask_operation", "visible",
]
