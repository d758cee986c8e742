"""The pipelined import (batches written from a second connection while the next is
checked, as an import job runs on PostgreSQL) gives exactly what the one-thread import
gives: the same leads and events, counts, rejected rows with their lines, skip and merge
choices, progress that ends on the file's counts, and nothing twice on a re-import."""

from __future__ import annotations

import re

import pytest
from django.utils import translation

from leads.importer import guess_mapping, read_table, run_import
from leads.models import Lead, LeadEvent, LeadPool
from orgs.models import OrgUnit

BATCH = 7  # many small batches: the writer thread is always busy


def _file() -> bytes:
    lines = ["姓名,手机,公司,邮箱"]
    for n in range(60):
        if n % 13 == 5:
            lines.append(f",1370000{n:04d},无名公司{n},")  # no name: rejected
        elif n % 11 == 3:
            lines.append(f"重复{n},1370000{n - 1:04d},重复公司,")  # repeats the line above
        elif n % 7 == 0:
            lines.append(f"老客户{n},1360000{n:04d},,old{n}@example.com")  # in the database
        else:
            lines.append(f"客户{n},1370000{n:04d},公司{n},")
    return ("\n".join(lines) + "\n").encode("utf-8")


def _no_ids(reason: str) -> str:
    return re.sub(r"lead \d+", "lead #", reason)


def _state(pool):
    leads = sorted(Lead.objects.filter(pool=pool).values_list("name", "mobile_key", "title",
                                                              "email_key"))
    events = sorted(LeadEvent.objects.filter(lead__pool=pool).values_list(
        "lead__mobile_key", "kind", "actor_id", "reason"))
    return leads, events


def _run(pool, *, pipelined: bool, merge: bool = False):
    progress = []
    table = read_table(_file(), "leads.csv")
    with translation.override("en"):
        counts = run_import(table=table, pool=pool, channel="file_import",
                            mapping=guess_mapping(table.headers), actor=None, merge=merge,
                            batch_size=BATCH, pipelined=pipelined,
                            on_progress=lambda done, c: progress.append(
                                (done, c.accepted, c.merged, c.skipped, c.rejected)))
    return counts, progress


def _reset(pool):
    LeadEvent.objects.filter(lead__pool=pool).delete()
    Lead.objects.filter(pool=pool).delete()
    for n in range(0, 60, 7):
        lead = Lead(pool=pool, name=f"老客户{n}", mobile=f"1360000{n:04d}", title="经理")
        lead.refresh_keys()
        lead.save()


@pytest.mark.django_db(transaction=True)
def test_the_pipelined_import_matches_the_one_thread_import():
    unit = OrgUnit.objects.add_root(create_kwargs={"code": "pipe", "name": "管道组",
                                                   "kind": OrgUnit.Kind.TEAM})
    pool = LeadPool.objects.create(code="pipe_pool", name="管道池", org_unit=unit)
    results = {}
    for pipelined in (False, True):
        _reset(pool)
        first, progress = _run(pool, pipelined=pipelined)
        again, _progress = _run(pool, pipelined=pipelined)
        merged, _progress = _run(pool, pipelined=pipelined, merge=True)
        results[pipelined] = (first, again, merged, progress, _state(pool))

    one, piped = results[False], results[True]
    for before, after in zip(one[:3], piped[:3], strict=True):
        assert (before.accepted, before.merged, before.skipped, before.rejected) == (
            after.accepted, after.merged, after.skipped, after.rejected)
        # The same rows, for the same reasons (lead ids differ: each run starts afresh).
        assert [(line, _no_ids(reason)) for line, reason, _ in before.rejects] == [
            (line, _no_ids(reason)) for line, reason, _ in after.rejects]
    first = piped[0]
    assert first.accepted > 30 and first.skipped >= 8 and first.rejected >= 4
    assert any("Already in LeadPool" in reason for _, reason, _ in first.rejects)
    assert any("Duplicate of line" in reason for _, reason, _ in first.rejects)
    lines = [line for line, _, _ in first.rejects]
    assert lines == sorted(lines)
    assert piped[1].accepted == 0  # the re-import adds nothing
    assert piped[2].merged > 0
    # Progress: once a batch, rising, ending on the file's counts.
    assert piped[3] == one[3]
    assert piped[3][-1] == (60, first.accepted, 0, first.skipped, first.rejected)
    assert piped[4] == one[4]
