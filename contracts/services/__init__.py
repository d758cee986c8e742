"""Writes of orders, contracts, allocations, approvals, payments and renewals, a module
per topic: ``orders``, ``agreements`` (contracts, attachments, allocations), ``approvals``,
``payments``, ``renewals`` (and expiry), ``handover`` (what other apps are given), and
``common``.

Every write is one atomic function: it validates, locks the rows it changes in a fixed
order, writes, and defers notifications to after the commit. Money is Decimal throughout;
totals are recomputed here from the lines, never taken from a form.
"""
