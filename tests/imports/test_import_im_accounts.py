"""The employee import reads each person's WeCom, DingTalk and Feishu accounts."""

from __future__ import annotations

import pytest
from django.core.management import call_command
from django.utils import translation

from orgs.models import Employee

pytestmark = pytest.mark.django_db


def run(tmp_path, text: str, capsys) -> str:
    path = tmp_path / "staff.csv"
    path.write_text(text, encoding="utf-8")
    with translation.override("en"):
        call_command("import_records", "employees", str(path))
    return capsys.readouterr().out


def test_accounts_are_imported_and_a_second_file_only_fills_blanks(demo_org, tmp_path, capsys):
    out = run(tmp_path, "姓名,工号,主管,企业微信ID,钉钉ID,飞书ID\n"
                        "赵六,E9001,周建国,zhaoliu,,\n"
                        "钱七,E9002,周建国,qianqi,ding-qianqi,ou_qianqi\n", capsys)
    assert "accepted: 2" in out
    zhao = Employee.objects.get(employee_no="E9001")
    assert (zhao.wecom_userid, zhao.dingtalk_userid, zhao.feishu_userid) == ("zhaoliu", "", "")

    out = run(tmp_path, "name,employee_no,wecom_userid,dingtalk_userid\n"
                        "赵六,E9001,changed,ding-zhaoliu\n", capsys)

    assert "merged: 1" in out
    zhao.refresh_from_db()
    assert (zhao.wecom_userid, zhao.dingtalk_userid) == ("zhaoliu", "ding-zhaoliu")


def test_an_account_too_long_is_rejected_by_line(demo_org, tmp_path, capsys):
    out = run(tmp_path, "name,employee_no,wecom_userid\n孙八,E9003," + "x" * 65 + "\n", capsys)
    assert "rejected: 1" in out and "line 2" in out and "64" in out
