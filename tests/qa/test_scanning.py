"""Sensitive words are found when a follow-up is saved and in bulk when the list changes."""

import pytest

from leads.services_followups import followup_record
from orgs.models import Dictionary, DictionaryItem
from qa.models import SensitiveHit
from qa.scanning import rescan_all
from tests.qa.conftest import make_lead, write_followup

pytestmark = pytest.mark.django_db


def test_saving_a_followup_records_its_hits_with_category(qa_setup, pool, wangfang):
    lead = make_lead(pool, owner=wangfang)
    followup = followup_record(subject="lead", record_id=lead.pk, user=wangfang, kind="call",
                               outcome="connected", content="这个产品稳赚不赔，可以打到个人账户")
    hits = {(followup.content[h.start:h.end], h.category, h.severity)
            for h in SensitiveHit.objects.filter(followup=followup)}
    assert hits == {("稳赚不赔", "return_promise", "high"),
                    ("个人账户", "private_payment", "high")}


def test_a_new_word_rescans_every_followup_and_a_removed_one_clears_its_hits(
        qa_setup, pool, wangfang, django_capture_on_commit_callbacks):
    lead = make_lead(pool, owner=wangfang)
    clean = write_followup(lead, wangfang, content="客户说要给ＶＩＰ折扣才签")
    assert not SensitiveHit.objects.filter(followup=clean).exists()
    dictionary = Dictionary.objects.get(code="sensitive_word")
    with django_capture_on_commit_callbacks(execute=True):
        word = DictionaryItem.objects.create(dictionary=dictionary, code="vip_discount",
                                             label="vip折扣",
                                             extra={"category": "overpromise"})
    hit = SensitiveHit.objects.get(followup=clean)
    assert clean.content[hit.start:hit.end] == "ＶＩＰ折扣" and hit.category == "overpromise"
    with django_capture_on_commit_callbacks(execute=True):
        word.delete()
    assert not SensitiveHit.objects.filter(followup=clean).exists()


def test_rescan_twice_keeps_one_hit_per_word_and_place(qa_setup, pool, wangfang):
    lead = make_lead(pool, owner=wangfang)
    followup = write_followup(lead, wangfang, content="返点返点")
    first = rescan_all(batch=1)
    second = rescan_all()
    assert first.hits == second.hits == 2
    assert SensitiveHit.objects.filter(followup=followup).count() == 2
