"""Free-form contact data (a lead's channel attributes, notifications, admin pages) is
masked like the contact fields for whoever may not see it in clear."""

from __future__ import annotations

import pytest
from django.contrib.auth.models import Permission
from django.core import mail
from django.urls import reverse

from leads.models import Lead
from notifications import kinds
from notifications.models import Notification
from notifications.services import email_sweep, notify
from orgs.models import Role
from orgs.rights import Operation
from tests.factories import UserFactory

from .conftest import make_lead

pytestmark = pytest.mark.django_db

MOBILE, EMAIL, ID_CARD, CARD = ("13912345678", "zhang.wei@example.com",
                                "110101199003071234", "6222021234567890123")
ATTRIBUTES = {"备用手机": MOBILE, "note": f"请发邮件到 {EMAIL} 或回电",
              "身份证号": ID_CARD, "unmapped_col_7": f"卡号 {CARD}", "source_page": "/pricing"}
CLEAR = (MOBILE, EMAIL, ID_CARD, CARD)


def _strip(operation: str, role: str = "sales_rep") -> None:
    found = Role.objects.get(code=role)
    found.operations = [op for op in found.operations if op != operation]
    found.save()


def _panel(client, lead) -> str:
    return client.get(f"/leads/{lead.pk}/").content.decode()


def test_attribute_panel_is_masked_without_the_detail_unmask_right(pool, wangfang,
                                                                    client_for):
    lead = make_lead(pool, owner=wangfang)
    Lead.objects.filter(pk=lead.pk).update(attributes=ATTRIBUTES)
    client = client_for("rep_wangfang")
    page = _panel(client, lead)
    assert all(value in page for value in CLEAR)  # the owner who may unmask: in clear

    _strip(Operation.UNMASK_DETAIL)
    page = _panel(client_for("rep_wangfang"), lead)
    assert 'data-testid="attributes"' in page and "/pricing" in page
    for value in CLEAR:
        assert value not in page, value
    assert "139****5678" in page and "z***@example.com" in page
    assert "110101********1234" in page and "**** **** **** 0123" in page


def test_attribute_panel_of_a_pool_lead_is_masked_until_claimed(pool, client_for):
    lead = make_lead(pool)
    Lead.objects.filter(pk=lead.pk).update(attributes=ATTRIBUTES)
    pool.hide_contact_until_claimed = True
    pool.save()
    client = client_for("rep_wangfang")  # holds unmask_detail: the pool still hides them
    page = _panel(client, lead)
    assert 'data-testid="attributes"' in page
    assert not any(value in page for value in CLEAR)

    client.post(f"/leads/{lead.pk}/claim/")
    assert all(value in _panel(client, lead) for value in CLEAR)


def test_lead_admin_masks_the_attributes_for_staff_without_unmask(pool, client):
    lead = make_lead(pool)
    Lead.objects.filter(pk=lead.pk).update(attributes=ATTRIBUTES)
    staff = UserFactory(is_staff=True)
    staff.user_permissions.add(*Permission.objects.filter(
        codename__in=["view_lead", "change_lead"]))
    client.force_login(staff)
    page = client.get(reverse("admin:leads_lead_change", args=[lead.pk]))
    body = page.content.decode()
    assert page.status_code == 200
    assert "139****5678" in body
    assert not any(value in body for value in CLEAR)


@pytest.fixture
def contact_note():
    kinds.register("test_contact_note", "%(text)s")
    yield
    kinds._KINDS.pop("test_contact_note", None)


def test_notifications_mask_contact_data_for_a_reader_without_the_right(
        wangfang, client_for, contact_note, settings):
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    notify(recipient_id=wangfang.pk, kind="test_contact_note",
           params={"text": f"回电 {MOBILE}，邮箱 {EMAIL}"})
    Notification.objects.filter(recipient=wangfang).update(email=Notification.Email.PENDING)
    client = client_for("rep_wangfang")  # a rep holds no list unmask right
    for url in ("/notifications/", "/notifications/bell/"):
        response = client.get(url, HTTP_HX_REQUEST="true")
        body = response.content.decode()
        assert response.status_code == 200, url
        assert "139****5678" in body, url
        assert MOBILE not in body and EMAIL not in body, url
    email_sweep()
    sent = [m for m in mail.outbox if "139****5678" in m.body]
    assert sent and not any(MOBILE in m.body or MOBILE in m.subject for m in mail.outbox)
