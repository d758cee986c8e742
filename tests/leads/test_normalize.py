"""Duplicate-check keys: the same person typed in different ways gets the same key."""

import pytest
from hypothesis import given
from hypothesis import strategies as st

from leads.normalize import normalize_company, normalize_email, normalize_phone

ASCII_DIGITS = set("0123456789")


@pytest.mark.parametrize(
    "typed",
    [
        "13812345678",
        "138 1234 5678",
        "138-1234-5678",
        "+86 138 1234 5678",
        "+86-138-1234-5678",
        "(+86) 13812345678",
        "0086 13812345678",
        "008613812345678",
        "8613812345678",
        "86 138 1234 5678",
        "１３８１２３４５６７８",  # full-width digits from a Chinese input method
        "＋８６ １３８-1234-5678",
        "０　０８６　１３８　１２３４　５６７８",  # full-width spaces too
        " 138.1234.5678 ",
    ],
)
def test_every_way_of_typing_a_mainland_mobile_gives_the_same_key(typed):
    assert normalize_phone(typed) == "13812345678"


@pytest.mark.parametrize(
    ("typed", "key"),
    [
        ("021-6234 5678", "02162345678"),  # Shanghai landline keeps its area code
        ("0571-8888 6666", "057188886666"),
        ("（０２１）６２３４５６７８", "02162345678"),
        ("400-820-8820", "4008208820"),
        ("86 21 6234 5678", "862162345678"),  # not a mobile after 86: nothing dropped
        ("8602162345678", "8602162345678"),
    ],
)
def test_landlines_and_other_numbers_keep_every_digit(typed, key):
    assert normalize_phone(typed) == key


def test_a_prefix_is_dropped_only_before_a_mobile():
    # 86 followed by eleven digits that do not start with 1 is not a +86 mobile.
    assert normalize_phone("8602112345678") == "8602112345678"
    # A twelve-digit rest is not a mobile either.
    assert normalize_phone("86138123456789") == "86138123456789"


def test_digits_of_other_scripts_become_ascii():
    assert normalize_phone("+٨٦ ١٣٨١٢٣٤٥٦٧٨") == "13812345678"  # Arabic-Indic digits


@pytest.mark.parametrize("empty", [None, "", "   ", "n/a", "——"])
def test_no_digits_gives_an_empty_key(empty):
    assert normalize_phone(empty) == ""


# Plain text, and text made of what phone numbers are typed with in any script: decimal
# digits (Arabic-Indic, Devanagari, full-width, ...), spaces, dashes, brackets, plus signs.
_PHONE_LIKE = st.text(alphabet=st.characters(categories=("Nd", "Zs", "Pd", "Ps", "Pe", "Sm")))


@given(st.one_of(st.text(), _PHONE_LIKE))
def test_normalize_phone_is_idempotent_and_gives_ascii_digits_only(value):
    key = normalize_phone(value)
    assert set(key) <= ASCII_DIGITS
    assert normalize_phone(key) == key


_FULL_WIDTH = str.maketrans("0123456789+-", "０１２３４５６７８９＋－")


@given(
    rest=st.text(alphabet="0123456789", min_size=9, max_size=9),
    second=st.sampled_from("3456789"),
    prefix=st.sampled_from(["", "+86", "0086", "86", "+86 ", "(+86)", "0086-"]),
    separator=st.sampled_from(["", " ", "-", "　", "."]),
    full_width=st.booleans(),
)
def test_any_formatting_of_a_mobile_normalises_to_the_eleven_digits(
    rest, second, prefix, separator, full_width
):
    mobile = f"1{second}{rest}"
    typed = prefix + separator.join([mobile[:3], mobile[3:7], mobile[7:]])
    if full_width:
        typed = typed.translate(_FULL_WIDTH)
    assert normalize_phone(typed) == mobile


@pytest.mark.parametrize(
    ("typed", "key"),
    [
        ("  Zhang.Wei@Example.COM ", "zhang.wei@example.com"),
        ("ｚｈａｎｇ＠ｅｘａｍｐｌｅ．ｃｏｍ", "zhang@example.com"),
        ("WANGFANG@QQ.COM", "wangfang@qq.com"),
        ("wechat_zhangwei", ""),  # not an address: no key, so no false duplicate
        ("", ""),
        (None, ""),
    ],
)
def test_email_keys_are_trimmed_and_lower_case(typed, key):
    assert normalize_email(typed) == key


def test_company_names_fold_width_case_spaces_and_punctuation():
    same = [
        "ＡＢＣ 有限公司",
        "abc有限公司",
        " ABC（有限公司） ",
        "A.B.C. 有限公司",
    ]
    assert {normalize_company(name) for name in same} == {"abc有限公司"}
    assert normalize_company("上海 华辰（智能）科技有限公司") == "上海华辰智能科技有限公司"
    assert normalize_company("Huachen Tech., Ltd.") == normalize_company("HUACHEN TECH LTD")
    assert normalize_company("华辰科技") != normalize_company("华晨科技")
    assert normalize_company(None) == normalize_company("  ") == ""
