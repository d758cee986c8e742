"""Customers and their contacts: lists, pages, edits, transfers, merges, grading and the
masking of contact methods (forms, selectors, services, views, urls), and customers as a
collision source of lead intake (``collisions``)."""
