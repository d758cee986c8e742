"""Roles that open a home page (the sales workbench or the manager home) open the reports
too: a rep sees their own figures, a manager their team's, the director everyone's."""

from django.db import migrations


def grant(apps, schema_editor):
    Role = apps.get_model("orgs", "Role")
    for role in Role.objects.all():
        entries = list(role.entries or [])
        if "reports" not in entries and {"workbench", "manager_home"} & set(entries):
            role.entries = [*entries, "reports"]
            role.save(update_fields=["entries"])


class Migration(migrations.Migration):

    dependencies = [("reports", "0001_daily_snapshots")]

    operations = [migrations.RunPython(grant, migrations.RunPython.noop)]
