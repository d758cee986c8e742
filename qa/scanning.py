"""Scanning follow-ups for sensitive words: one follow-up when it is saved, every
follow-up when the word list changes.

The word list is the ``sensitive_word`` dictionary (category and severity in each item's
``extra``; ``extra["variants"]`` may add spellings). The compiled matcher is cached per
process and rebuilt when the list's fingerprint changes (one small query per scan).
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass

from django.db import connection, transaction
from django.db.models import Max, Min

from leads.models import FollowUp
from orgs.models import DictionaryItem

from .matcher import Matcher, Word
from .models import SensitiveHit

WORD_DICTIONARY = "sensitive_word"
# Budget: 20,000 short notes are ~4 MB of text in memory and one DELETE + one INSERT.
RESCAN_BATCH = 20_000
RESCAN_LOCK = 0x51A_5CA7  # advisory lock key: one full rescan at a time

_cache: dict[str, Matcher] = {}


def _word_rows():
    return list(DictionaryItem.objects.of(WORD_DICTIONARY).active()
                .order_by("pk").values_list("pk", "label", "extra"))


def words_from_rows(rows) -> list[Word]:
    words = []
    for pk, label, extra in rows:
        extra = extra or {}
        category, severity = str(extra.get("category", "")), str(extra.get("severity", ""))
        for phrase in [label, *extra.get("variants", [])]:
            if isinstance(phrase, str) and phrase.strip():
                words.append(Word(pk, phrase, category, severity))
    return words


def current_matcher() -> Matcher:
    rows = _word_rows()
    key = hashlib.sha1(repr(rows).encode()).hexdigest()
    matcher = _cache.get(key)
    if matcher is None:
        _cache.clear()
        matcher = _cache[key] = Matcher(words_from_rows(rows))
    return matcher


def _hits(matcher: Matcher, followup_id: int, content: str) -> list[SensitiveHit]:
    seen, hits = set(), []
    for match in matcher.find(content):
        key = (match.word.id, match.start)
        if key in seen:
            continue
        seen.add(key)
        hits.append(SensitiveHit(followup_id=followup_id, word_id=match.word.id,
                                 category=match.word.category[:64],
                                 severity=match.word.severity[:16],
                                 start=match.start, end=match.end))
    return hits


def scan_followup(followup) -> int:
    """Scan one follow-up (inside the caller's transaction); returns how many hits."""
    hits = _hits(current_matcher(), followup.pk, followup.content)
    SensitiveHit.objects.filter(followup_id=followup.pk).delete()
    SensitiveHit.objects.bulk_create(hits)
    return len(hits)


@dataclass
class RescanReport:
    scanned: int = 0
    hits: int = 0
    skipped: bool = False  # another rescan held the lock


def rescan_all(*, batch: int = RESCAN_BATCH, first: int | None = None,
               last: int | None = None) -> RescanReport:
    """Rescan every follow-up (or those with ids from ``first`` to ``last``) with the
    current list, a primary-key range per short transaction (old hits of the range
    replaced by the new ones).

    Safe to start twice: a second rescan finds the advisory lock held and returns
    ``skipped``; the task then retries shortly, so a list changed during a rescan is
    scanned again with the new list.
    """
    report = RescanReport()
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_try_advisory_lock(%s)", [RESCAN_LOCK])
        if not cursor.fetchone()[0]:
            report.skipped = True
            return report
    try:
        bounds = FollowUp.objects.aggregate(first=Min("pk"), last=Max("pk"))
        if bounds["first"] is None:
            return report
        low = max(bounds["first"], first or 0)
        top = min(bounds["last"], last) if last is not None else bounds["last"]
        matcher = current_matcher()
        while low <= top:
            high = low + batch - 1
            rows = FollowUp.objects.filter(pk__gte=low, pk__lte=high).values_list(
                "pk", "content").iterator(chunk_size=5000)
            hits = []
            for pk, content in rows:
                report.scanned += 1
                hits.extend(_hits(matcher, pk, content))
            with transaction.atomic():
                SensitiveHit.objects.filter(followup_id__gte=low, followup_id__lte=high).delete()
                SensitiveHit.objects.bulk_create(hits, batch_size=5000)
            report.hits += len(hits)
            low = high + 1
    finally:
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_unlock(%s)", [RESCAN_LOCK])
    return report
