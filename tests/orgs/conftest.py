"""Helpers for the organisation tests: a small org tree and fresh user objects.

Rights are cached on the user object for the length of a request, so every check below
reloads the user from the database, as the next request would.
"""

import pytest
from django.contrib.auth import get_user_model

from tests.factories import RoleFactory, make_unit


def fresh(user_or_employee):
    """The user as the next request would load it (no cached rights)."""
    user = getattr(user_or_employee, "user", user_or_employee)
    return get_user_model().objects.get(pk=user.pk)


@pytest.fixture
def tree(db):
    """company → sales → {east → east_team, south}; returns the units by code."""
    company = make_unit("t_company")
    sales = make_unit("t_sales", company, kind="department")
    east = make_unit("t_east", sales, kind="region")
    east_team = make_unit("t_east_team", east)
    south = make_unit("t_south", sales, kind="region")
    return {
        "company": company,
        "sales": sales,
        "east": east,
        "east_team": east_team,
        "south": south,
    }


@pytest.fixture
def role(db):
    """A role factory: ``role(scope=..., entries=[...], operations=[...])``."""

    def _role(**fields):
        if "scope" in fields:
            fields["data_scope"] = fields.pop("scope")
        return RoleFactory(**fields)

    return _role
