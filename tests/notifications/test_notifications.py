"""Notifications: the bell, reading, idempotent sending and e-mail copies."""

import threading

import pytest
from django.core import mail
from django.db import connection

from notifications import services
from notifications.kinds import register
from notifications.models import Notification
from tests.factories import UserFactory

register("test_kind", "Lead %(lead)s is due", icon="bi-alarm")


@pytest.fixture
def rep(db):
    return UserFactory(username="rep_a", email="rep_a@example.com")


@pytest.fixture
def other(db):
    return UserFactory(username="rep_b", email="")


def test_a_key_is_sent_once_however_often_a_sweep_offers_it(rep):
    message = services.Message(rep.pk, "test_kind", {"lead": "王芳"}, "/leads/1/", "due:1")
    assert services.notify_many([message]) == 1
    assert services.notify_many([message, message]) == 0
    assert Notification.objects.filter(recipient=rep).count() == 1
    assert Notification.objects.get(recipient=rep).text == "Lead 王芳 is due"


def test_missing_parameters_render_empty_instead_of_breaking(rep):
    services.notify(recipient_id=rep.pk, kind="test_kind", params={})
    assert Notification.objects.get(recipient=rep).text == "Lead  is due"


def test_bell_counts_unread_and_reading_clears_it(client, rep, other):
    for number in range(3):
        services.notify(recipient_id=rep.pk, kind="test_kind", params={"lead": number},
                        url=f"/leads/{number}/")
    services.notify(recipient_id=other.pk, kind="test_kind", params={"lead": "x"})
    client.force_login(rep)
    bell = client.get("/notifications/bell/", HTTP_HX_REQUEST="true")
    assert bell.status_code == 200
    assert 'data-testid="bell-count">3<' in bell.content.decode()
    first = Notification.objects.filter(recipient=rep).order_by("pk").first()
    opened = client.post(f"/notifications/{first.pk}/open/")
    assert opened.status_code == 302 and opened["Location"] == "/leads/0/"
    assert 'data-testid="bell-count">2<' in client.get("/notifications/bell/").content.decode()
    client.post("/notifications/read-all/")
    assert "bell-count" not in client.get("/notifications/bell/").content.decode()


def test_nobody_opens_or_reads_another_users_notification(client, rep, other):
    services.notify(recipient_id=other.pk, kind="test_kind", params={"lead": "secret"},
                    url="/leads/9/")
    theirs = Notification.objects.get(recipient=other)
    client.force_login(rep)
    response = client.post(f"/notifications/{theirs.pk}/open/")
    assert response["Location"] == "/notifications/"
    theirs.refresh_from_db()
    assert theirs.read_at is None
    assert "secret" not in client.get("/notifications/").content.decode()


def test_an_outside_link_is_never_followed(client, rep):
    services.notify(recipient_id=rep.pk, kind="test_kind", url="https://evil.example.com/")
    client.force_login(rep)
    note = Notification.objects.get(recipient=rep)
    assert client.post(f"/notifications/{note.pk}/open/")["Location"] == "/notifications/"


def test_email_copies_only_for_users_who_opted_in(client, rep, other):
    services.set_email_enabled(user=rep, enabled=True)
    services.notify(recipient_id=rep.pk, kind="test_kind", params={"lead": "A"})
    services.notify(recipient_id=other.pk, kind="test_kind", params={"lead": "B"})
    assert services.email_sweep() == 1
    assert len(mail.outbox) == 1 and mail.outbox[0].to == ["rep_a@example.com"]
    assert services.email_sweep() == 0


def test_opting_in_without_an_address_is_refused_with_a_message(client, other):
    client.force_login(other)
    response = client.post("/notifications/settings/", {"email_enabled": "1"}, follow=True)
    assert "no e-mail address" in response.content.decode() or "没有" in response.content.decode()
    from notifications.selectors import email_enabled

    assert not email_enabled(other)


@pytest.mark.django_db(transaction=True)
def test_two_email_sweeps_at_once_send_each_mail_once():
    rep = UserFactory(username="rep_sweep", email="sweep@example.com")
    services.set_email_enabled(user=rep, enabled=True)
    services.notify_many([services.Message(rep.pk, "test_kind", {"lead": n}, key=f"k{n}")
                          for n in range(60)])
    sent = []

    def sweep():
        try:
            sent.append(services.email_sweep(limit=25))
            sent.append(services.email_sweep(limit=25))
        finally:
            connection.close()

    threads = [threading.Thread(target=sweep) for _ in range(3)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sum(sent) == 60
    assert len(mail.outbox) == 60
    assert len({m.body for m in mail.outbox}) == 60
