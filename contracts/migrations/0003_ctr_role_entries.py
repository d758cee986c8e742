"""Existing roles open the new pages: roles that open the pipeline also open Orders and
Contracts; roles that may approve also open Approvals and Receivables. New installs get
them from the org-stage presets."""

from django.db import migrations


def add_entries(apps, schema_editor):
    Role = apps.get_model("orgs", "Role")
    for role in Role.objects.all():
        entries = list(role.entries or [])
        added = []
        if "opportunities" in entries or "leads" in entries:
            added += ["orders", "contracts"]
        if "approve" in (role.operations or []):
            added += ["approvals", "receivables"]
        new = [e for e in dict.fromkeys(added) if e not in entries]
        if new:
            role.entries = [*entries, *new]
            role.save(update_fields=["entries"])


class Migration(migrations.Migration):
    dependencies = [
        ("contracts", "0002_ctr_orders_contracts_approvals_payments"),
        ("orgs", "0001_initial"),
    ]

    operations = [migrations.RunPython(add_entries, migrations.RunPython.noop)]
