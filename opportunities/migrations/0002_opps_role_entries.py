"""Roles that open "My leads" also open the pipeline (Opportunities) on existing installs;
new installs get it from the org-stage presets."""

from django.db import migrations


def add_entry(apps, schema_editor):
    Role = apps.get_model("orgs", "Role")
    for role in Role.objects.all():
        entries = list(role.entries or [])
        if "leads" in entries and "opportunities" not in entries:
            role.entries = [*entries, "opportunities"]
            role.save(update_fields=["entries"])


class Migration(migrations.Migration):
    dependencies = [
        ("opportunities", "0001_initial"),
        ("orgs", "0001_initial"),
    ]

    operations = [migrations.RunPython(add_entry, migrations.RunPython.noop)]
