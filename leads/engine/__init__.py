"""The rule engine's decisions, as plain functions over plain data (no ORM).

* ``routing``: which sub-pool a waiting lead goes to (first matching rule wins);
* ``strategies``: who receives the next lead of a pool (round-robin with a persistent
  pointer, smooth weighted round-robin, least-loaded) among the eligible members;
* ``clock``: when an owned lead (or opportunity) is due to be recycled, by which rule, and
  when its owner is warned.

``leads.pools`` loads the facts these functions need in a few set-based queries,
calls them, and writes their decisions back set-based. Keeping the decisions here makes
them cheap to run in bulk and testable with property-based tests.
"""
