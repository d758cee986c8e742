"""Browsers ask for /favicon.ico on their own: it answers with the icon, and every page
links it."""

import pytest

pytestmark = pytest.mark.django_db


def test_favicon_ico_answers_with_the_icon(client):
    response = client.get("/favicon.ico")
    assert response.status_code == 301
    icon = client.get(response["Location"])
    assert icon.status_code == 200
    body = b"".join(icon.streaming_content) if icon.streaming else icon.content
    assert body[:4] == b"\x00\x00\x01\x00"  # an ICO file


def test_pages_link_the_icon(demo_org, login, client):
    login("rep_wangfang")
    page = client.get("/workbench/").content.decode()
    assert 'rel="icon" href="/static/img/favicon.svg"' in page
    assert 'rel="icon" href="/static/favicon.ico"' in page
    assert client.get("/static/img/favicon.svg").status_code == 200
