"""The pool engine at work: routing, automatic assignment, the first-touch SLA, recycling
and its warnings — for leads and, through the same code, opportunities (any registered
pool subject, ``leads.subjects``).

One module per concern: ``config`` (budgets, notices, the run report, configured rules
and caps), ``due`` (due times), ``candidates``, ``assign``, ``route``, ``sweeps`` (the
clock: leave, warnings, due sweeps), ``recycle``, ``runs`` (tick, recycle run,
arrivals), ``previews`` and ``extensions``.

Every function here is safe to run twice at the same moment and while reps click:

* rows are taken with ``SELECT … FOR UPDATE SKIP LOCKED`` in short transactions (one
  batch each), so a second run skips what the first holds, and a killed worker's batch
  is rolled back and simply redone by the next run;
* a pool is assigned by one run at a time (its row is locked, skip-locked), and the
  receiving reps' rows are locked before any lead, in id order — the same order a claim
  takes them — so caps checked here cannot be raced by a claim;
* work is set-based: one statement updates the batch and inserts its events
  (``crm_site.lib.bulk.update_and_log``; a recycle batch also takes its records in the
  same statement, ``recycle._recycle_batch``), each ownership or pool change writing exactly one
  event in the same transaction;
* due times live in indexed columns (``recycle_due_at``, ``recycle_warn_at``) kept up to
  date by ``refresh_due`` whenever a record's facts change, and are swept — no Celery
  ETAs.

The decisions themselves are the plain functions of ``leads.engine``.

Budget: a sweep's batch is ``BATCH`` records, an assignment's ``ASSIGN_BATCH`` — a few
MB of parameters and ~0.15 s (sweep) to ~0.8 s (assignment) of database work on 2 cores.
"""
