"""Masking (脱敏) of contact data, and who may see it in clear in which scenario."""

import pytest
from django.contrib.auth.models import AnonymousUser

from crm_site.lib.masking import (
    can_unmask,
    mask,
    mask_address,
    mask_bank_card,
    mask_email,
    mask_for,
    mask_id_card,
    mask_phone,
)
from orgs.rights import Operation
from tests.factories import UserFactory, person_with_role

from .conftest import fresh


@pytest.mark.parametrize(
    ("raw", "masked"),
    [
        ("13812345678", "138****5678"),
        ("+8613812345678", "138****5678"),
        ("+86 138 1234 5678", "138****5678"),
        ("+86-138-1234-5678", "138****5678"),
        ("0086 13812345678", "138****5678"),
        (" 13812345678 ", "138****5678"),
    ],
)
def test_mobile_numbers_keep_prefix_and_last_four(raw, masked):
    assert mask_phone(raw) == masked
    assert mask(raw, "phone") == masked


@pytest.mark.parametrize("raw", ["12345678", "021-6123", "5678"])
def test_short_numbers_never_show_more_than_the_last_four(raw):
    masked = mask_phone(raw)
    digits = "".join(c for c in raw if c.isdigit())
    assert masked.endswith(digits[-4:]) or masked == "****"
    assert digits not in masked
    assert "*" in masked


def test_phone_without_digits_is_hidden():
    assert mask_phone("unknown") == "****"


@pytest.mark.parametrize(
    ("raw", "masked"),
    [
        ("110101199003071234", "110101********1234"),
        ("11010119900307123X", "110101********123X"),
        ("110101900307123", "110101*****7123"),
        ("1234", "****"),
    ],
)
def test_id_cards_hide_the_birth_date(raw, masked):
    assert mask_id_card(raw) == masked
    assert mask(raw, "id_card") == masked


@pytest.mark.parametrize(
    "raw", ["6222021234567890123", "6222 0212 3456 7890", "6222-0212-3456-7890"]
)
def test_bank_cards_show_only_the_last_four(raw):
    digits = "".join(c for c in raw if c.isdigit())
    assert mask_bank_card(raw) == f"**** **** **** {digits[-4:]}"
    assert digits[:6] not in mask(raw, "bank_card")


def test_address_keeps_the_city_and_hides_the_street():
    address = "上海市浦东新区世纪大道100号"
    masked = mask_address(address)
    assert masked.startswith("上海市")
    assert masked.endswith("****")
    assert "世纪大道" not in masked and "100" not in masked
    # A short address still hides most of itself.
    assert mask_address("北京") == "北****"


def test_email_keeps_the_domain_only():
    assert mask_email("zhang.wei@example.com") == "z***@example.com"
    assert mask("zhang.wei@example.com", "email") == "z***@example.com"
    assert "zhang" not in mask_email("zhang@example.com")
    assert "@" not in mask_email("not-an-email-address")


@pytest.mark.parametrize("kind", ["phone", "id_card", "bank_card", "address", "email"])
@pytest.mark.parametrize("empty", ["", None])
def test_empty_values_stay_empty(kind, empty):
    assert mask(empty, kind) == ""
    assert mask_for(None, empty, kind, "list") == ""


def test_unknown_kind_or_scenario_is_an_error():
    with pytest.raises(ValueError):
        mask("13812345678", "fax")
    with pytest.raises(ValueError):
        can_unmask(None, "screenshot")


SCENARIOS = ["list", "detail", "export", "print"]


@pytest.mark.django_db
@pytest.mark.parametrize("granted", SCENARIOS)
def test_mask_for_honours_each_scenarios_unmask_right(tree, role, granted):
    viewer = person_with_role(tree["east"], role(operations=[f"unmask_{granted}"]))
    user = fresh(viewer)
    for scenario in SCENARIOS:
        shown = mask_for(user, "13812345678", "phone", scenario)
        if scenario == granted:
            assert shown == "13812345678", scenario
        else:
            assert shown == "138****5678", scenario


@pytest.mark.django_db
def test_unmask_rights_add_up_over_roles(tree, role):
    viewer = person_with_role(tree["east"], role(operations=[Operation.UNMASK_LIST]))
    viewer.memberships.get().extra_roles.add(role(operations=[Operation.UNMASK_EXPORT]))
    user = fresh(viewer)
    assert mask_for(user, "13812345678", "phone", "list") == "13812345678"
    assert mask_for(user, "13812345678", "phone", "export") == "13812345678"
    assert mask_for(user, "13812345678", "phone", "detail") == "138****5678"


@pytest.mark.django_db
def test_nobody_without_a_role_sees_contact_data_in_clear(db):
    plain = fresh(UserFactory())
    admin = fresh(UserFactory(is_superuser=True))
    for scenario in SCENARIOS:
        assert mask_for(plain, "zhang.wei@example.com", "email", scenario) == "z***@example.com"
        assert mask_for(AnonymousUser(), "13812345678", "phone", scenario) == "138****5678"
        assert mask_for(admin, "13812345678", "phone", scenario) == "13812345678"


@pytest.mark.django_db
def test_departed_employee_loses_the_unmask_right(tree, role):
    from orgs.services import employee_depart

    viewer = person_with_role(tree["east"], role(operations=[Operation.UNMASK_LIST]))
    assert mask_for(fresh(viewer), "13812345678", "phone", "list") == "13812345678"
    employee_depart(employee_id=viewer.pk)
    assert mask_for(fresh(viewer), "13812345678", "phone", "list") == "138****5678"


@pytest.mark.parametrize(("text", "masked"), [
    ("请回电 13812345678 谢谢", "请回电 138****5678 谢谢"),
    ("手机：+86 138-1234-5678。", "手机：138****5678。"),
    ("mail zhang.wei@example.com now", "mail z***@example.com now"),
    ("身份证110101199003071234", "身份证110101********1234"),
    ("卡 6222 0212 3456 7890", "卡 **** **** **** 7890"),
    ("电话 021-61234567", "电话 021****4567"),
    ("订单 A13812345678 与 2026-12-03", "订单 A13812345678 与 2026-12-03"),
])
def test_free_text_is_masked_by_pattern(text, masked):
    from crm_site.lib.masking import mask_text

    assert mask_text(text) == masked


def test_a_bag_is_masked_by_key_and_by_pattern_at_any_depth():
    from crm_site.lib.masking import mask_bag

    bag = {"地址": "上海市浦东新区世纪大道100号", "source": "/pricing", "score": 7,
           "rows": [{"备注": "email li@example.com"}, "13812345678"], "ok": True,
           "qq": "123456789"}
    masked = mask_bag(bag)
    assert masked["地址"].endswith("****") and "世纪大道" not in masked["地址"]
    assert masked["source"] == "/pricing" and masked["score"] == 7 and masked["ok"] is True
    assert masked["rows"] == [{"备注": "email l***@example.com"}, "138****5678"]
    assert "123456789" not in masked["qq"]
    assert bag["地址"] == "上海市浦东新区世纪大道100号"  # the stored bag is left alone
