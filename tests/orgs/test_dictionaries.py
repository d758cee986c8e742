"""Dictionaries (数据字典): seeded on install, edited by admins, shown in the UI language."""

import pytest
from django.db import IntegrityError, transaction
from django.urls import reverse
from django.utils import translation

from orgs.defaults import seed_default_dictionaries
from orgs.models import Dictionary, DictionaryItem

pytestmark = pytest.mark.django_db

# The option lists PRODUCT.md §2 promises a new install.
PROMISED = [
    "channel", "region", "product_category", "industry", "lead_status_reason", "lost_reason",
    "followup_type", "opportunity_stage", "customer_grade", "qa_checklist", "sensitive_word",
]


def reseed() -> int:
    return seed_default_dictionaries(Dictionary, DictionaryItem)


def test_every_promised_dictionary_is_there_after_migrate():
    present = set(Dictionary.objects.values_list("code", flat=True))
    assert set(PROMISED) <= present
    for code in PROMISED:
        items = DictionaryItem.objects.active().of(code)
        assert items.count() >= 3, code
        for item in items:
            assert item.label and item.label_en, (code, item.code)


def test_channels_include_the_usual_sources():
    codes = set(DictionaryItem.objects.of("channel").values_list("code", flat=True))
    assert {"web_form", "official_account", "mini_program", "referral", "manual"} <= codes


def test_opportunity_stages_have_order_and_win_probability():
    stages = list(DictionaryItem.objects.of("opportunity_stage").order_by("sort_order"))
    codes = [s.code for s in stages]
    assert codes[0] == "prospecting" and codes.index("engaging") < codes.index("qualification")
    assert all(s.probability is not None and 0 <= s.probability <= 100 for s in stages)
    open_stages = [s for s in stages if "closed" not in s.extra]
    probabilities = [s.probability for s in open_stages]
    assert probabilities == sorted(probabilities) and len(set(probabilities)) == len(stages) - 2
    closed = {s.code: (s.extra["closed"], s.probability) for s in stages if "closed" in s.extra}
    assert closed == {"won": ("won", 100), "lost": ("lost", 0)}
    # Only stages carry a probability.
    assert not DictionaryItem.objects.of("channel").filter(probability__isnull=False).exists()


def test_probability_above_100_is_refused():
    dictionary = Dictionary.objects.get(code="opportunity_stage")
    with pytest.raises(IntegrityError), transaction.atomic():
        DictionaryItem.objects.create(dictionary=dictionary, code="t-sure", label="稳赢",
                                      probability=150)


def test_display_label_follows_the_active_language():
    item = DictionaryItem.objects.of("channel").get(code="web_form")
    with translation.override("en"):
        assert item.display_label == "Web form"
        assert str(item) == "Web form"
        assert item.dictionary.display_name == "Lead source / channel"
    with translation.override("zh-hans"):
        assert item.display_label == "官网表单"
        assert item.dictionary.display_name == "线索来源/渠道"


def test_display_label_falls_back_to_chinese_without_an_english_label():
    dictionary = Dictionary.objects.get(code="region")
    item = DictionaryItem.objects.create(dictionary=dictionary, code="t-xibei", label="西北偏北")
    with translation.override("en"):
        assert item.display_label == "西北偏北"


def test_item_codes_are_unique_within_a_dictionary():
    channel = Dictionary.objects.get(code="channel")
    with pytest.raises(IntegrityError), transaction.atomic():
        DictionaryItem.objects.create(dictionary=channel, code="web_form", label="重复")
    # The same code in another dictionary is a different option.
    assert DictionaryItem.objects.filter(code="no_need").count() >= 2
    region = Dictionary.objects.get(code="region")
    DictionaryItem.objects.create(dictionary=region, code="web_form", label="网络区域")


def test_admin_refuses_a_duplicate_code_with_a_message(admin_client):
    channel = Dictionary.objects.get(code="channel")
    response = admin_client.post(
        reverse("admin:orgs_dictionaryitem_add"),
        {"dictionary": channel.pk, "code": "web_form", "label": "重复", "sort_order": 1,
         "extra": "{}", "is_active": "on"},
    )
    assert response.status_code == 200
    assert response.context["adminform"].form.errors
    assert DictionaryItem.objects.of("channel").filter(code="web_form").count() == 1


def test_reseeding_keeps_admin_edits_and_adds_what_is_missing():
    item = DictionaryItem.objects.of("channel").get(code="web_form")
    item.label, item.label_en = "官网留资", "Website lead form"
    item.save()
    DictionaryItem.objects.of("channel").filter(code="event").update(is_active=False)
    DictionaryItem.objects.of("opportunity_stage").filter(code="proposal").update(probability=40)
    DictionaryItem.objects.of("region").filter(code="overseas").delete()
    before = DictionaryItem.objects.count()

    added = reseed()

    assert added == 1
    assert DictionaryItem.objects.count() == before + 1
    item.refresh_from_db()
    assert (item.label, item.label_en) == ("官网留资", "Website lead form")
    assert not DictionaryItem.objects.of("channel").get(code="event").is_active
    assert DictionaryItem.objects.of("opportunity_stage").get(code="proposal").probability == 40
    assert reseed() == 0


def test_an_admin_renamed_dictionary_keeps_its_name():
    Dictionary.objects.filter(code="industry").update(name="所属行业")
    reseed()
    assert Dictionary.objects.get(code="industry").name == "所属行业"


def test_admin_edits_a_label_and_it_is_audited(admin_client, admin_user):
    from auditlog.models import LogEntry

    item = DictionaryItem.objects.of("followup_type").get(code="call")
    response = admin_client.post(
        reverse("admin:orgs_dictionaryitem_change", args=[item.pk]),
        {"dictionary": item.dictionary_id, "code": "call", "label": "电话沟通",
         "label_en": "Phone call", "sort_order": item.sort_order, "extra": "{}",
         "is_active": "on"},
    )
    assert response.status_code == 302
    item.refresh_from_db()
    assert item.label == "电话沟通"
    entry = LogEntry.objects.get_for_object(item).latest("timestamp")
    assert entry.changes["label"] == ["电话", "电话沟通"]
    assert entry.actor == admin_user
    reseed()
    item.refresh_from_db()
    assert item.label == "电话沟通"
