"""An order from a won opportunity when the catalogue is empty: the page says why nothing
can be ordered yet and where products are added, keeps what was typed, and starts from the
opportunity's product and amount."""

from __future__ import annotations

import pytest
from django.utils import timezone

from contracts.models import Order, Product
from opportunities.models import Opportunity
from tests.helpers import user

from .conftest import make_opportunity

pytestmark = pytest.mark.django_db


@pytest.fixture
def won_without_product(demo_org):
    return make_opportunity(owner=user("rep_wangfang"), stage="won", amount=186_000,
                            status=Opportunity.Status.WON, closed_at=timezone.now(),
                            customer_name="上海锦程智能制造有限公司")


def _post(client, opportunity, **line):
    return client.post("/contracts/orders/new/", {
        "opportunity": opportunity.pk, "signed_on": "2026-12-01", "notes": "",
        "lines-TOTAL_FORMS": "1", "lines-INITIAL_FORMS": "0", "lines-MIN_NUM_FORMS": "1",
        "lines-MAX_NUM_FORMS": "100", "lines-0-product": "", "lines-0-quantity": "3",
        "lines-0-unit_price": "12345.50", "lines-0-discount": "", **line})


def test_an_empty_catalogue_is_explained_and_the_line_starts_from_the_opportunity(
        won_without_product, client_for):
    assert not Product.objects.exists()
    url = f"/contracts/orders/new/?opportunity={won_without_product.pk}"
    page = client_for("rep_wangfang", HTTP_ACCEPT_LANGUAGE="en").get(url).content.decode()
    assert 'data-testid="no-products"' in page
    assert "no products" in page.lower()
    assert "/admin/contracts/product/add/" not in page  # a rep cannot add products
    assert "administrator" in page.lower()
    # The line starts as one unit at the opportunity's amount.
    assert 'name="lines-0-quantity" value="1"' in page
    assert 'name="lines-0-unit_price" value="186000.00"' in page

    page = client_for("admin").get(url).content.decode()
    assert "/admin/contracts/product/add/" in page


def test_a_line_without_a_product_keeps_what_was_typed_and_says_why(won_without_product,
                                                                   client_for):
    rep = client_for("rep_wangfang", HTTP_ACCEPT_LANGUAGE="en")
    response = _post(rep, won_without_product)
    assert response.status_code == 200
    page = response.content.decode()
    assert "An order needs at least one line." not in page
    assert "no products" in page.lower()
    assert 'name="lines-0-quantity" value="3"' in page
    assert 'name="lines-0-unit_price" value="12345.50"' in page
    assert not Order.objects.exists()


def test_with_a_catalogue_a_line_without_a_product_asks_for_one(won_without_product,
                                                               client_for):
    product = Product.objects.create(code="gtx-pro", name="GTX Pro", list_price=4821)
    rep = client_for("rep_wangfang", HTTP_ACCEPT_LANGUAGE="en")
    page = _post(rep, won_without_product).content.decode()
    assert "Choose a product for this line." in page
    assert 'name="lines-0-quantity" value="3"' in page
    response = _post(rep, won_without_product, **{"lines-0-product": str(product.pk)})
    assert response.status_code == 302
    order = Order.objects.get()
    assert order.total == 3 * 12345.50


def test_the_opportunitys_product_and_amount_prefill_the_line(won, client_for):
    page = client_for("rep_wangfang").get(
        f"/contracts/orders/new/?opportunity={won.pk}").content.decode()
    assert f'value="{won.product_id}" data-price="4821.00" selected' in page
    assert 'name="lines-0-unit_price" value="4821.00"' in page
    assert 'data-testid="no-products"' not in page
