"""Who "Assign selected to" offers on a pool page: the people who may work those leads
(who claim from the pool, then others in the assigner's scope who may claim) — never
someone who cannot work leads. On the master pool, where nobody claims, marketing is
offered routing to a sub-pool instead of herself."""

from __future__ import annotations

import re

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from leads import services
from leads.models import Lead, LeadPool
from leads.permissions import claimer_ids, pools_for
from tests.helpers import user

from .conftest import make_lead

pytestmark = pytest.mark.django_db


def offered(page: str) -> dict[str, list[str]]:
    """The assign dropdown's options by group label: {label: [user ids]}; {} without one."""
    select = re.search(r'<select[^>]*id="id_assign_to".*?</select>', page, re.S)
    if select is None:
        return {}
    groups = re.findall(r'<optgroup label="([^"]*)">(.*?)</optgroup>', select.group(0), re.S)
    return {label: re.findall(r'<option value="(\d+)"', body)
            for label, body in groups or [("", select.group(0))]}


def ids(*usernames) -> set[str]:
    return {str(user(u).pk) for u in usernames}


def test_marketing_on_the_master_pool_is_offered_routing_not_herself(demo_leads, client_for):
    master = demo_leads["master"]
    page = client_for("marketing", HTTP_ACCEPT_LANGUAGE="en").get(
        f"/leads/pool/?pool={master.code}").content.decode()
    assert offered(page) == {}
    assert 'id="id_route_to"' in page and 'data-testid="route-hint"' in page
    route = re.search(r'<select[^>]*id="id_route_to".*?</select>', page, re.S).group(0)
    assert "East China pool" in route and "South China pool" in route
    # Nor does the service take her as a receiver of her own master-pool leads.
    lead = make_lead(master, region="east")
    with pytest.raises(services.LeadActionRefused):
        services.lead_assign(lead_ids=[lead.pk], to_user_id=user("marketing").pk,
                             actor=user("marketing"))


def test_a_manager_is_offered_who_works_the_pool_then_their_own_claimers(demo_leads,
                                                                        client_for):
    east = demo_leads["east_pool"]
    page = client_for("mgr_shanghai", HTTP_ACCEPT_LANGUAGE="en").get(
        f"/leads/pool/?pool={east.code}").content.decode()
    groups = offered(page)
    assert list(groups) == ["East China pool"]
    assert ids("rep_wangfang", "rep_lilei", "rep_zhangwei", "rep_liuyang") <= set(
        groups["East China pool"])
    everyone = {pk for found in groups.values() for pk in found}
    assert not everyone & ids("rep_chenjing", "marketing", "qa_hemei")
    # The director reaches the master pool: its leads can go to any rep in her scope.
    page = client_for("director", HTTP_ACCEPT_LANGUAGE="en").get(
        f"/leads/pool/?pool={demo_leads['master'].code}").content.decode()
    groups = offered(page)
    assert ids("rep_wangfang", "rep_chenjing") <= set(groups["Others in your scope"])
    assert not {pk for found in groups.values() for pk in found} & ids("marketing",
                                                                       "qa_hemei")


def test_a_lead_goes_to_an_offered_rep_and_not_to_someone_else(demo_leads, client_for):
    east = demo_leads["east_pool"]
    lead, other = make_lead(east), make_lead(east)
    client = client_for("mgr_shanghai", HTTP_ACCEPT_LANGUAGE="en")
    response = client.post("/leads/pool/assign/", {
        "pool": east.code, "leads": [lead.pk], "to_rep": user("rep_zhangwei").pk,
        "next": f"/leads/pool/?pool={east.code}"})
    assert response.status_code == 302
    lead.refresh_from_db()
    assert lead.owner.username == "rep_zhangwei" and lead.status == Lead.Status.ASSIGNED
    client.post("/leads/pool/assign/", {"pool": east.code, "leads": [other.pk],
                                        "to_rep": user("qa_hemei").pk, "next": "/leads/pool/"})
    other.refresh_from_db()
    assert other.owner_id is None


def test_claimers_match_pools_for_and_take_a_fixed_number_of_queries(demo_leads):
    pools = list(LeadPool.objects.select_related("org_unit").order_by("pk"))
    with CaptureQueriesContext(connection) as queries:
        found = claimer_ids(pools)
    assert len(queries) <= 10
    from django.contrib.auth import get_user_model

    for person in get_user_model().objects.all():
        reach = set(pools_for(person, "claim_from_pool").values_list("pk", flat=True))
        for pool in pools:
            if person.pk in found[pool.pk]:
                assert pool.pk in reach, (person.username, pool.code)
    assert found[demo_leads["master"].pk] == set()
    assert user("rep_wangfang").pk in found[demo_leads["east_pool"].pk]
