"""Customers and contacts as a collision source of lead intake (``leads.intake.collision``):
a new lead whose mobile, e-mail or company is already a contact's or a customer's collides
with it. Registered in ``OpportunitiesConfig.ready``."""

from __future__ import annotations

from django.db.models import Q

from leads.intake.collision import Collision

from ..models import ContactMethod, Customer, CustomerContact


def customer_collisions(keys: dict[str, str], *, limit: int = 5) -> list[Collision]:
    """Contacts sharing a mobile or e-mail key and customers sharing the company key."""
    found: list[Collision] = []
    method_q = Q(pk__in=[])
    if keys.get("mobile"):
        method_q |= Q(kind__in=[ContactMethod.Kind.MOBILE, ContactMethod.Kind.PHONE],
                      value_key=keys["mobile"])
    if keys.get("email"):
        method_q |= Q(kind=ContactMethod.Kind.EMAIL, value_key=keys["email"])
    if keys.get("mobile") or keys.get("email"):
        methods = list(ContactMethod.objects.filter(method_q, contact__merged_into__isnull=True)
                       .select_related("contact").order_by("pk")[:limit])
        links = {}
        for link in (CustomerContact.objects.filter(
                contact_id__in=[m.contact_id for m in methods],
                customer__merged_into__isnull=True)
                .select_related("customer").order_by("-is_primary", "pk")):
            links.setdefault(link.contact_id, link)
        for method in methods:
            link = links.get(method.contact_id)
            matched = "email" if method.kind == ContactMethod.Kind.EMAIL else "mobile"
            found.append(Collision("contact", method.contact_id, method.contact.name,
                                   link.customer.owner_id if link else None, matched,
                                   link.customer_id if link else None))
    if keys.get("company"):
        for customer in (Customer.objects.filter(name_key=keys["company"],
                                                 merged_into__isnull=True)
                         .order_by("pk")[:limit]):
            found.append(Collision("customer", customer.pk, customer.name, customer.owner_id,
                                   "company", customer.pk))
    return found[:limit]
