"""Fixtures of the orders and contracts suite: the demo org, products, a won opportunity."""

from __future__ import annotations

import io
from datetime import timedelta
from decimal import Decimal

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone

from contracts.models import ApprovalBand, ApprovalBandStep, Product
from contracts.services import agreements, orders
from opportunities.models import Opportunity
from tests.helpers import user
from tests.pipeline.conftest import make_opportunity

PNG = (b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x01\x00\x00\x00\x01\x08\x06\x00\x00"
       b"\x00\x1f\x15\xc4\x89\x00\x00\x00\rIDATx\x9cc\xf8\xcf\xc0\xf0\x1f\x00\x05\x00\x01\xff"
       b"\x89\x99=\x1d\x00\x00\x00\x00IEND\xaeB`\x82")
PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"


def upload(name: str, content: bytes) -> SimpleUploadedFile:
    return SimpleUploadedFile(name, content)


@pytest.fixture(autouse=True)
def _media(settings, tmp_path):
    settings.MEDIA_ROOT = str(tmp_path / "media")
    settings.STORAGES = {**settings.STORAGES,
                         "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"}}


@pytest.fixture
def products(db):
    return [Product.objects.create(code="gtx-basic", name="GTX Basic", series="GTX",
                                   category="hardware", list_price=Decimal("550.00")),
            Product.objects.create(code="gtx-pro", name="GTX Pro", series="GTX",
                                   category="hardware", list_price=Decimal("4821.00"))]


@pytest.fixture
def won(demo_org, products):
    """A won opportunity of rep_wangfang (Shanghai team, manager mgr_shanghai)."""
    return make_opportunity(owner=user("rep_wangfang"), stage="won", amount=4821,
                            status=Opportunity.Status.WON, product=products[1],
                            customer_name="上海锦程智能制造有限公司",
                            closed_at=timezone.now())


@pytest.fixture
def band(demo_org):
    """Contracts from 10,000 need the owner's manager, then the next level up."""
    band = ApprovalBand.objects.create(subject="contract", name="≥ 1万", min_amount=10000)
    ApprovalBandStep.objects.create(band=band, position=1, kind="manager")
    ApprovalBandStep.objects.create(band=band, position=2, kind="next_level")
    return band


def make_order(owner, customer, *lines, opportunity=None):
    lines = lines or ((1, "100.00", 0),)
    from contracts.models import Product

    product = Product.objects.order_by("pk").first()
    return orders.order_create(
        user=owner, customer=customer, opportunity=opportunity,
        lines=[orders.LineInput(product.pk, Decimal(str(q)), Decimal(str(p)),
                                  Decimal(str(d))) for q, p, d in lines])


def make_contract(owner, customer, amount="50000.00", *, days=365, start=None):
    start = start or timezone.localdate()
    return agreements.contract_create(user=owner, customer=customer, title="年度合同",
                                    start_on=start, end_on=start + timedelta(days=days),
                                    amount=Decimal(amount))


__all__ = ["PDF", "PNG", "io", "make_contract", "make_order", "upload", "user"]
