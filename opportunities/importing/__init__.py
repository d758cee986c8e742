"""Import of customers, contacts and opportunities (kinds of the import registry,
``crm_site.lib.imports``), and the customers and contacts a lead import collides with.

``register()`` runs in ``OpportunitiesConfig.ready``; the job, runner, task and pages are
the one import pipeline's (``leads.imports``).
"""

from __future__ import annotations

from django.utils.translation import gettext_lazy

from crm_site.lib.imports import maven
from crm_site.lib.imports.records import RecordSteps, fields_guesser, record_kind_runner
from crm_site.lib.imports.registry import ImportKind, register_kind


def register() -> None:
    from leads.imports.lead_writes import register_customer_hits

    from ..models import Contact, Customer, Opportunity
    from . import customers, opportunities
    from .collisions import customer_hits

    register_customer_hits(customer_hits)
    register_kind(ImportKind(
        code="customers", label=gettext_lazy("Customers"),
        run=record_kind_runner(RecordSteps(customers.customer_row, customers.write_customers,
                                           customers.prepare_customers)),
        guess_mapping=fields_guesser(lambda: Customer, customers.CUSTOMER_FIELDS),
        presets=maven.presets("customers"), order=10))
    register_kind(ImportKind(
        code="contacts", label=gettext_lazy("Contacts"),
        run=record_kind_runner(RecordSteps(customers.contact_row, customers.write_contacts)),
        guess_mapping=fields_guesser(lambda: Contact, customers.CONTACT_FIELDS), order=20))
    register_kind(ImportKind(
        code="opportunities", label=gettext_lazy("Opportunities"),
        run=record_kind_runner(RecordSteps(opportunities.opportunity_row,
                                           opportunities.write_opportunities,
                                           opportunities.prepare_opportunities),
                               prefixes=maven.prefixes()),
        guess_mapping=fields_guesser(lambda: Opportunity, opportunities.OPPORTUNITY_FIELDS),
        presets=maven.presets("opportunities"), order=30))
