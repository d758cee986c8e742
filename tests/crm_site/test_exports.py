"""CSV exports: scoped, masked for the export scenario, formula-safe, Excel-friendly."""

import pytest

from crm_site.lib.exports import neutralise
from orgs.models import Employee, Role

pytestmark = pytest.mark.django_db


def _csv(response) -> str:
    return b"".join(response.streaming_content).decode("utf-8")


def test_manager_exports_team_with_masked_phones(demo_org, login, client):
    login("mgr_shanghai")
    response = client.get("/team/export.csv")
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/csv")
    body = _csv(response)
    assert body.startswith("\ufeff")
    assert "王芳" in body and "张伟" not in body
    assert "138****5678" in body and "13812345678" not in body


def test_export_unmasked_only_with_unmask_export(demo_org, login, client):
    role = Role.objects.get(code="sales_manager")
    role.operations = [*role.operations, "unmask_export"]
    role.save()
    login("mgr_shanghai")
    assert "13812345678" in _csv(client.get("/team/export.csv"))


def test_role_without_export_right_is_refused(demo_org, login, client):
    login("qa_hemei")  # QA opens the directory but may not export
    assert client.get("/team/").status_code == 200
    assert client.get("/team/export.csv").status_code == 403


def test_formula_cells_are_neutralised(demo_org, login, client):
    Employee.objects.filter(user__username="rep_wangfang").update(name="=HYPERLINK(\"x\")")
    login("mgr_shanghai")
    assert "'=HYPERLINK" in _csv(client.get("/team/export.csv"))
    assert neutralise("+86 138") == "'+86 138"
    assert neutralise("王芳") == "王芳"
