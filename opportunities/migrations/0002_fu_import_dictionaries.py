"""Dictionary items the record import needs: Maven's "Engaging" opportunity stage and the
industries of its accounts (see ``opportunities.importing.DICTIONARY_ITEMS``)."""

from django.db import migrations

# A copy, not an import: a migration must not change when the code does.
ITEMS = [
    ("opportunity_stage", "engaging", "接洽中", "Engaging", 15, 20),
    ("industry", "telecom", "通信", "Telecommunications", 75, None),
    ("industry", "media", "文化娱乐", "Media & entertainment", 76, None),
    ("industry", "marketing", "营销广告", "Marketing & advertising", 77, None),
    ("industry", "business_services", "商务服务", "Business services", 78, None),
    ("industry", "staffing", "人力资源服务", "Employment & staffing", 79, None),
]


# On a fresh database the dictionaries do not exist yet (the default ones are seeded
# after ``migrate``, which then only adds the items missing here).
NAMES = {"opportunity_stage": ("商机阶段", "Opportunity stages"),
         "industry": ("行业", "Industry")}


def add_items(apps, schema_editor):
    Dictionary = apps.get_model("orgs", "Dictionary")
    DictionaryItem = apps.get_model("orgs", "DictionaryItem")
    for dictionary_code, code, label, label_en, order, probability in ITEMS:
        name, name_en = NAMES[dictionary_code]
        dictionary, _ = Dictionary.objects.get_or_create(
            code=dictionary_code, defaults={"name": name, "name_en": name_en})
        DictionaryItem.objects.get_or_create(
            dictionary=dictionary, code=code,
            defaults={"label": label, "label_en": label_en, "sort_order": order,
                      "probability": probability})


class Migration(migrations.Migration):

    dependencies = [
        ("opportunities", "0001_initial"),
        ("orgs", "0001_initial"),
    ]

    operations = [migrations.RunPython(add_items, migrations.RunPython.noop)]
