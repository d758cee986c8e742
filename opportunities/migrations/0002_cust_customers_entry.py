"""Open the Customers page to the sales roles of installs created before it existed."""

from django.db import migrations

ROLES = ("sales_head", "sales_manager", "sales_rep", "telesales_rep", "field_sales_rep",
         "customer_owner")


def add_entry(apps, schema_editor):
    Role = apps.get_model("orgs", "Role")
    for role in Role.objects.filter(code__in=ROLES):
        if "customers" not in (role.entries or []):
            role.entries = [*(role.entries or []), "customers"]
            role.save(update_fields=["entries"])


class Migration(migrations.Migration):
    dependencies = [
        ("opportunities", "0001_initial"),
        ("orgs", "0001_initial"),
    ]

    operations = [migrations.RunPython(add_entry, migrations.RunPython.noop)]
