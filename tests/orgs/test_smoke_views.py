import pytest

pytestmark = pytest.mark.django_db


def test_rep_lands_on_workbench_and_is_refused_the_manager_page(demo_org, login, client):
    login("rep_wangfang")
    response = client.get("/", follow=True)
    assert response.redirect_chain[-1][0] == "/workbench/"
    refused = client.get("/manager/")
    assert refused.status_code == 403
    assert "data-testid=\"forbidden\"" in refused.content.decode()


def test_manager_sees_own_team_with_masked_mobiles(demo_org, login, client):
    login("mgr_shanghai")
    html = client.get("/team/").content.decode()
    assert "王芳" in html and "李磊" in html
    assert "张伟" not in html  # Hangzhou team is outside the Shanghai manager's unit
    assert "138****5678" in html and "13812345678" not in html
