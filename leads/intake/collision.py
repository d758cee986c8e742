"""The duplicate check of intake across leads, customers and contacts (撞单), and the
collision policy of each channel.

A new lead collides when its normalised mobile or e-mail is already a lead's or a
contact method's, or its normalised company name is already a lead's company or a
customer's name — in a pool or in private hands. What happens then is the channel's
``collision_policy`` (``ChannelToken``, editable in admin; manual entry and file import
of a channel code follow the policy of that code's token, else their default):

* ``refuse`` — the new lead is refused (manual entry names the owner's team; import
  reports the row; the ingest API answers 409);
* ``attach`` — it goes to whoever holds the existing record: a known lead gets a
  touchpoint instead of a twin; a known customer's or contact's owner gets the new lead,
  linked to that customer;
* ``pool`` — it enters the pool as a new lead, marked with what it collided with.

Customers and contacts belong to a higher app: it registers a collision source in its
``AppConfig.ready`` (``register_collision_source``).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from ..models import Lead
from ..models_intake import ChannelToken, CollisionPolicy
from ..normalize import normalize_company, normalize_email, normalize_phone

# The policy of an intake path whose channel has no token of its own.
DEFAULT_POLICY = {"manual": CollisionPolicy.REFUSE, "import": CollisionPolicy.REFUSE,
                  "ingest": CollisionPolicy.ATTACH}


@dataclass(frozen=True)
class Collision:
    """An existing record the new lead collides with."""

    kind: str  # "lead", "customer" or "contact"
    record_id: int
    name: str
    owner_id: int | None
    matched_on: str  # "mobile", "email" or "company"
    customer_id: int | None = None  # the customer to link the new lead to
    lead: Lead | None = None

    @property
    def in_pool(self) -> bool:
        if self.lead is not None:
            return self.lead.owner_id is None and self.lead.status == Lead.Status.IN_POOL
        return self.owner_id is None


def policy_for(channel: str, path: str) -> str:
    """The collision policy of ``channel`` (its active token's), else the path's default."""
    configured = (ChannelToken.objects.filter(channel=channel, is_active=True)
                  .order_by("pk").values_list("collision_policy", flat=True).first()
                  if channel else None)
    return configured or DEFAULT_POLICY[path]


def keys_of(*, mobile: str = "", email: str = "", company: str = "") -> dict[str, str]:
    return {"mobile": normalize_phone(mobile), "email": normalize_email(email),
            "company": normalize_company(company)}


def find_collisions(*, mobile: str = "", email: str = "", company: str = "",
                    limit: int = 5, include_leads: bool = True) -> list[Collision]:
    """Leads, customers and contacts sharing a key with the new lead (leads first)."""
    keys = keys_of(mobile=mobile, email=email, company=company)
    if not any(keys.values()):
        return []
    found: list[Collision] = []
    if include_leads:
        from ..services import duplicate_hits

        for hit in duplicate_hits(mobile=mobile, email=email, company=company, limit=limit):
            found.append(Collision("lead", hit.lead.pk, hit.lead.name, hit.lead.owner_id,
                                   hit.matched_on, hit.lead.customer_id, hit.lead))
    found += record_collisions(keys, limit=limit)
    return found


# --- records of higher apps --------------------------------------------------------------

CollisionSource = Callable[..., list[Collision]]
_SOURCES: dict[str, CollisionSource] = {}


def register_collision_source(name: str, source: CollisionSource) -> CollisionSource:
    """Register ``source(keys, *, limit) -> list[Collision]``: the records of another app
    (customers, contacts) that share a normalised key (``keys_of``) with a new lead."""
    _SOURCES[name] = source
    return source


def record_collisions(keys: dict[str, str], *, limit: int = 5) -> list[Collision]:
    """What every registered source finds for ``keys``, in registration order."""
    found: list[Collision] = []
    for source in list(_SOURCES.values()):
        if len(found) >= limit:
            break
        found += source(keys, limit=limit)
    return found[:limit]
